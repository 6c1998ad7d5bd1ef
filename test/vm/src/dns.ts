/**
 * Container DNS on real VLANs: the dnsmasq the daemon runs on each
 * network's gateway, asked with real packets from the containers (the
 * bundled DNS tool, run inside their namespaces), forwarding other names
 * through the uplink to a fake upstream resolver on the outside host that
 * records every query it gets. No real resolver is ever asked.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigureDNSRequest, DeleteVLANRequest, DNSHost, RemoveDNSHostsRequest } from '@router-service/proto';
import { dnsToolArgv, FakeUpstream, reverseName, runChecked, type DnsResult } from '@router-service/test-support';
import { errorOf, settle, shown, type Checks } from './checks.js';
import type { RouterCalls } from './client.js';
import { waitFor } from './command.js';
import { net100, net200, outside, type TestNetwork } from './topology.js';

const dnsmasqBin = '/usr/sbin/dnsmasq';

/** The names the fake upstream knows; it answers NXDOMAIN for any other. */
const upstreamNames: Readonly<Record<string, readonly string[]>> = {
  'web.example.net': ['203.0.113.80'],
  'api.example.net': ['203.0.113.81'],
};

/** startUpstream starts the fake upstream resolver on the outside host's address, port 53. */
export function startUpstream(): Promise<FakeUpstream> {
  return FakeUpstream.start(outside.namespace, outside.address, 53, upstreamNames);
}

/** The upstream the daemon's dnsmasq forwards to, as the config file's dns.upstreams. */
export const upstreams: readonly string[] = [outside.address];

/** A network's DNS as the scenario configures it. */
interface NetworkNames {
  readonly network: TestNetwork;
  readonly domain: string;
  /** One address each; names that share one are aliases. */
  readonly hosts: Readonly<Record<string, string>>;
  /** Names with several addresses, answered round robin (host_addresses). */
  readonly roundRobin: Readonly<Record<string, readonly string[]>>;
}

const frontend: NetworkNames = {
  network: net100,
  domain: 'frontend',
  hosts: { web: '172.18.0.2', www: '172.18.0.2' },
  roundRobin: { api: ['172.18.0.10', '172.18.0.11'] },
};

const backend: NetworkNames = {
  network: net200,
  domain: 'backend',
  hosts: { db: '172.19.0.2' },
  roundRobin: {},
};

/** The ConfigureDNS requests that give both networks their names; repeating them changes nothing. */
export function configureDnsRequests(): { readonly label: string; readonly request: ConfigureDNSRequest }[] {
  return [frontend, backend].map((names) => ({
    label: `ConfigureDNS ${names.network.vlan} (domain ${names.domain})`,
    request: ConfigureDNSRequest.create({
      vlanId: names.network.vlan,
      subnet: names.network.subnet,
      gateway: names.network.gateway,
      domain: names.domain,
      hosts: { ...names.hosts },
      hostAddresses: Object.entries(names.roundRobin).map(([name, addresses]) => DNSHost.create({ name, addresses: [...addresses] })),
    }),
  }));
}

/** How long a question waits for its answer; one that should go unanswered costs this much. */
const answerTimeoutMs = 3_000;
/** How long a change of names or a restart may take to show in the answers. */
const settleTimeoutMs = 30_000;

/**
 * An outcome as the checks compare it: the answer's records sorted and
 * joined (addresses, or the name of a PTR), or the response code when
 * there are none; undefined when no answer came at all.
 */
export type DnsOutcome = string | undefined;

function outcomeOf(result: DnsResult): DnsOutcome {
  if (result.rcode === 'TIMEOUT' || result.rcode === 'ERROR') {
    return undefined;
  }
  if (result.rcode !== 'NOERROR') {
    return result.rcode;
  }
  return result.answers.length === 0 ? 'NOERROR without records' : [...result.answers].sort().join(',');
}

/**
 * askFrom asks each question (udp|tcp:A|PTR:NAME) in turn of the server,
 * from inside the namespace, in one run of the DNS tool: starting Node is
 * what costs time under emulation. It never rejects: a failed run makes
 * every outcome an error text, which no check expects.
 */
export async function askFrom(namespace: string, server: string, questions: readonly string[]): Promise<DnsOutcome[]> {
  const results = await settle(queryTool(namespace, server, questions));
  if (results.error !== null) {
    return questions.map(() => `error: ${results.error.message}`);
  }
  return results.value.map(outcomeOf);
}

/**
 * queryTool runs the DNS tool's query mode and parses its results. The
 * tool bounds each question by the answer timeout, so the run gets no
 * limit of its own: under emulation, and beside other probes, Node's start
 * alone may take many seconds.
 */
async function queryTool(namespace: string, server: string, questions: readonly string[]): Promise<DnsResult[]> {
  const argv = dnsToolArgv(namespace, ['query', server, '53', String(answerTimeoutMs), ...questions]);
  const { stdout } = await runChecked(argv.file, argv.args, { timeoutMs: 0 });
  const results = stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as DnsResult);
  if (results.length !== questions.length) {
    throw new Error(`the DNS tool in ${namespace} printed ${results.length} results for ${questions.length} questions: ${stdout}`);
  }
  return results;
}

function show(outcome: DnsOutcome): string {
  return outcome ?? 'no answer';
}

/** A question and the outcome it should get. */
type Asked = readonly [question: string, expected: DnsOutcome];

/** One named check: questions asked from a network's container of its own gateway. */
interface NameCheck {
  readonly name: string;
  readonly from: NetworkNames;
  readonly asked: readonly Asked[];
}

const nameChecks: readonly NameCheck[] = [
  {
    name: "a container resolves its network's names short and qualified, in any case, over UDP and TCP",
    from: frontend,
    asked: [
      ['udp:A:web', '172.18.0.2'],
      ['tcp:A:web', '172.18.0.2'],
      ['udp:A:web.frontend', '172.18.0.2'],
      ['tcp:A:WEB.FrontEnd', '172.18.0.2'],
      ['udp:A:wEb', '172.18.0.2'],
    ],
  },
  {
    // The first name of an address in address-then-name order answers its PTR.
    name: "the network's addresses answer PTR with their qualified name, over UDP and TCP",
    from: frontend,
    asked: [
      ['udp:PTR:172.18.0.2', 'web.frontend'],
      ['tcp:PTR:172.18.0.2', 'web.frontend'],
    ],
  },
  {
    name: 'aliases answer their shared address; a name with two addresses answers both',
    from: frontend,
    asked: [
      ['udp:A:www', '172.18.0.2'],
      ['tcp:A:www.frontend', '172.18.0.2'],
      ['udp:A:api', '172.18.0.10,172.18.0.11'],
      ['tcp:A:api.frontend', '172.18.0.10,172.18.0.11'],
    ],
  },
  {
    name: "the other network's names are NXDOMAIN on this gateway (VLAN 100)",
    from: frontend,
    asked: [
      ['udp:A:db', 'NXDOMAIN'],
      ['tcp:A:db.backend', 'NXDOMAIN'],
      ['udp:PTR:172.19.0.2', 'NXDOMAIN'],
    ],
  },
  {
    name: 'the second network resolves its own names, and not those of the first (VLAN 200)',
    from: backend,
    asked: [
      ['udp:A:db', '172.19.0.2'],
      ['tcp:A:DB.backend', '172.19.0.2'],
      ['udp:PTR:172.19.0.2', 'db.backend'],
      ['udp:A:web', 'NXDOMAIN'],
      ['tcp:A:web.frontend', 'NXDOMAIN'],
    ],
  },
  {
    name: "missing names under the network's domain and in its subnet are NXDOMAIN",
    from: frontend,
    asked: [
      ['udp:A:missing.frontend', 'NXDOMAIN'],
      ['tcp:A:Missing.FrontEnd', 'NXDOMAIN'],
      ['udp:PTR:172.18.0.99', 'NXDOMAIN'],
    ],
  },
  {
    name: 'outside names are answered by the upstream, through the uplink, over UDP and TCP',
    from: frontend,
    asked: [
      ['udp:A:web.example.net', '203.0.113.80'],
      ['tcp:A:api.example.net', '203.0.113.81'],
    ],
  },
];

/** Names the upstream must have been asked by the checks above. */
const forwarded = ['web.example.net', 'api.example.net'];
/** Names the upstream must never see: the networks' own, bare names and what is missing under a domain or subnet. */
const neverForwarded = ['web', 'www', 'api', 'db', 'missing.frontend', reverseName('172.18.0.99')];

/** Asks every check's questions, one run of the DNS tool per network, all at once. */
async function askNameChecks(): Promise<Map<NameCheck, DnsOutcome[]>> {
  const byNetwork = new Map<NetworkNames, string[]>();
  for (const check of nameChecks) {
    const questions = byNetwork.get(check.from) ?? [];
    questions.push(...check.asked.map(([question]) => question));
    byNetwork.set(check.from, questions);
  }
  const answers = new Map<NetworkNames, DnsOutcome[]>();
  await Promise.all(
    [...byNetwork].map(async ([names, questions]) => {
      answers.set(names, await askFrom(names.network.container, names.network.gateway, questions));
    }),
  );
  const outcomes = new Map<NameCheck, DnsOutcome[]>();
  const offsets = new Map<NetworkNames, number>();
  for (const check of nameChecks) {
    const offset = offsets.get(check.from) ?? 0;
    outcomes.set(check, (answers.get(check.from) ?? []).slice(offset, offset + check.asked.length));
    offsets.set(check.from, offset + check.asked.length);
  }
  return outcomes;
}

/** wrongOutcomes describes each outcome that is not the expected one; [] when all are. */
function wrongOutcomes(asked: readonly Asked[], outcomes: readonly DnsOutcome[]): string[] {
  return asked.flatMap(([question, expected], i) =>
    outcomes[i] === expected ? [] : [`${question}: got ${show(outcomes[i])}, want ${show(expected)}`],
  );
}

/**
 * dnsNames checks name resolution with the names configureDnsRequests
 * gave: every NameCheck, what reached the upstream, and a name added and
 * removed while the same dnsmasq keeps running.
 */
export async function dnsNames(checks: Checks, tag: string, router: RouterCalls, upstream: FakeUpstream, stateDir: string): Promise<void> {
  const outcomes = await askNameChecks();
  for (const check of nameChecks) {
    const wrong = wrongOutcomes(check.asked, outcomes.get(check) ?? []);
    checks.checkThat(`${tag}: ${check.name}`, wrong.length === 0, () => wrong.join('; '));
  }
  const received = await settle(upstream.received());
  const seen = new Set((received.value ?? []).map((query) => query.name.toLowerCase()));
  const missed = forwarded.filter((name) => !seen.has(name));
  const leaked = neverForwarded.filter((name) => seen.has(name));
  checks.checkThat(
    `${tag}: the upstream got the outside names and never a bare name or a missing name of a network's domain or subnet`,
    received.error === null && missed.length === 0 && leaked.length === 0,
    () => received.error?.message ?? `not forwarded: [${missed.join(' ')}]; forwarded: [${leaked.join(' ')}]`,
  );
  await nameChanges(checks, tag, router, stateDir);
}

/** nameChanges adds a name to the first network and removes it: both show without restarting its dnsmasq. */
async function nameChanges(checks: Checks, tag: string, router: RouterCalls, stateDir: string): Promise<void> {
  const { network } = frontend;
  const before = await settle(runningDnsmasq(stateDir, network.vlan));
  checks.checkThat(
    `${tag}: the pid file of VLAN 100's dnsmasq names a running dnsmasq`,
    before.error === null && before.value !== undefined,
    () => before.error?.message ?? 'no dnsmasq with that pid and our pid file',
  );
  const added = await errorOf(
    router.call(
      'configureDns',
      ConfigureDNSRequest.create({
        vlanId: network.vlan,
        subnet: network.subnet,
        gateway: network.gateway,
        domain: frontend.domain,
        hosts: { fresh: '172.18.0.30' },
      }),
    ),
  );
  checks.checkThat(
    `${tag}: a name added by ConfigureDNS answers`,
    added === null && (await answersEventually(network, 'udp:A:fresh.frontend', '172.18.0.30')),
    () => added?.message ?? 'fresh.frontend did not answer 172.18.0.30 in time',
  );
  const removed = await errorOf(router.call('removeDnsHosts', RemoveDNSHostsRequest.create({ vlanId: network.vlan, names: ['fresh'] })));
  checks.checkThat(
    `${tag}: RemoveDNSHosts makes the name NXDOMAIN`,
    removed === null && (await answersEventually(network, 'udp:A:fresh', 'NXDOMAIN')),
    () => removed?.message ?? 'fresh still answers',
  );
  const after = await settle(runningDnsmasq(stateDir, network.vlan));
  checks.checkThat(
    `${tag}: adding and removing names did not restart the dnsmasq`,
    before.value !== undefined && after.value === before.value,
    () => `pid ${String(before.value)} before, ${after.error?.message ?? String(after.value)} after`,
  );
}

/** answersEventually asks the network's gateway until the question gets the outcome, or the time is up. */
function answersEventually(network: TestNetwork, question: string, expected: DnsOutcome): Promise<boolean> {
  return waitFor(settleTimeoutMs, async () => (await askFrom(network.container, network.gateway, [question]))[0] === expected);
}

/**
 * dnsAfterRestart checks, after a restart with another firewall, that both
 * networks' names answer again, and that DeleteVLAN of the second network
 * stops its dnsmasq and removes its files while the first one's runs on.
 */
export async function dnsAfterRestart(checks: Checks, tag: string, router: RouterCalls, stateDir: string): Promise<void> {
  const [first, second] = await Promise.all([
    answersEventually(frontend.network, 'udp:A:web', '172.18.0.2'),
    answersEventually(backend.network, 'tcp:A:db.backend', '172.19.0.2'),
  ]);
  checks.checkThat(`${tag}: both networks' names answer after the restart`, first && second, () =>
    `VLAN 100 ${first ? 'answers' : 'does not answer'}, VLAN 200 ${second ? 'answers' : 'does not answer'}`,
  );
  const [kept, deleted] = await Promise.all([
    settle(runningDnsmasq(stateDir, frontend.network.vlan)),
    settle(runningDnsmasq(stateDir, backend.network.vlan)),
  ]);
  const bothRun = kept.value !== undefined && deleted.value !== undefined;
  checks.checkThat(`${tag}: the pid files of both networks name running dnsmasq processes`, bothRun, () =>
    `VLAN 100: ${kept.error?.message ?? String(kept.value)}, VLAN 200: ${deleted.error?.message ?? String(deleted.value)}`,
  );
  const vlanId = backend.network.vlan;
  const del = await settle(router.call('deleteVlan', DeleteVLANRequest.create({ vlanId })));
  checks.checkThat(`${tag}: DeleteVLAN ${vlanId}`, del.error === null && del.value.success, () => shown(del));
  const pid = deleted.value;
  const dir = networkDir(stateDir, vlanId);
  const stopped = pid !== undefined && (await waitFor(10_000, async () => !(await exists(`/proc/${pid}`)) && !(await exists(dir))));
  checks.checkThat(
    `${tag}: DeleteVLAN ${vlanId} ends its dnsmasq and removes its directory`,
    stopped,
    () => (pid === undefined ? 'no dnsmasq was running' : `process ${pid} or ${dir} is still there`),
  );
  const still = await settle(runningDnsmasq(stateDir, frontend.network.vlan));
  checks.checkThat(
    `${tag}: the dnsmasq of VLAN 100 runs on`,
    kept.value !== undefined && still.value === kept.value,
    () => `pid ${String(kept.value)} before, ${still.error?.message ?? String(still.value)} after`,
  );
}

/** The directory of a network's dnsmasq files, as the dnsmasq backend lays them out: <stateDir>/dnsmasq/<vlan>. */
function networkDir(stateDir: string, vlan: number): string {
  return join(stateDir, 'dnsmasq', String(vlan));
}

/**
 * runningDnsmasq reads the network's pid file and resolves to the pid when
 * that process is a dnsmasq started with this very pid file, else undefined.
 */
async function runningDnsmasq(stateDir: string, vlan: number): Promise<number | undefined> {
  const pidFile = join(networkDir(stateDir, vlan), 'dnsmasq.pid');
  const pid = Number((await readFile(pidFile, 'utf8')).trim());
  if (!Number.isInteger(pid) || pid <= 0) {
    throw new Error(`${pidFile} holds no pid`);
  }
  const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
  return argv[0] === dnsmasqBin && argv.includes(`--pid-file=${pidFile}`) ? pid : undefined;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return false;
    }
    throw error;
  }
}
