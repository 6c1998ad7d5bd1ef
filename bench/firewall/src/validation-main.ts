#!/usr/bin/env node
/**
 * bench-firewall-validation: the time iptables-nft-restore takes to append
 * one DNAT rule to router-service's own ruleset with few and with many
 * published ports, the DNAT rules reached from nat PREROUTING alone and
 * from PREROUTING and OUTPUT as the backend has them (see validation.ts).
 * Each ruleset lives in its own throwaway namespace (root needed); the
 * appends take turns across them, so that a noisy moment hits all alike.
 * Prints a markdown report on stdout and progress on stderr.
 *
 * Exit codes: 0 after a complete run, 1 when a step fails, 2 for a bad
 * command line, 130 when interrupted (SIGINT, SIGTERM), after removing
 * the namespaces.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Netns, runChecked } from '@router-service/test-support';
import { Cleanups } from './cleanups.js';
import type { Progress } from './measurements.js';
import { runMeasuring } from './program.js';
import { count, ms, ratio, table } from './report.js';
import { quantile, timed } from './stats.js';
import { REACHES, appendInput, rulesetWith, type Reach } from './validation.js';

const RESTORE = '/usr/sbin/iptables-nft-restore';
const USAGE = `Usage: bench-firewall-validation [--quick]

  --quick   tiny sizes and few appends: checks that the harness works, its numbers mean nothing
`;

interface Workload {
  readonly sizes: readonly [small: number, large: number];
  readonly appends: number;
}

const FULL: Workload = { sizes: [10, 10_000], appends: 100 };
const QUICK: Workload = { sizes: [10, 200], appends: 4 };

const REACH_LABELS: Readonly<Record<Reach, string>> = {
  prerouting: 'nat PREROUTING',
  'prerouting-and-output': 'nat PREROUTING and OUTPUT (as the backend has them)',
};

/** One ruleset in its namespace, and the milliseconds each timed append took. */
interface Subject {
  readonly reach: Reach;
  readonly size: number;
  readonly netns: Netns;
  readonly samples: number[];
}

const made = new Cleanups('bench-firewall-validation');

async function restore(netns: Netns, file: string): Promise<void> {
  const result = await netns.exec(RESTORE, ['--noflush', file]);
  if (result.code !== 0) throw new Error(`${RESTORE} in ${netns.name}: ${result.stderr.trim()}`);
}

async function run(workload: Workload, progress: Progress): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-firewall-validation-'));
  made.push(() => rm(dir, { recursive: true, force: true }));
  const subjects: Subject[] = [];
  for (const reach of REACHES) {
    for (const size of workload.sizes) {
      progress(`loading ${size} published ports reached from ${REACH_LABELS[reach]}`);
      const netns = await Netns.create();
      made.push(() => netns.delete());
      const file = join(dir, `${reach}-${size}.rules`);
      await writeFile(file, rulesetWith(size, reach));
      await restore(netns, file);
      subjects.push({ reach, size, netns, samples: [] });
    }
  }
  progress(`timing ${workload.appends} appends in each of ${subjects.length} rulesets, taking turns`);
  for (let n = 0; n < workload.appends; n++) {
    const file = join(dir, `append-${n}.rules`);
    await writeFile(file, appendInput(n));
    for (const subject of subjects) subject.samples.push(await timed(() => restore(subject.netns, file)));
  }
  const [small, large] = workload.sizes;
  const p50 = (reach: Reach, size: number) => quantile(subjects.find((s) => s.reach === reach && s.size === size)?.samples ?? [], 0.5);
  const rows = REACHES.map((reach) => [REACH_LABELS[reach], ms(p50(reach, small)), ms(p50(reach, large)), ratio(p50(reach, large) / p50(reach, small))]);
  const iptables = (await runChecked(RESTORE, ['--version'])).stdout.trim();
  return [
    '## One DNAT rule appended by iptables-nft-restore, ms (p50)',
    '',
    ...table(['the DNAT rules are reached from', `with ${count(small)} published`, `with ${count(large)} published`, `${count(large)} ÷ ${count(small)}`], rows),
    '',
    `${workload.appends} appends in each ruleset, one exec of \`${RESTORE} --noflush\` each, taking turns across the rulesets.`,
    '',
    '## Run',
    '',
    `- command: \`node bench/firewall/dist/src/validation-main.js${workload === QUICK ? ' --quick' : ''}\``,
    `- machine: Linux ${release()}, ${iptables}`,
    '',
  ].join('\n');
}

async function main(args: readonly string[]): Promise<number> {
  const unknown = args.filter((arg) => arg !== '--quick');
  if (unknown.length > 0) {
    process.stderr.write(`bench-firewall-validation: unknown argument ${unknown[0]}\n\n${USAGE}`);
    return 2;
  }
  return runMeasuring('bench-firewall-validation', made, (progress) => run(args.includes('--quick') ? QUICK : FULL, progress));
}

process.exit(await main(process.argv.slice(2)));
