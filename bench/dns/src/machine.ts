/** Where the benchmark runs, as the report describes it. */
import { cpus, loadavg, release, totalmem } from 'node:os';
import { runChecked } from '@router-service/test-support';
import type { Machine } from './report.js';

/** The one-minute load average now. */
export function loadNow(): number {
  return loadavg()[0] ?? 0;
}

/** The machine, with `loadAtStart` taken when the run began and the end's load now. */
export async function describeMachine(dnsmasq: string, loadAtStart: number): Promise<Machine> {
  const version = (await runChecked(dnsmasq, ['--version'])).stdout.split('\n')[0] ?? '';
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.versions.node,
    dnsmasq: version.replace(/\s+Copyright.*$/, ''),
    loadAtStart,
    loadAtEnd: loadNow(),
  };
}
