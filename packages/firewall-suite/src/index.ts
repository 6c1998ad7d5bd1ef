/**
 * The behaviour every FirewallBackend must show, checked with real packets:
 * a backend package's test calls `firewallBackendSuite` with a factory that
 * makes its backend act on a given network namespace, and gets one test per
 * behaviour. See topology.ts for the namespaces and addresses.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FirewallBackend, FirewallState, Network, PortMapping } from '@router-service/core';
import { runChecked } from '@router-service/test-support';
import {
  NET100,
  NET200,
  OUTSIDE_IP,
  ROUTER_SECOND_IP,
  ROUTER_UPLINK_IP,
  Topology,
  UPLINK,
  type EchoServer,
  type TestNetwork,
} from './topology.js';

export * from './topology.js';

const NFT = '/usr/sbin/nft';

/** Makes the backend under test act on the named network namespace. */
export type MakeBackend = (netns: string) => FirewallBackend;

function network(net: TestNetwork, extra: Partial<Network>): Network {
  return {
    vlan: net.vlan,
    name: `net${net.vlan}`,
    subnet: net.subnet,
    gateway: net.gateway,
    mtu: 0,
    nat: true,
    internal: false,
    natSources: [],
    dns: null,
    ...extra,
  };
}

function mapping(protocol: 'tcp' | 'udp', hostIp: string, hostPort: number, net: TestNetwork, containerPort: number): PortMapping {
  return { protocol, hostIp, hostPort, containerIp: net.container, containerPort, vlan: net.vlan };
}

// Published ports of the base state.
const ANY_TCP = 8080; // -> c200:80
const ANY_UDP = 8053; // -> c200:53 (udp)
const HOST_IP_TCP = 8081; // on ROUTER_SECOND_IP only -> c200:80
const ANY_TCP_TO_100 = 8082; // -> c100:80, for hairpin within one network
const ROUTER_OTHER_PORT = 9000;

/** Network 100 with NAT, network 200 without; `internal100` makes network 100 internal. */
export function baseState(options: { internal100?: boolean } = {}): FirewallState {
  return {
    uplink: UPLINK,
    networks: [
      { network: network(NET100, { nat: true, internal: options.internal100 ?? false }), interfaceName: NET100.interfaceName },
      { network: network(NET200, { nat: false }), interfaceName: NET200.interfaceName },
    ],
    portMappings: [
      mapping('tcp', '', ANY_TCP, NET200, 80),
      mapping('udp', '', ANY_UDP, NET200, 53),
      mapping('tcp', ROUTER_SECOND_IP, HOST_IP_TCP, NET200, 80),
      mapping('tcp', '', ANY_TCP_TO_100, NET100, 80),
    ],
  };
}

/** The router namespace's whole nft ruleset as JSON, without handles (which change whenever objects are recreated). */
async function ruleset(topology: Topology): Promise<unknown> {
  const argv = topology.router.execArgv(NFT, ['-j', 'list', 'ruleset']);
  const { stdout } = await runChecked(argv.file, argv.args);
  return JSON.parse(stdout, (key, value: unknown) => (key === 'handle' ? undefined : value));
}

/**
 * Runs independent probes at once (each one that gets no answer costs a
 * full client timeout) and checks each result, naming the failing ones.
 */
async function expectAll(probes: ReadonlyArray<readonly [string, Promise<unknown>, unknown]>): Promise<void> {
  const results = await Promise.all(probes.map(([, probe]) => probe));
  const wrong = probes.flatMap(([label, , expected], i) =>
    results[i] === expected ? [] : [`${label}: got ${String(results[i])}, expected ${String(expected)}`],
  );
  assert.deepEqual(wrong, []);
}

/**
 * Registers the behaviour tests of one backend. Each run builds its own
 * namespaces (unique names), so suites of several backends may run in
 * parallel.
 */
export function firewallBackendSuite(name: string, makeBackend: MakeBackend): void {
  describe(`firewall backend ${name}`, () => {
    let topology: Topology;
    let backend: FirewallBackend;
    let outsideTcp: EchoServer;
    let outsideUdp: EchoServer;

    before(async () => {
      topology = await Topology.create();
      const { router, outside, c100, c200 } = topology;
      outsideTcp = await topology.serve(outside, 'tcp', '0.0.0.0', 7000);
      outsideUdp = await topology.serve(outside, 'udp', '0.0.0.0', 7000);
      await topology.serve(c100, 'tcp', '0.0.0.0', 80);
      await topology.serve(c200, 'tcp', '0.0.0.0', 80);
      await topology.serve(c200, 'udp', '0.0.0.0', 53);
      await topology.serve(router, 'tcp', '0.0.0.0', 53);
      await topology.serve(router, 'udp', '0.0.0.0', 53);
      await topology.serve(router, 'tcp', '0.0.0.0', ROUTER_OTHER_PORT);
      backend = makeBackend(router.name);
      await backend.sync(baseState());
    });
    after(async () => {
      await topology?.destroy();
    });

    test('a container of a NAT network reaches the outside as the router', async () => {
      assert.equal(await topology.connect(topology.c100, 'tcp', OUTSIDE_IP, 7000), ROUTER_UPLINK_IP);
      assert.equal(await topology.connect(topology.c100, 'udp', OUTSIDE_IP, 7000), ROUTER_UPLINK_IP);
    });

    test('a container of a network without NAT reaches the outside as itself', async () => {
      assert.equal(await topology.connect(topology.c200, 'tcp', OUTSIDE_IP, 7000), NET200.container);
      assert.equal(await topology.connect(topology.c200, 'udp', OUTSIDE_IP, 7000), NET200.container);
    });

    test('an internal network cannot reach the outside', async () => {
      try {
        await backend.sync(baseState({ internal100: true }));
        await expectAll([
          ['tcp', topology.connect(topology.c100, 'tcp', OUTSIDE_IP, 7000), undefined],
          ['udp', topology.connect(topology.c100, 'udp', OUTSIDE_IP, 7000), undefined],
          ['ping', topology.ping(topology.c100, OUTSIDE_IP), false],
        ]);
      } finally {
        await backend.sync(baseState());
      }
      assert.equal(await topology.connect(topology.c100, 'tcp', OUTSIDE_IP, 7000), ROUTER_UPLINK_IP, 'not internal any more, yet cut off');
    });

    test('one network cannot reach another', async () => {
      const { c100, c200 } = topology;
      await expectAll([
        ['tcp 100 -> 200', topology.connect(c100, 'tcp', NET200.container, 80), undefined],
        ['ping 100 -> 200', topology.ping(c100, NET200.container), false],
        ['tcp 200 -> 100', topology.connect(c200, 'tcp', NET100.container, 80), undefined],
        ['ping 200 -> 100', topology.ping(c200, NET100.container), false],
      ]);
    });

    test('the outside cannot reach a container directly', async () => {
      const { outside } = topology;
      await expectAll([
        ['to the network without NAT', topology.connect(outside, 'tcp', NET200.container, 80), undefined],
        ['to the network with NAT', topology.connect(outside, 'tcp', NET100.container, 80), undefined],
        ['ping', topology.ping(outside, NET200.container), false],
      ]);
    });

    test('ports published on every address reach the container from the outside', async () => {
      // The container sees the real client: published ports are not masqueraded.
      assert.equal(await topology.connect(topology.outside, 'tcp', ROUTER_UPLINK_IP, ANY_TCP), OUTSIDE_IP);
      assert.equal(await topology.connect(topology.outside, 'udp', ROUTER_UPLINK_IP, ANY_UDP), OUTSIDE_IP);
      assert.equal(await topology.connect(topology.outside, 'tcp', ROUTER_SECOND_IP, ANY_TCP), OUTSIDE_IP, 'on the second address');
    });

    test('a port published on one host address answers only there', async () => {
      assert.equal(await topology.connect(topology.outside, 'tcp', ROUTER_SECOND_IP, HOST_IP_TCP), OUTSIDE_IP);
      assert.equal(await topology.connect(topology.outside, 'tcp', ROUTER_UPLINK_IP, HOST_IP_TCP), undefined);
    });

    test('a container reaches published ports through the router address (hairpin)', async () => {
      // Into another network: the router is on the path both ways.
      assert.notEqual(await topology.connect(topology.c100, 'tcp', ROUTER_UPLINK_IP, ANY_TCP), undefined, 'to network 200');
      // Back into its own network, here to itself: only masquerading makes the answer come back through the router.
      assert.equal(await topology.connect(topology.c100, 'tcp', ROUTER_UPLINK_IP, ANY_TCP_TO_100), NET100.gateway, 'to its own network');
    });

    test('from a container the gateway answers ping and DNS, and nothing else of the router', async () => {
      const { c100, outside } = topology;
      await expectAll([
        ['ping of its gateway', topology.ping(c100, NET100.gateway), true],
        ['udp 53 on its gateway', topology.connect(c100, 'udp', NET100.gateway, 53), NET100.container],
        ['tcp 53 on its gateway', topology.connect(c100, 'tcp', NET100.gateway, 53), NET100.container],
        ['another port of its gateway', topology.connect(c100, 'tcp', NET100.gateway, ROUTER_OTHER_PORT), undefined],
        ['another port of the uplink address', topology.connect(c100, 'tcp', ROUTER_UPLINK_IP, ROUTER_OTHER_PORT), undefined],
        ['DNS on the gateway of another network', topology.connect(c100, 'udp', NET200.gateway, 53), undefined],
        ['ping of the gateway of another network', topology.ping(c100, NET200.gateway), false],
        // The uplink side of the router is not the firewall's business.
        ['that port from the outside', topology.connect(outside, 'tcp', ROUTER_UPLINK_IP, ROUTER_OTHER_PORT), OUTSIDE_IP],
      ]);
    });

    test('a container cannot send with a source address outside its network', async () => {
      const spoofed = '10.9.9.9';
      await topology.c100.ip('address', 'add', `${spoofed}/32`, 'dev', 'eth0');
      try {
        assert.equal(await topology.connect(topology.c100, 'udp', OUTSIDE_IP, 7000, { from: spoofed }), undefined);
        // Once a later datagram has arrived, the spoofed one would have too.
        assert.equal(await topology.connect(topology.c100, 'udp', OUTSIDE_IP, 7000), ROUTER_UPLINK_IP);
        assert.ok(!outsideUdp.seen.includes(spoofed), `the outside received a datagram from ${spoofed}`);
        assert.ok(!outsideTcp.seen.includes(spoofed));
      } finally {
        await topology.c100.ip('address', 'del', `${spoofed}/32`, 'dev', 'eth0');
      }
    });

    test('syncing the same state again leaves the same ruleset', async () => {
      await backend.sync(baseState());
      const first = await ruleset(topology);
      await backend.sync(baseState());
      assert.deepEqual(await ruleset(topology), first);
      assert.notDeepEqual(first, { nftables: [] });
    });

    test('teardown removes everything and lets traffic through again', async () => {
      await backend.teardown();
      const left = ((await ruleset(topology)) as { nftables: Array<Record<string, unknown>> }).nftables.filter((o) => !('metainfo' in o));
      assert.deepEqual(left, [], 'objects left after teardown');
      await backend.teardown(); // absent is success
      assert.equal(await topology.connect(topology.c100, 'tcp', NET200.container, 80), NET100.container, 'networks still isolated after teardown');
    });
  });
}
