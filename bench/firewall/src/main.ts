#!/usr/bin/env node
/**
 * bench-firewall: port publishing through the router-service daemon, each
 * figure next to the original approach (one `iptables -t nat -A` per port
 * into one linear chain) measured in the same run, in throwaway network
 * namespaces (root needed). Prints a markdown report on stdout and progress
 * on stderr.
 *
 * Exit codes: 0 after a complete run, 1 when a step fails, 2 for a bad
 * command line, 130 when interrupted (SIGINT, SIGTERM), after removing
 * what the run made.
 */
import { cpus, release } from 'node:os';
import { runChecked } from '@router-service/test-support';
import { BaselinePublisher } from './baseline.js';
import { DaemonPublisher } from './daemon-publisher.js';
import { measure, type Progress, type SubjectResults } from './measurements.js';
import { parseOptions, USAGE, UsageError, type BenchOptions } from './options.js';
import { containerPorts } from './ports.js';
import type { Publisher } from './publisher.js';
import { renderReport, type Machine } from './report.js';
import { CONTAINER_IP, Topology } from './topology.js';
import { TcpTarget } from './traffic.js';
import { Cleanups } from './cleanups.js';
import { runMeasuring } from './program.js';

const NFT = '/usr/sbin/nft';

async function version(program: string): Promise<string> {
  return (await runChecked(program, ['--version'])).stdout.trim();
}

async function describeMachine(options: BenchOptions): Promise<Machine> {
  return { cores: cpus().length, kernel: release(), nft: await version(NFT), iptables: await version(options.baselineIptables) };
}

const made = new Cleanups('bench-firewall');

/** Runs every measurement against the publisher `start` makes in a fresh topology, then removes it all. */
async function measureIn(
  options: BenchOptions,
  progress: Progress,
  start: (topology: Topology) => Promise<Publisher>,
): Promise<SubjectResults> {
  try {
    const topology = await Topology.create();
    made.push(() => topology.delete());
    const target = await TcpTarget.start(topology.container, CONTAINER_IP, containerPorts(options.workload.rangeLength));
    made.push(() => target.stop());
    const publisher = await start(topology);
    made.push(() => publisher.close());
    return await measure(publisher, topology, options.workload, progress);
  } finally {
    await made.unwind();
  }
}

async function main(args: readonly string[]): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`bench-firewall: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  return runMeasuring('bench-firewall', made, async (progress) => {
    const machine = await describeMachine(options);
    const daemon = await measureIn(options, progress, (topology) => DaemonPublisher.start(topology.router, options.backend));
    const baseline = await measureIn(options, progress, async (topology) => {
      await topology.configureGateway();
      return BaselinePublisher.start(topology.router, options.baselineIptables, CONTAINER_IP);
    });
    const command = ['node bench/firewall/dist/src/main.js', ...args].join(' ');
    return renderReport({ command, machine, workload: options.workload, daemon, baseline });
  });
}

process.exit(await main(process.argv.slice(2)));
