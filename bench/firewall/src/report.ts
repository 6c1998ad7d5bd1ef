/**
 * The benchmark's report: markdown tables of absolute numbers and, for each
 * goal, the ratio measured in this run and whether it is met.
 */
import type { ConnectionRates, LatencyAtSize, SubjectResults } from './measurements.js';
import type { Workload } from './options.js';
import { quantile } from './stats.js';

/** What the report says about where it ran. */
export interface Machine {
  readonly cores: number;
  readonly kernel: string;
  readonly nft: string;
  readonly iptables: string;
}

export interface Report {
  readonly command: string;
  readonly machine: Machine;
  readonly workload: Workload;
  readonly daemon: SubjectResults;
  readonly baseline: SubjectResults;
}

export function ms(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

export function ratio(value: number): string {
  return value >= 10 ? value.toFixed(0) : value.toFixed(2);
}

export function count(value: number): string {
  return value.toLocaleString('en-US');
}

function median(samples: readonly number[]): number {
  return quantile(samples, 0.5);
}

function met(ok: boolean): string {
  return ok ? 'yes' : '**no**';
}

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)];
}

function atSize(latency: readonly LatencyAtSize[], size: number): LatencyAtSize {
  const found = latency.find((l) => l.size === size);
  if (found === undefined) throw new Error(`no latency measured at ${size}`);
  return found;
}

function goals(report: Report): string[] {
  const { daemon, baseline, workload } = report;
  const smallest = workload.sizes[0] as number;
  const largest = workload.sizes[workload.sizes.length - 1] as number;
  const [ours0, oursN, base0, baseN] = [atSize(daemon.latency, smallest), atSize(daemon.latency, largest), atSize(baseline.latency, smallest), atSize(baseline.latency, largest)];
  const flatAdd = oursN.add.p50 / ours0.add.p50;
  const flatRemove = oursN.remove.p50 / ours0.remove.p50;
  const [oursAdds, baseAdds] = [median(daemon.concurrentAddRoundsMs), median(baseline.concurrentAddRoundsMs)];
  const speedup2 = baseAdds / oursAdds;
  const [keptOurs, keptBase] = [keptRate(daemon.connections), keptRate(baseline.connections)];
  const range = daemon.range;
  const rangeMs = range.kind === 'measured' ? range.addMs : undefined;
  const baseRange = baseline.range.kind === 'measured' ? ms(baseline.range.addMs) : 'n/a';
  return table(
    ['measurement', daemon.name, baseline.name, 'goal', 'met'],
    [
      [`1. AddPortMapping p50 at ${count(largest)} / at ${count(smallest)}`, ratio(flatAdd), ratio(baseN.add.p50 / base0.add.p50), '≤ 1.5', met(flatAdd <= 1.5)],
      [`1. RemovePortMapping p50 at ${count(largest)} / at ${count(smallest)}`, ratio(flatRemove), ratio(baseN.remove.p50 / base0.remove.p50), '≤ 1.5', met(flatRemove <= 1.5)],
      [`1. AddPortMapping p50 at ${count(largest)}, ms`, ms(oursN.add.p50), ms(baseN.add.p50), 'below the original', met(oursN.add.p50 < baseN.add.p50)],
      [`1. RemovePortMapping p50 at ${count(largest)}, ms`, ms(oursN.remove.p50), ms(baseN.remove.p50), 'below the original', met(oursN.remove.p50 < baseN.remove.p50)],
      [
        `2. ${count(workload.concurrentAdds)} AddPortMapping from ${workload.concurrentClients} clients, ms (original ÷ ours)`,
        `${ms(oursAdds)} (${ratio(speedup2)}x)`,
        ms(baseAdds),
        '≥ 10x',
        met(speedup2 >= 10),
      ],
      ...(daemon.concurrentNoWorkRoundsMs === undefined
        ? []
        : [
            [
              `2. the same number of calls doing no work (ListVLANs of an absent VLAN), ms (original ÷ these: the most measurement 2 can show)`,
              `${ms(median(daemon.concurrentNoWorkRoundsMs))} (${ratio(baseAdds / median(daemon.concurrentNoWorkRoundsMs))}x)`,
              'n/a',
              'reference',
              'n/a',
            ],
          ]),
      [`3. new connections/s with ${count(daemon.connections.size)} mappings ÷ with the target alone (median of ${workload.connectionPairs} pairs)`, ratio(keptOurs), ratio(keptBase), '≥ 0.9', met(keptOurs >= 0.9)],
      [
        `4. one ${count(workload.rangeLength)}-port range in one call, ms (original: one exec per port)`,
        rangeMs === undefined ? 'pending' : ms(rangeMs),
        baseRange,
        '< 1000',
        rangeMs === undefined ? 'pending' : met(rangeMs < 1000),
      ],
    ],
  );
}

function latencyTable(subjects: readonly SubjectResults[], sizes: readonly number[]): string[] {
  const header = ['subject', 'call', ...sizes.flatMap((size) => [`p50 at ${count(size)}`, `p99 at ${count(size)}`])];
  const rows = subjects.flatMap((subject) =>
    (['add', 'remove'] as const).map((call) => [
      subject.name,
      call === 'add' ? 'add' : 'remove',
      ...sizes.flatMap((size) => {
        const at = atSize(subject.latency, size)[call];
        return [ms(at.p50), ms(at.p99)];
      }),
    ]),
  );
  return table(header, rows);
}

function roundsTable(subjects: readonly SubjectResults[]): string[] {
  const rounds = (times: readonly number[] | undefined) => (times === undefined ? 'n/a' : times.map(ms).join(', '));
  return table(
    ['subject', 'adds, ms per round', 'calls doing no work, ms per round'],
    subjects.map((s) => [s.name, rounds(s.concurrentAddRoundsMs), rounds(s.concurrentNoWorkRoundsMs)]),
  );
}

/** Measurement 3's figure: the median of the pairs' ratios. */
function keptRate(rates: ConnectionRates): number {
  return median(rates.pairs.map((p) => p.crowded / p.alone));
}

function connectionTable(subjects: readonly SubjectResults[]): string[] {
  return table(
    ['subject', 'pair', 'conn/s, with the others', 'conn/s, target alone', 'ratio'],
    subjects.flatMap((s) =>
      s.connections.pairs.map((p, i) => [s.name, String(i + 1), count(Math.round(p.crowded)), count(Math.round(p.alone)), ratio(p.crowded / p.alone)]),
    ),
  );
}

/** The whole report as markdown. */
export function renderReport(report: Report): string {
  const { machine, workload, daemon, baseline } = report;
  const subjects = [daemon, baseline];
  const lines = [
    '## Goals',
    '',
    ...goals(report),
    '',
    '## 1. Latency of one call, ms',
    '',
    ...latencyTable(subjects, workload.sizes),
    '',
    `${workload.latencySamples} add-then-remove pairs per size, half with the sizes rising, half with them falling again.`,
    '',
    `## 2. ${count(workload.concurrentAdds)} calls from ${workload.concurrentClients} clients`,
    '',
    ...roundsTable(subjects),
    '',
    `The goals table shows the median of the ${workload.concurrentRounds} timed round(s), which follow one untimed round.`,
    '',
    '## 3. New TCP connections per second through the target mapping',
    '',
    ...connectionTable(subjects),
    '',
    `${count(workload.connections)} connections per round, ${workload.connectionParallelism} at a time, best of ${workload.connectionRounds} round(s) per rate. ` +
      `Each pair takes the rate with the other ${count(daemon.connections.size)} mappings in place, then the rate with the target alone; ` +
      `the goals table shows the median of the ${workload.connectionPairs} pairs' ratios.`,
    '',
    '## Run',
    '',
    `- command: \`${report.command}\``,
    `- machine: ${machine.cores} cores, Linux ${machine.kernel}, ${machine.nft}, ${machine.iptables}`,
    '',
  ];
  if (daemon.range.kind === 'pending') lines.push(`Measurement 4 is pending: ${daemon.range.reason}.`, '');
  return lines.join('\n');
}
