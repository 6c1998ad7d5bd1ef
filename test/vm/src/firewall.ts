/**
 * The firewall on real VLANs: the daemon runs with each firewall backend in
 * turn, on one state directory, and real packets from the containers (tagged
 * on their VLAN subinterfaces), the outside host behind the uplink and the
 * router itself check NAT, isolation, the router's self-protection and
 * published ports, SCTP included. Each start with another backend must
 * leave nothing of the previous one and keep the published ports answering.
 * The daemon runs the dnsmasq DNS backend forwarding to a fake upstream on
 * the outside host: each round asks the gateways real DNS questions, and
 * the rounds share out the DNS checks of dns.ts.
 */
import { writeFile } from 'node:fs/promises';
import {
  AddPortMappingRequest,
  CreateVLANRequest,
  HealthRequest,
  RemovePortMappingRequest,
} from '@router-service/proto';
import type { FakeUpstream } from '@router-service/test-support';
import { errorOf, settle, shown, type Checks } from './checks.js';
import { dialVsock, type RouterCalls } from './client.js';
import { run, waitFor } from './command.js';
import { routerctlBin, startDaemon } from './daemon.js';
import { askFrom, configureDnsRequests, dnsAfterRestart, dnsNames, startUpstream, upstreams } from './dns.js';
import { ownedObjects, type FirewallName } from './firewall-objects.js';
import {
  answer,
  describeAnswer,
  pingOnce,
  ProbeServers,
  routerNamespace,
  sendOnce,
  type Answer,
  type ProbeProtocol,
} from './probe.js';
import { createRequest } from './scenario.js';
import { addOutside, net100, net200, outside } from './topology.js';

/** A state directory of its own, so that the rounds start from no networks at all. */
const firewallStateDir = '/run/router-service-firewall';

const c100 = net100.container;
const c200 = net200.container;
const c100Addr = '172.18.0.2';
const c200Addr = '172.19.0.2';

/** Where the probe servers listen. */
const port = {
  outside: 7000,
  web: 80,
  dns: 53,
  sctp: 7132,
  routerOther: 9000,
} as const;

/** A port mapping of the scenario, and how the checks name it. */
interface Published {
  readonly label: string;
  readonly request: AddPortMappingRequest;
}

function publish(label: string, fields: Partial<AddPortMappingRequest>): Published {
  return { label, request: AddPortMappingRequest.create(fields) };
}

/** The published ports; each full round adds them all. */
const published = {
  tcp: publish('8080/tcp -> 172.19.0.2:80', { protocol: 'tcp', hostPort: 8080, containerIp: c200Addr, containerPort: port.web, vlanId: 200 }),
  udp: publish('8053/udp -> 172.19.0.2:53', { protocol: 'udp', hostPort: 8053, containerIp: c200Addr, containerPort: port.dns, vlanId: 200 }),
  sctp: publish('8132/sctp -> 172.18.0.2:7132', { protocol: 'sctp', hostPort: 8132, containerIp: c100Addr, containerPort: port.sctp, vlanId: 100 }),
  range: publish('8100-8102/tcp -> 172.18.0.2:80-82', {
    protocol: 'tcp',
    hostPort: 8100,
    hostPortEnd: 8102,
    containerIp: c100Addr,
    containerPort: port.web,
    vlanId: 100,
  }),
  restricted: publish('8090/tcp -> 172.19.0.2:80 from 192.168.64.1 only', {
    protocol: 'tcp',
    hostPort: 8090,
    containerIp: c200Addr,
    containerPort: port.web,
    vlanId: 200,
    allowedSources: [`${outside.address}/32`],
  }),
} as const;

/**
 * The UDP flow the conntrack check follows: one source port for both
 * datagrams, another in each round, so that no round's check meets the
 * untranslated entry the previous round's second datagram leaves behind.
 */
const trackedSourcePorts = { nft: 40053, iptables: 40054 } as const;

/** Every probe server the checks reach: namespace, protocol, port. */
const probeServers: readonly (readonly [string, ProbeProtocol, number])[] = [
  [outside.namespace, 'tcp', port.outside],
  [outside.namespace, 'udp', port.outside],
  [c100, 'tcp', port.web],
  [c100, 'tcp', port.web + 1],
  [c100, 'tcp', port.web + 2],
  [c100, 'sctp', port.sctp],
  [c200, 'tcp', port.web],
  [c200, 'udp', port.dns],
  // Port 53 of the router is its dnsmasq's, on each gateway.
  [routerNamespace, 'tcp', port.routerOther],
];

/** Every probe server, reached from inside its own namespace: the probes work before any firewall is judged. */
async function serversAnswer(servers: ProbeServers): Promise<void> {
  const silent: string[] = [];
  for (const [namespace, protocol, serverPort] of probeServers) {
    // Servers may still be starting: wait for each a while.
    const answered = await waitFor(20_000, async () => (await sendOnce(namespace, protocol, '127.0.0.1', serverPort)) !== undefined);
    if (!answered) {
      silent.push(`${protocol}/${serverPort} in ${namespace || 'the router'}`);
    }
  }
  if (silent.length > 0) {
    const exited = servers.exited();
    throw new Error(`no answer from ${silent.join(', ')}${exited.length > 0 ? `; exited: ${exited.join('; ')}` : ''}`);
  }
}

/** One start of the daemon with a firewall backend, and what it checks. */
interface Round {
  readonly backend: FirewallName;
  /** The backend of the round before, whose objects must be gone. */
  readonly previous?: FirewallName;
  /** Whether the round configures everything and checks every behaviour with packets. */
  readonly full: boolean;
  /** The part of the DNS checks (dns.ts) the round runs besides asking the gateways. */
  readonly dns?: 'names' | 'after restart';
}

/** A full round with each backend, nft first, then nft again to check the switch back. */
const rounds: readonly Round[] = [
  { backend: 'nft', full: true, dns: 'names' },
  { backend: 'iptables', previous: 'nft', full: true },
  { backend: 'nft', previous: 'iptables', full: false, dns: 'after restart' },
];

/** firewalls runs the rounds with the probe servers and the fake upstream resolver running. */
export async function firewalls(checks: Checks): Promise<void> {
  if (!checks.check('the outside host joins the LAN of the uplink', await errorOf(addOutside()))) {
    return;
  }
  const servers = new ProbeServers();
  // Started alongside the probe servers; settled, so that a failure waits for its check.
  const upstreamStarted = settle(startUpstream());
  try {
    for (const [namespace, protocol, serverPort] of probeServers) {
      servers.start(namespace, protocol, serverPort);
    }
    const ready = await errorOf(serversAnswer(servers));
    if (!checks.check('probe servers (tcp, udp, sctp) answer inside their namespaces', ready)) {
      return;
    }
    const started = await upstreamStarted;
    const upstream = started.value;
    if (!checks.check(`the fake upstream resolver listens on ${outside.address} port 53`, started.error) || upstream === undefined) {
      return;
    }
    for (const plan of rounds) {
      await round(checks, plan, upstream);
    }
  } finally {
    servers.stopAll();
    await (await upstreamStarted).value?.stop();
  }
}

/**
 * round starts the daemon with the backend on the shared state directory;
 * after another backend it checks the switch, and a full round then checks
 * every behaviour with packets.
 */
async function round(checks: Checks, plan: Round, upstream: FakeUpstream): Promise<void> {
  const { backend, previous, full } = plan;
  const tag = previous === undefined ? backend : `${backend} after ${previous}`;
  const config = `/run/router-service-${backend}.json`;
  const settings = { firewall: backend, dns: { backend: 'dnsmasq', upstreams } };
  const written = await errorOf(writeFile(config, `${JSON.stringify(settings)}\n`));
  if (!checks.check(`${tag}: write the config file selecting the ${backend} firewall and the dnsmasq DNS`, written)) {
    return;
  }
  const started = await settle(startDaemon(['--config', config], { stateDir: firewallStateDir }));
  const daemon = started.value;
  if (!checks.check(`${tag}: router-service starts with the ${backend} firewall`, started.error) || daemon === undefined) {
    return;
  }
  try {
    const dialed = await settle(dialVsock());
    const router = dialed.value;
    if (!checks.check(`${tag}: client connects over vsock`, dialed.error) || router === undefined) {
      return;
    }
    try {
      if (previous !== undefined) {
        await switched(checks, tag, backend, previous);
      }
      if (full) {
        await configure(checks, tag, router, backend);
        await probe(checks, tag);
        await removal(checks, tag, router, trackedSourcePorts[backend]);
      }
      if (plan.dns === 'names') {
        await dnsNames(checks, tag, router, upstream, firewallStateDir);
      } else if (plan.dns === 'after restart') {
        await dnsAfterRestart(checks, tag, router, firewallStateDir);
      }
    } finally {
      router.close();
    }
  } finally {
    checks.check(`${tag}: router-service stops gracefully`, await daemon.stop());
  }
}

/** switched checks a start that follows another backend's: none of its objects, ours in place, ports answering. */
async function switched(checks: Checks, tag: string, backend: FirewallName, previous: FirewallName): Promise<void> {
  const left = await settle(ownedObjects(previous));
  checks.checkThat(
    `${tag}: nothing of the ${previous} firewall is left in the kernel`,
    left.error === null && left.value.length === 0,
    () => (left.error === null ? `left: ${left.value.join('; ')}` : left.error.message),
  );
  await holdsObjects(checks, tag, backend);
  const got = await answer(outside.namespace, 'tcp', outside.router, published.tcp.request.hostPort);
  checks.checkThat(
    `${tag}: ${published.tcp.label}, published before the restart, answers the outside`,
    got?.peer === outside.address,
    () => describeAnswer(got),
  );
}

/** holdsObjects checks that the kernel holds objects of the backend's own. */
async function holdsObjects(checks: Checks, tag: string, backend: FirewallName): Promise<void> {
  const objects = await settle(ownedObjects(backend));
  checks.checkThat(
    `${tag}: the kernel holds the ${backend} firewall's objects`,
    objects.error === null && objects.value.length > 0,
    () => (objects.error === null ? 'none found' : objects.error.message),
  );
}

/** configure creates the two networks, gives them names and publishes every port; each call is a no-op when the state has it already. */
async function configure(checks: Checks, tag: string, router: RouterCalls, backend: FirewallName): Promise<void> {
  checks.check(`${tag}: CreateVLAN 100 with NAT`, await errorOf(router.call('createVlan', createRequest(net100))));
  checks.check(
    `${tag}: CreateVLAN 200 without NAT`,
    await errorOf(router.call('createVlan', CreateVLANRequest.create({ ...createRequest(net200), enableNat: false }))),
  );
  for (const { label, request } of configureDnsRequests()) {
    checks.check(`${tag}: ${label}`, await errorOf(router.call('configureDns', request)));
  }
  for (const { label, request } of Object.values(published)) {
    checks.check(`${tag}: AddPortMapping ${label}`, await errorOf(router.call('addPortMapping', request)));
  }
  const health = await settle(router.call('getHealth', HealthRequest.create({ checkKernel: true })));
  checks.checkThat(
    `${tag}: GetHealth names the ${backend} firewall, the dnsmasq DNS and a kernel in sync`,
    health.error === null &&
      health.value.healthy &&
      health.value.firewallBackend === backend &&
      health.value.dnsBackend === 'dnsmasq' &&
      health.value.kernelInSync,
    () => shown(health, 'health'),
  );
  const status = await settle(run(routerctlBin, ['status']));
  const out = status.value ?? '';
  checks.checkThat(
    `${tag}: routerctl status shows the ${backend} firewall, the dnsmasq DNS and a kernel in sync`,
    status.error === null && out.includes(`backends: firewall ${backend}, dns dnsmasq\n`) && out.includes('kernel: in sync\n'),
    () => `err=${status.error?.message ?? '<nil>'}\n${out}`,
  );
  await holdsObjects(checks, tag, backend);
}

/** Expectation is one probe's outcome and what it should have been. */
type Expectation = readonly [label: string, outcome: Promise<string | boolean | undefined>, expected: string | boolean | undefined];

/**
 * expect runs independent probes at once (each one that is not answered
 * costs a full timeout) and records one check naming every wrong outcome.
 */
async function expect(checks: Checks, name: string, expectations: readonly Expectation[]): Promise<void> {
  const outcomes = await Promise.all(expectations.map(([, outcome]) => outcome));
  const wrong = expectations.flatMap(([label, , expected], i) =>
    outcomes[i] === expected ? [] : [`${label}: got ${show(outcomes[i])}, want ${show(expected)}`],
  );
  checks.checkThat(name, wrong.length === 0, () => wrong.join('; '));
}

function show(value: string | boolean | undefined): string {
  return value === undefined ? 'no answer' : String(value);
}

/** The address the server saw, or undefined for no answer. */
async function seen(pending: Promise<Answer | undefined>): Promise<string | undefined> {
  return (await pending)?.peer;
}

/** The address the server saw and the port it was reached on, as "address port N". */
async function seenOnPort(pending: Promise<Answer | undefined>): Promise<string | undefined> {
  const got = await pending;
  return got === undefined ? undefined : `${got.peer} port ${String(got.port)}`;
}

/** Whether any answer came. */
async function answered(pending: Promise<Answer | undefined>): Promise<boolean> {
  return (await pending) !== undefined;
}

/** probe checks each behaviour of the firewall with packets. */
async function probe(checks: Checks, tag: string): Promise<void> {
  const out = outside.namespace;
  const uplink = outside.router;
  // Real DNS questions of the gateways' dnsmasq, one run of the DNS tool per server.
  const ownGateway = askFrom(c100, net100.gateway, ['udp:A:web', 'tcp:A:web']);
  const otherGateway = askFrom(c100, net200.gateway, ['udp:A:db', 'tcp:A:db']);
  await expect(checks, `${tag}: a container of the NAT network reaches the outside as ${uplink}`, [
    ['tcp', seen(answer(c100, 'tcp', outside.address, port.outside)), uplink],
    ['udp', seen(answer(c100, 'udp', outside.address, port.outside)), uplink],
  ]);
  await expect(checks, `${tag}: a container of the network without NAT reaches the outside as itself`, [
    ['tcp', seen(answer(c200, 'tcp', outside.address, port.outside)), c200Addr],
    ['udp', seen(answer(c200, 'udp', outside.address, port.outside)), c200Addr],
  ]);
  await expect(checks, `${tag}: nothing passes between VLAN 100 and VLAN 200, nor from the outside to a container`, [
    ['tcp 100 -> 200', seen(sendOnce(c100, 'tcp', c200Addr, port.web)), undefined],
    ['ping 100 -> 200', pingOnce(c100, c200Addr), false],
    ['tcp 200 -> 100', seen(sendOnce(c200, 'tcp', c100Addr, port.web)), undefined],
    ['sctp 200 -> 100', seen(sendOnce(c200, 'sctp', c100Addr, port.sctp)), undefined],
    ['outside -> the container without NAT', seen(sendOnce(out, 'tcp', c200Addr, port.web)), undefined],
    ['outside -> the container with NAT', seen(sendOnce(out, 'tcp', c100Addr, port.web)), undefined],
  ]);
  await expect(checks, `${tag}: from a container the router answers ping and DNS on its own gateway only`, [
    ['ping of its gateway', pingOnce(c100, net100.gateway), true],
    // web is the name of the container's own address.
    ['DNS over udp on its gateway', ownGateway.then(([udp]) => udp), c100Addr],
    ['DNS over tcp on its gateway', ownGateway.then(([, tcp]) => tcp), c100Addr],
    ['another port of its gateway', seen(sendOnce(c100, 'tcp', net100.gateway, port.routerOther)), undefined],
    ['another port of the uplink address', seen(sendOnce(c100, 'tcp', uplink, port.routerOther)), undefined],
    ['ping of the other gateway', pingOnce(c100, net200.gateway), false],
    ['DNS over udp on the other gateway', otherGateway.then(([udp]) => udp), undefined],
    ['DNS over tcp on the other gateway', otherGateway.then(([, tcp]) => tcp), undefined],
    // The uplink side of the router is not the firewall's business.
    ['that other port from the outside', seen(answer(out, 'tcp', uplink, port.routerOther)), outside.address],
  ]);
  await expect(checks, `${tag}: published tcp, udp and tcp-range ports answer the outside, unmasqueraded`, [
    [published.tcp.label, seen(answer(out, 'tcp', uplink, published.tcp.request.hostPort)), outside.address],
    [published.udp.label, seen(answer(out, 'udp', uplink, published.udp.request.hostPort)), outside.address],
    ['8101 of the range', seenOnPort(answer(out, 'tcp', uplink, 8101)), `${outside.address} port 81`],
    ['8102 of the range', seenOnPort(answer(out, 'tcp', uplink, 8102)), `${outside.address} port 82`],
  ]);
  await expect(checks, `${tag}: SCTP end to end: ${published.sctp.label} answers the outside`, [
    ['sctp', seenOnPort(answer(out, 'sctp', uplink, published.sctp.request.hostPort)), `${outside.address} port ${port.sctp}`],
  ]);
  await expect(checks, `${tag}: ${published.restricted.label} answers that source and no other`, [
    ['from the allowed source', seen(answer(out, 'tcp', uplink, published.restricted.request.hostPort)), outside.address],
    [
      'from another address',
      seen(sendOnce(out, 'tcp', uplink, published.restricted.request.hostPort, { from: outside.otherAddress })),
      undefined,
    ],
  ]);
  await expect(checks, `${tag}: a container reaches published ports through the router's address (hairpin)`, [
    ['into the other network', answered(answer(c100, 'tcp', uplink, published.tcp.request.hostPort)), true],
    // Only masquerading brings the answer of a container to itself back through the router.
    ['its own published port', seenOnPort(answer(c100, 'tcp', uplink, published.range.request.hostPort)), `${net100.gateway} port ${port.web}`],
  ]);
  await expect(checks, `${tag}: the router itself reaches published ports on its address and on 127.0.0.1`, [
    [`${uplink}:${published.tcp.request.hostPort}`, answered(answer(routerNamespace, 'tcp', uplink, published.tcp.request.hostPort)), true],
    [`127.0.0.1:${published.tcp.request.hostPort}`, answered(answer(routerNamespace, 'tcp', '127.0.0.1', published.tcp.request.hostPort)), true],
    [`127.0.0.1:${published.sctp.request.hostPort} (sctp)`, answered(answer(routerNamespace, 'sctp', '127.0.0.1', published.sctp.request.hostPort)), true],
  ]);
}

/** removal unpublishes two ports: new connections get no answer, and a tracked UDP flow stops at once. */
async function removal(checks: Checks, tag: string, router: RouterCalls, sourcePort: number): Promise<void> {
  const out = outside.namespace;
  const uplink = outside.router;
  const before = await answer(out, 'udp', uplink, published.udp.request.hostPort, { sourcePort });
  checks.checkThat(
    `${tag}: a UDP flow from one source port to ${published.udp.label} is answered`,
    before?.peer === outside.address,
    () => describeAnswer(before),
  );
  for (const { label, request } of [published.restricted, published.udp]) {
    const { hostPort, protocol } = request;
    checks.check(
      `${tag}: RemovePortMapping ${label}`,
      await errorOf(router.call('removePortMapping', RemovePortMappingRequest.create({ hostPort, protocol }))),
    );
  }
  await expect(checks, `${tag}: removed ports answer no more, not even an established UDP flow`, [
    [published.restricted.label, seen(sendOnce(out, 'tcp', uplink, published.restricted.request.hostPort)), undefined],
    [
      `${published.udp.label}, same source port`,
      seen(sendOnce(out, 'udp', uplink, published.udp.request.hostPort, { sourcePort })),
      undefined,
    ],
  ]);
}
