// Real flows through a router namespace whose NAT rules this test writes
// itself (root needed):
//
//   outside eth0 10.99.0.2/24 ── up0 router 10.99.0.1/24
//   container eth0 172.30.0.2/24 ── net0 router 172.30.0.1/24
//
// Each case proves first that, once the NAT rule is gone (or, for a port
// published late, once it is there), the flow still goes where its
// conntrack entry says; then that after forget() the same 5-tuple no longer
// does. A forget() that deletes nothing fails each case.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { PortMapping } from '@router-service/core';
import { Netns, vethArgs } from '@router-service/test-support';
import { DIRECT_DELETE_LIMIT, createConntrackTracker } from '../src/index.js';

const NFT = '/usr/sbin/nft';
const CONNTRACK = '/usr/sbin/conntrack';
const ROUTER_UP = '10.99.0.1';
const OUTSIDE = '10.99.0.2';
const GATEWAY = '172.30.0.1';
const CONTAINER = '172.30.0.2';
const SUBNET = '172.30.0.0/24';
/** How long a client waits for an answer; the namespaces are local, so only a packet that went elsewhere is late. */
const ANSWER_MS = 1000;

// Listens on UDP ports, prints "PORT FROM PAYLOAD" per datagram, answers "ok".
const SERVER_SCRIPT = `
const [host, ...ports] = process.argv.slice(1);
let ready = 0;
for (const port of ports) {
  const s = require('node:dgram').createSocket('udp4');
  s.on('message', (m, r) => { process.stdout.write(port + ' ' + r.address + ' ' + m + '\\n'); s.send('ok', r.port, r.address); });
  s.bind(Number(port), host, () => { if (++ready === ports.length) process.stdout.write('ready\\n'); });
}`;

// Sends one datagram from a fixed address and port, so every send of a case
// is the same 5-tuple; prints whether an answer came.
const CLIENT_SCRIPT = `
const [local, sport, host, port, payload, ms] = process.argv.slice(1);
const s = require('node:dgram').createSocket('udp4');
const end = (word) => { process.stdout.write(word); process.exit(0); };
setTimeout(() => end('silent'), Number(ms));
s.on('message', () => end('answered'));
s.on('error', () => {});
s.bind(Number(sport), local, () => s.send(payload, Number(port), host));`;

/** A UDP server in a namespace that records every datagram. */
class Recorder {
  readonly received: Array<{ port: number; from: string; payload: string }> = [];
  readonly #child: ChildProcess;

  private constructor(child: ChildProcess) {
    this.#child = child;
  }

  static start(ns: Netns, host: string, ports: readonly number[]): Promise<Recorder> {
    const argv = ns.execArgv(process.execPath, ['--eval', SERVER_SCRIPT, host, ...ports.map(String)]);
    const child = spawn(argv.file, argv.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const recorder = new Recorder(child);
    return new Promise((resolve, reject) => {
      let buffered = '';
      let errors = '';
      child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
      child.stdout?.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          if (line === 'ready') resolve(recorder);
          const [port, from, payload] = line.split(' ');
          if (port !== undefined && from !== undefined && payload !== undefined) {
            recorder.received.push({ port: Number(port), from, payload });
          }
        }
      });
      child.once('exit', (code) => reject(new Error(`UDP server in ${ns.name} exited (${code}): ${errors}`)));
    });
  }

  /** Where `payload` arrived, or undefined if it did not. */
  got(payload: string): { port: number; from: string } | undefined {
    return this.received.find((r) => r.payload === payload);
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.kill();
    await exited;
  }
}

const namespaces: Netns[] = [];
const recorders: Recorder[] = [];
let outside: Netns;
let container: Netns;
let router: Netns;

async function setSysctl(ns: Netns, key: string, value: string): Promise<void> {
  const script = 'require("node:fs").writeFileSync("/proc/sys/" + process.argv[1], process.argv[2])';
  const result = await ns.exec(process.execPath, ['--eval', script, key, value]);
  if (result.code !== 0) throw new Error(`setting ${key} in ${ns.name}: ${result.output}`);
}

before(async () => {
  for (let i = 0; i < 3; i++) namespaces.push(await Netns.create());
  [outside, container, router] = namespaces as [Netns, Netns, Netns];
  await router.ip(...vethArgs({ name: 'up0' }, { name: 'eth0', netns: outside.name }));
  await router.ip(...vethArgs({ name: 'net0' }, { name: 'eth0', netns: container.name }));
  await router.ip('address', 'add', `${ROUTER_UP}/24`, 'dev', 'up0');
  await router.ip('address', 'add', `${GATEWAY}/24`, 'dev', 'net0');
  await outside.ip('address', 'add', `${OUTSIDE}/24`, 'dev', 'eth0');
  await container.ip('address', 'add', `${CONTAINER}/24`, 'dev', 'eth0');
  for (const [ns, links] of [[router, ['lo', 'up0', 'net0']], [outside, ['lo', 'eth0']], [container, ['lo', 'eth0']]] as const) {
    for (const link of links) await ns.ip('link', 'set', link, 'up');
  }
  await container.ip('route', 'add', 'default', 'via', GATEWAY);
  await setSysctl(router, 'net/ipv4/ip_forward', '1');
});

after(async () => {
  for (const r of recorders.splice(0)) await r.stop();
  for (const ns of namespaces.splice(0)) await ns.delete();
});

/**
 * Sets the rules of the router's test NAT chains (nft syntax), in one
 * transaction. The kernel applies the NAT bindings conntrack remembers
 * only through nat chains that hold a NAT statement (and drops them when
 * the last nat chain goes), so the table stays while the tests run and
 * each chain keeps a NAT rule for TEST-NET-1, which no packet here uses:
 * removing the test's own rules then leaves established flows as they were.
 */
async function natRules(prerouting: readonly string[], postrouting: readonly string[]): Promise<void> {
  const ruleset = [
    'table ip conntrack_test {',
    '  chain prerouting { type nat hook prerouting priority dstnat; policy accept; }',
    '  chain postrouting { type nat hook postrouting priority srcnat; policy accept; }',
    '}',
    'flush chain ip conntrack_test prerouting',
    'flush chain ip conntrack_test postrouting',
    ...['ip daddr 192.0.2.1 dnat to 192.0.2.2', ...prerouting].map((r) => `add rule ip conntrack_test prerouting ${r}`),
    ...['ip saddr 192.0.2.1 snat to 192.0.2.2', ...postrouting].map((r) => `add rule ip conntrack_test postrouting ${r}`),
  ].join('\n');
  const nft = router.execArgv(NFT, ['-f', '-']);
  await runWithInput(nft.file, nft.args, ruleset);
}

/** Removes the test's NAT rules; established flows keep the NAT their conntrack entries remember. */
function dropNatRules(): Promise<void> {
  return natRules([], []);
}

function runWithInput(file: string, args: readonly string[], input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${file} ${args.join(' ')}: exit ${code}: ${errors}`))));
    child.stdin.end(input);
  });
}

/** Sends `payload` from local:sport to host:port in ns; resolves whether an answer came. */
async function send(ns: Netns, local: string, sport: number, host: string, port: number, payload: string): Promise<boolean> {
  const result = await ns.exec(process.execPath, ['--eval', CLIENT_SCRIPT, local, String(sport), host, String(port), payload, String(ANSWER_MS)]);
  if (result.code !== 0) throw new Error(`UDP client in ${ns.name}: ${result.output}`);
  return result.stdout === 'answered';
}

/** A UDP flow from the outside to one of the router's ports, meant for a container port. */
interface Flow {
  name: string;
  /** Its fixed source port, so that every send is the same 5-tuple. */
  sport: number;
  port: number;
  target: number;
}

/** Sends each flow's datagram `NAME-ROUND` from the outside, one after another; says which were answered, by name. */
async function sendFromOutside(flows: readonly Flow[], round: number): Promise<Record<string, boolean>> {
  const answered: Record<string, boolean> = {};
  for (const f of flows) answered[f.name] = await send(outside, OUTSIDE, f.sport, ROUTER_UP, f.port, `${f.name}-${round}`);
  return answered;
}

/** The DNAT rule that sends the flow's port on the router's uplink address to the container. */
function dnatRule(f: Flow): string {
  return `ip daddr ${ROUTER_UP} udp dport ${f.port} dnat to ${CONTAINER}:${f.target}`;
}

/** The router's conntrack listing of the UDP entries to `port`. */
async function udpEntries(port: number): Promise<string> {
  const result = await router.exec(CONNTRACK, ['-L', '-f', 'ipv4', '-p', 'udp', '--orig-port-dst', String(port)]);
  if (result.code !== 0) throw new Error(`conntrack -L in ${router.name}: ${result.output}`);
  return result.stdout;
}

function udpMapping(hostPort: number, hostPortEnd: number, containerPort: number): PortMapping {
  return { protocol: 'udp', hostIp: '', hostPort, hostPortEnd, containerIp: CONTAINER, containerPort, vlan: 100, sources: [] };
}

describe('forget', () => {
  test('ends the DNATed flows of a removed mapping, one port or a range, and no other', async () => {
    const server = await Recorder.start(container, CONTAINER, [80, 81, 9103, 9107]);
    recorders.push(server);
    const tracker = createConntrackTracker({ netns: router.name });
    // One flow per host port, each with its own fixed source port.
    const flows: Flow[] = [
      { name: 'single', sport: 40000, port: 8080, target: 80 },
      { name: 'kept', sport: 40001, port: 8081, target: 81 },
      { name: 'range-a', sport: 40002, port: 9003, target: 9103 },
      { name: 'range-b', sport: 40003, port: 9007, target: 9107 },
    ];
    const sendAll = (round: number) => sendFromOutside(flows, round);
    await natRules(flows.map(dnatRule), []);
    assert.deepEqual(await sendAll(1), { single: true, kept: true, 'range-a': true, 'range-b': true });

    await dropNatRules();
    assert.deepEqual(await sendAll(2), { single: true, kept: true, 'range-a': true, 'range-b': true }, 'without the rules, the conntrack entries carry the flows');
    for (const f of flows) assert.equal(server.got(`${f.name}-2`)?.port, f.target);

    // One port: deleted port by port.
    await tracker.forget({ portMappings: [udpMapping(8080, 8080, 80)], subnets: [], published: [], strays: undefined });
    assert.deepEqual(await sendAll(3), { single: false, kept: true, 'range-a': true, 'range-b': true });
    assert.equal(server.got('single-3'), undefined, 'the forgotten flow still reached the container');

    // A range wider than the direct limit: listed, then deleted where it has entries.
    const range = udpMapping(9000, 9000 + DIRECT_DELETE_LIMIT + 1, 9100);
    await tracker.forget({ portMappings: [range], subnets: [], published: [], strays: undefined });
    assert.deepEqual(await sendAll(4), { single: false, kept: true, 'range-a': false, 'range-b': false });
    assert.equal(server.got('range-a-4'), undefined);
    assert.equal(server.got('range-b-4'), undefined);
    assert.equal(server.got('kept-4')?.port, 81, 'a mapping that was not removed keeps its flow');
  });

  test('ends the masqueraded flows from a removed subnet', async () => {
    const server = await Recorder.start(outside, OUTSIDE, [5000]);
    recorders.push(server);
    const tracker = createConntrackTracker({ netns: router.name });
    const sendOut = (payload: string) => send(container, CONTAINER, 41000, OUTSIDE, 5000, payload);
    await natRules([], [`ip saddr ${SUBNET} oifname "up0" masquerade`]);
    assert.equal(await sendOut('m1'), true);
    assert.equal(server.got('m1')?.from, ROUTER_UP);

    await dropNatRules();
    await sendOut('m2');
    assert.equal(server.got('m2')?.from, ROUTER_UP, 'without the rule, the conntrack entry still masquerades');

    await tracker.forget({ portMappings: [], subnets: [SUBNET], published: [], strays: undefined });
    await sendOut('m3');
    assert.equal(server.got('m3')?.from, CONTAINER, 'the forgotten flow was still masqueraded');
  });

  test('lets newly published UDP ports take over the flows that reached the router before them, and no other flow', async () => {
    const server = await Recorder.start(container, CONTAINER, [53, 54, 55, 56, 57]);
    recorders.push(server);
    // The router itself answers on 5302.
    const routerServer = await Recorder.start(router, ROUTER_UP, [5302]);
    recorders.push(routerServer);
    const tracker = createConntrackTracker({ netns: router.name });
    const flows: Flow[] = [
      { name: 'early', sport: 42000, port: 5301, target: 53 },
      { name: 'served', sport: 42001, port: 5302, target: 54 },
      { name: 'alone', sport: 42002, port: 5303, target: 55 },
      { name: 'excluded', sport: 42003, port: 5304, target: 56 },
      { name: 'beside', sport: 42004, port: 5305, target: 57 },
    ];
    const sendAll = (round: number) => sendFromOutside(flows, round);
    // A container's flow to the outside's 5301, routed without NAT and unanswered: not addressed to the router.
    const forwarded = () => send(container, CONTAINER, 42010, OUTSIDE, 5301, 'forwarded');
    // The router's own flow to 5305, beside the outside's, from a source 5305's mapping does not let in.
    const own = () => send(router, ROUTER_UP, 42011, ROUTER_UP, 5305, 'own');
    await dropNatRules();
    const before = { early: false, served: true, alone: false, excluded: false, beside: false };
    assert.deepEqual(await sendAll(1), before, 'only the router answers, on 5302');

    await natRules(flows.map(dnatRule), []);
    assert.deepEqual(await sendAll(2), before, 'the flows tracked before the rules pass them by');
    for (const f of flows) assert.equal(server.got(`${f.name}-2`), undefined);
    // Made just before the forget, so that their unanswered entries have not timed out when it runs.
    assert.equal(await forwarded(), false);
    assert.equal(await own(), false);

    // Several ports, one that lets in only a source the outside is not, one only the outside: the protocol's entries are listed.
    const excluded = { ...udpMapping(5304, 5304, 56), sources: ['192.0.2.0/24'] };
    const beside = { ...udpMapping(5305, 5305, 57), sources: [`${OUTSIDE}/32`] };
    await tracker.forget({ portMappings: [], subnets: [], published: [udpMapping(5301, 5301, 53), udpMapping(5302, 5302, 54), excluded, beside], strays: undefined });
    assert.deepEqual(await sendAll(3), { ...before, early: true, beside: true });
    assert.equal(server.got('beside-3')?.port, 57, 'a flow beside one that stays was not forgotten on its own');
    assert.match(await udpEntries(5305), new RegExp(`src=${ROUTER_UP} dst=${ROUTER_UP} sport=42011`), 'the router\'s own flow was forgotten');
    assert.equal(server.got('early-3')?.port, 53);
    assert.equal(routerServer.got('served-3')?.port, 5302, 'a flow the router answered stays with it');
    assert.equal(server.got('served-3'), undefined);
    assert.equal(server.got('excluded-3'), undefined, 'a flow from a source the mapping does not let in was forgotten');
    assert.match(await udpEntries(5301), new RegExp(`src=${CONTAINER} dst=${OUTSIDE} sport=42010`), 'a forwarded flow was forgotten');

    // One port: only its entries are listed.
    await tracker.forget({ portMappings: [], subnets: [], published: [udpMapping(5303, 5303, 55)], strays: undefined });
    assert.deepEqual(await sendAll(4), { ...before, early: true, beside: true, alone: true });
    assert.equal(server.got('alone-4')?.port, 55);
  });

  test('at a start, ends the DNATed flows into the networks that no mapping explains, and only those', async () => {
    const server = await Recorder.start(container, CONTAINER, [90, 91]);
    recorders.push(server);
    const tracker = createConntrackTracker({ netns: router.name });
    const flows: Flow[] = [
      { name: 'published', sport: 43000, port: 8090, target: 90 },
      { name: 'stray', sport: 43001, port: 8091, target: 91 },
    ];
    await natRules(flows.map(dnatRule), []);
    assert.deepEqual(await sendFromOutside(flows, 1), { published: true, stray: true });
    await dropNatRules();
    assert.deepEqual(await sendFromOutside(flows, 2), { published: true, stray: true }, 'without the rules, the conntrack entries carry the flows');

    // Another network's subnet explains nothing here: the flows into ours are not judged by it.
    await tracker.forget({ portMappings: [], subnets: [], published: [], strays: { subnets: ['172.31.0.0/24'], portMappings: [] } });
    assert.deepEqual(await sendFromOutside(flows, 3), { published: true, stray: true });
    await tracker.forget({ portMappings: [], subnets: [], published: [], strays: { subnets: [SUBNET], portMappings: [udpMapping(8090, 8090, 90)] } });
    assert.deepEqual(await sendFromOutside(flows, 4), { published: true, stray: false });
    assert.equal(server.got('published-4')?.port, 90, 'a flow a mapping explains lives on');
    assert.equal(server.got('stray-4'), undefined);
  });

  test('forgetting what has no entries succeeds', async () => {
    const tracker = createConntrackTracker({ netns: router.name });
    await tracker.forget({ portMappings: [udpMapping(7000, 7000, 70)], subnets: ['172.31.0.0/24'], published: [], strays: undefined });
    await tracker.forget({ portMappings: [udpMapping(7000, 7100, 70)], subnets: [], published: [], strays: undefined });
    await tracker.forget({ portMappings: [], subnets: [], published: [udpMapping(7000, 7000, 70), udpMapping(7001, 7100, 70)], strays: undefined });
  });
});
