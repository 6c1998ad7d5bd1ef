// Plays a previous run of the daemon for the stale-process test: syncs the
// networks given as JSON in argv[2], prints the pids of their dnsmasq and
// waits to be killed. Killed with SIGKILL, it leaves its dnsmasq running,
// as a crashed daemon would.
import { createDnsmasqBackend } from '../src/index.js';
import { dnsState, type DnsNetworkSpec } from './fixtures.js';

interface PreviousRun {
  readonly stateDir: string;
  readonly netns: string;
  readonly upstreams: readonly string[];
  readonly networks: readonly DnsNetworkSpec[];
}

const run = JSON.parse(process.argv[2] ?? '{}') as PreviousRun;
const backend = createDnsmasqBackend({ stateDir: run.stateDir, netns: run.netns, upstreams: run.upstreams });
await backend.sync(run.networks.map(dnsState));
process.stdout.write(`${JSON.stringify(Object.fromEntries(run.networks.map((n) => [n.vlan, backend.pidOf(n.vlan)])))}\n`);
setInterval(() => undefined, 60_000);
