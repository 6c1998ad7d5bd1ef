#!/usr/bin/env node
/**
 * bench-dns: container DNS through the router-service daemon, each figure
 * next to the original approach (rewrite dnsmasq's configuration, kill -9,
 * sleep a second, start it again) measured in the same run, in throwaway
 * network namespaces (root needed). Prints a markdown report on stdout and
 * progress on stderr.
 *
 * Exit codes: 0 after a complete run, 1 when a step fails, 2 for a bad
 * command line, 130 when interrupted (SIGINT, SIGTERM), after removing
 * what the run made.
 */
import { CLIENT_IP, GATEWAY, Topology } from '@router-service/bench-firewall/topology';
import { FakeUpstream, queryDnsIn } from '@router-service/test-support';
import { DaemonDns } from './daemon-dns.js';
import { describeMachine, loadNow } from './machine.js';
import { measure, type Progress, type SubjectResults } from './measurements.js';
import { parseOptions, USAGE, UsageError, type BenchOptions } from './options.js';
import { OriginalDns } from './original-dns.js';
import { renderReport } from './report.js';
import type { DnsSubject } from './subject.js';
import { Cleanups } from '@router-service/bench-firewall/cleanups';
import { runMeasuring } from '@router-service/bench-firewall/program';

/** A name only the fake upstream knows: the daemon's resolver must forward it. */
const OUTSIDE = { name: 'outside.example', address: '192.0.2.10' };

const made = new Cleanups('bench-dns');

/** Runs every measurement against the subject `start` makes in a fresh topology, then removes it all. */
async function measureIn(
  updates: number,
  options: BenchOptions,
  progress: Progress,
  start: (topology: Topology) => Promise<DnsSubject>,
): Promise<SubjectResults> {
  try {
    const topology = await Topology.create();
    made.push(() => topology.delete());
    const subject = await start(topology);
    made.push(() => subject.close());
    return await measure(subject, topology, updates, options.workload, progress);
  } finally {
    await made.unwind();
  }
}

/** The daemon, forwarding to a fake upstream on the client's side of the uplink; checks that it does. */
async function startDaemon(topology: Topology, options: BenchOptions): Promise<DnsSubject> {
  const upstream = await FakeUpstream.start(topology.client.name, CLIENT_IP, 0, { [OUTSIDE.name]: [OUTSIDE.address] });
  made.push(() => upstream.stop());
  const daemon = await DaemonDns.start(topology.router, options.dnsmasq, `${CLIENT_IP}#${upstream.port}`);
  try {
    // DNS starts with the network's first ConfigureDNS, here without names.
    await daemon.preload([]);
    const [result] = await queryDnsIn(topology.container.name, GATEWAY, [{ transport: 'udp', type: 'A', name: OUTSIDE.name }]);
    if (result?.rcode !== 'NOERROR' || !result.answers.includes(OUTSIDE.address) || !(await upstream.saw(OUTSIDE.name))) {
      throw new Error(`the daemon's resolver did not forward ${OUTSIDE.name} to the fake upstream: ${JSON.stringify(result)}`);
    }
    return daemon;
  } catch (error) {
    await daemon.close();
    throw error;
  }
}

async function main(args: readonly string[]): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`bench-dns: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  return runMeasuring('bench-dns', made, async (progress) => {
    const loadAtStart = loadNow();
    const { workload } = options;
    const daemon = await measureIn(workload.updates, options, progress, (topology) => startDaemon(topology, options));
    const baseline = await measureIn(workload.baselineUpdates, options, progress, async (topology) => {
      await topology.configureGateway();
      return OriginalDns.create(topology.router, options.dnsmasq, GATEWAY);
    });
    const machine = await describeMachine(options.dnsmasq, loadAtStart);
    const command = ['node bench/dns/dist/src/main.js', ...args].join(' ');
    return renderReport({ command, machine, workload, quick: options.quick, daemon, baseline });
  });
}

process.exit(await main(process.argv.slice(2)));
