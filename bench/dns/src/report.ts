/**
 * The benchmark's report: markdown tables of absolute numbers and, for each
 * goal, the figure measured in this run next to the original approach's
 * and whether the goal is met.
 */
import { rate, WATCH_QUERY_TIMEOUT_MS, type QueriesUnderUpdates, type SubjectResults, type UpdateLatency } from './measurements.js';
import { largestSize, type Workload } from './options.js';

/** What the report says about where it ran. */
export interface Machine {
  readonly cores: number;
  readonly cpu: string;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly dnsmasq: string;
  /** One-minute load averages when the run began and when it ended. */
  readonly loadAtStart: number;
  readonly loadAtEnd: number;
}

export interface Report {
  readonly command: string;
  readonly machine: Machine;
  readonly workload: Workload;
  readonly quick: boolean;
  readonly daemon: SubjectResults;
  readonly baseline: SubjectResults;
}

/** The goals of update-to-answer after the call returns, ms. */
export const GOALS = { p50: 10, p99: 50 } as const;

function ms(value: number): string {
  return value >= 100 ? count(Math.round(value)) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function ratio(value: number): string {
  return value >= 10 ? count(Math.round(value)) : value.toFixed(2);
}

function count(value: number): string {
  return value.toLocaleString('en-US');
}

function met(ok: boolean): string {
  return ok ? 'yes' : '**no**';
}

function percent(part: number, whole: number): string {
  return `${Math.round((100 * part) / whole)} %`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)];
}

/** Queries of a measurement 2 pass that got no right answer. */
function failed(pass: QueriesUnderUpdates): number {
  return pass.client.unanswered + pass.client.wrong;
}

function atSize(latency: readonly UpdateLatency[], size: number): UpdateLatency {
  const found = latency.find((l) => l.size === size);
  if (found === undefined) throw new Error(`no update latency measured at ${size} names`);
  return found;
}

function goals(report: Report): string[] {
  const { daemon, baseline, workload } = report;
  const largest = largestSize(workload);
  const latencyGoals = workload.sizes.flatMap((size) => {
    const [ours, original] = [atSize(daemon.latency, size), atSize(baseline.latency, size)];
    return (['p50', 'p99'] as const).map((p) => [
      `1. a new name answers after the call returns, ${p} with ${count(size)} names, ms`,
      ms(ours.afterReturn[p]),
      ms(original.afterReturn[p]),
      `< ${GOALS[p]}`,
      met(ours.afterReturn[p] < GOALS[p]),
    ]);
  });
  const [oursLargest, originalLargest] = [atSize(daemon.latency, largest), atSize(baseline.latency, largest)];
  const failedGoals = daemon.underUpdates.map((ours, i) => {
    const original = baseline.underUpdates[i];
    if (original === undefined || original.namesBefore !== ours.namesBefore) throw new Error(`the original has no pass from ${ours.namesBefore} names`);
    return [
      `2. failed queries while names are added to ${count(ours.namesBefore)} (${count(ours.updates)} updates; original ${count(original.updates)})`,
      `${count(failed(ours))} of ${count(ours.client.sent)}`,
      `${count(failed(original))} of ${count(original.client.sent)}`,
      '0',
      met(failed(ours) === 0),
    ];
  });
  const [oursRate, originalRate] = [rate(daemon.throughput.best), rate(baseline.throughput.best)];
  return table(
    ['measurement', daemon.name, baseline.name, 'goal', 'met'],
    [
      ...latencyGoals,
      [
        `1. a new name answers after the call starts, p50 with ${count(largest)} names, ms (original ÷ ours)`,
        `${ms(oursLargest.afterStart.p50)} (${ratio(originalLargest.afterStart.p50 / oursLargest.afterStart.p50)}x)`,
        ms(originalLargest.afterStart.p50),
        'below the original',
        met(oursLargest.afterStart.p50 < originalLargest.afterStart.p50),
      ],
      ...failedGoals,
      [
        `4. answers per second with ${count(daemon.throughput.names)} names (ours ÷ original)`,
        `${count(Math.round(oursRate))} (${ratio(oursRate / originalRate)}x)`,
        count(Math.round(originalRate)),
        'reference',
        'n/a',
      ],
    ],
  );
}

function latencyTable(subjects: readonly SubjectResults[]): string[] {
  return table(
    ['subject', 'names', 'updates', 'call p50', 'call p99', 'after return p50', 'after return p99', 'after start p50', 'after start p99'],
    subjects.flatMap(({ name, latency }) =>
      latency.map((l) => [
        name,
        count(l.size),
        count(l.updates),
        ms(l.call.p50),
        ms(l.call.p99),
        ms(l.afterReturn.p50),
        ms(l.afterReturn.p99),
        ms(l.afterStart.p50),
        ms(l.afterStart.p99),
      ]),
    ),
  );
}

function underUpdatesTable(subjects: readonly SubjectResults[]): string[] {
  return table(
    ['subject', 'names before', 'updates', 'updates took, s', 'last name answered after, ms', 'queries', 'answered', 'unanswered', 'wrong', 'outages', 'longest outage, ms', 'one dnsmasq all run'],
    subjects.flatMap(({ name, underUpdates, sameResolver }) => underUpdates.map((u) => [
      name,
      count(u.namesBefore),
      count(u.updates),
      (u.elapsedMs / 1000).toFixed(1),
      ms(u.catchUpMs),
      count(u.client.sent),
      count(u.client.answered),
      count(u.client.unanswered),
      count(u.client.wrong),
      count(u.client.outages),
      ms(u.client.longestOutageMs),
      sameResolver ? 'yes' : 'no',
    ])),
  );
}

function throughputTable(subjects: readonly SubjectResults[]): string[] {
  return table(
    ['subject', 'names', 'answers/s', 'unanswered', 'wrong', 'dnsmasq CPU', 'client CPU', 'answers per dnsmasq CPU-second'],
    subjects.map(({ name, throughput: t }) => [
      name,
      count(t.names),
      count(Math.round(rate(t.best))),
      count(t.unanswered),
      count(t.wrong),
      percent(t.best.serverCpuMs, t.best.elapsedMs),
      percent(t.best.clientCpuMs, t.best.elapsedMs),
      t.best.serverCpuMs > 0 ? count(Math.round((t.best.answered * 1000) / t.best.serverCpuMs)) : 'n/a',
    ]),
  );
}

/** The whole report as markdown. */
export function renderReport(report: Report): string {
  const { machine: m, workload: w, daemon, baseline } = report;
  const subjects = [daemon, baseline];
  const lines = [
    ...(report.quick ? ['**--quick: tiny numbers that only show the harness works; they measure nothing.**', ''] : []),
    '## Goals',
    '',
    ...goals(report),
    '',
    '## 1. From a change adding a name to the name answering, ms',
    '',
    ...latencyTable(subjects),
    '',
    'Each change adds one name to those in place; then a client in the container asks the gateway for it (UDP, asking again',
    `as soon as each answer arrives, or after ${WATCH_QUERY_TIMEOUT_MS} ms without one) until the answer holds its address. The name is then`,
    'removed, untimed (the original: rewrite and restart without the pause), and the next change starts once it has gone.',
    '',
    '## 2. Queries for names that exist throughout, while names are added',
    '',
    ...underUpdatesTable(subjects),
    '',
    `The client asks the first ${w.steadyNames} preloaded names (all, when fewer) in turn, ${count(w.steadyQueriesPerSecond)} queries per second over UDP whatever the answers,`,
    `each unanswered after ${count(w.queryTimeoutMs)} ms counted as unanswered; the changes run back to back. The client asks from before`,
    `the first change until ${count(w.steadySettleMs)} ms after the last change's name answered, which it did the time shown after that change returned.`,
    'An outage runs from the first failed query to the next answered one. After each pass its names are removed, untimed.',
    '',
    '## 4. Answers per second on the gateway',
    '',
    ...throughputTable(subjects),
    '',
    `UDP queries for the preloaded names in turn, ${w.floodParallel} in flight, from one client process in the container;`,
    `best of ${w.floodRounds} round(s) of ${count(w.floodRoundMs)} ms after ${count(w.floodWarmupMs)} ms of warm-up. CPU is of one core, during the best round;`,
    'when the client is near 100 %, it is the limit, and answers per dnsmasq CPU-second tell more about dnsmasq.',
    '',
    '## Run',
    '',
    `- command: \`${report.command}\``,
    `- machine: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}, ${m.dnsmasq}`,
    `- load average (1 min): ${m.loadAtStart.toFixed(2)} at the start, ${m.loadAtEnd.toFixed(2)} at the end`,
    '',
  ];
  return lines.join('\n');
}
