/**
 * The behaviour every FirewallBackend must show, checked with real packets:
 * a backend package's test calls `firewallBackendSuite` with its adapter
 * and gets one test per behaviour. See topology.ts for the namespaces and
 * addresses, states.ts for what is published where.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FirewallBackend, FirewallState } from '@router-service/core';
import type { FirewallSuiteAdapter } from './adapter.js';
import { expectAll } from './expect-all.js';
import { firewallSctpSuite } from './sctp-suite.js';
import { PORTS, RESTRICTED_SOURCES, baseState, suiteMapping, suiteNetwork, withMappings } from './states.js';
import {
  LOOPBACK_PROBE_IP,
  NET100,
  NET200,
  OUTSIDE_IP,
  OUTSIDE_SECOND_IP,
  ROUTER_SECOND_IP,
  ROUTER_UPLINK_IP,
  Topology,
  type EchoServer,
} from './topology.js';

/** The base state without the published UDP port. */
const withoutUdp = () => withMappings(baseState(), (ms) => ms.filter((m) => m.protocol !== 'udp'));

/** SCTP mappings, for the checks that hold on every kernel: rendering, drift, updates. */
function withSctp(state: FirewallState): FirewallState {
  return withMappings(state, (ms) => [
    ...ms,
    // The port number of a TCP mapping: protocols are keys of their own.
    suiteMapping('sctp', '', PORTS.anyTcp, NET200, 80),
    suiteMapping('sctp', ROUTER_SECOND_IP, 3900, NET100, 3900, { hostPortEnd: 3909, sources: RESTRICTED_SOURCES }),
  ]);
}

/**
 * Registers the behaviour tests of one backend. Each run builds its own
 * namespaces (unique names), so suites of several backends may run in
 * parallel. With `capabilities.sctpPackets` the SCTP packet checks
 * (`firewallSctpSuite`) run too.
 */
export function firewallBackendSuite(name: string, adapter: FirewallSuiteAdapter): void {
  describe(`firewall backend ${name}`, () => {
    let topology: Topology;
    let backend: FirewallBackend;
    let outsideTcp: EchoServer;
    let outsideUdp: EchoServer;
    let c100Tcp: EchoServer;
    let c200Tcp: EchoServer;
    const rangeServers = new Map<number, EchoServer>();

    const dump = () => adapter.dump(topology.router.name);
    /** What a sync of `state` from nothing leaves in the kernel. */
    const freshDump = async (state: FirewallState) => {
      await backend.teardown();
      await backend.sync(state);
      return dump();
    };

    before(async () => {
      topology = await Topology.create();
      const { router, outside, c100, c200 } = topology;
      outsideTcp = await topology.serve(outside, 'tcp', '0.0.0.0', 7000);
      outsideUdp = await topology.serve(outside, 'udp', '0.0.0.0', 7000);
      c100Tcp = await topology.serve(c100, 'tcp', '0.0.0.0', 80);
      c200Tcp = await topology.serve(c200, 'tcp', '0.0.0.0', 80);
      await topology.serve(c200, 'udp', '0.0.0.0', 53);
      // First, middle and last port of the range, and the one after it.
      for (const offset of [0, 5, 9, 10]) rangeServers.set(offset, await topology.serve(c200, 'tcp', '0.0.0.0', PORTS.containerRangeFirst + offset));
      await topology.serve(router, 'tcp', '0.0.0.0', 53);
      await topology.serve(router, 'udp', '0.0.0.0', 53);
      await topology.serve(router, 'tcp', '0.0.0.0', PORTS.routerOther);
      backend = adapter.make(router.name);
      await backend.sync(baseState());
    });
    after(async () => {
      await backend?.close?.();
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
      const { outside } = topology;
      // The container sees the real client: published ports are not masqueraded.
      await expectAll([
        ['tcp', topology.connect(outside, 'tcp', ROUTER_UPLINK_IP, PORTS.anyTcp), OUTSIDE_IP],
        ['udp', topology.connect(outside, 'udp', ROUTER_UPLINK_IP, PORTS.anyUdp), OUTSIDE_IP],
        ['on the second address', topology.connect(outside, 'tcp', ROUTER_SECOND_IP, PORTS.anyTcp), OUTSIDE_IP],
      ]);
    });

    test('a port published on one host address answers only there', async () => {
      await expectAll([
        ['on its address', topology.connect(topology.outside, 'tcp', ROUTER_SECOND_IP, PORTS.hostIpTcp), OUTSIDE_IP],
        ['on another address', topology.connect(topology.outside, 'tcp', ROUTER_UPLINK_IP, PORTS.hostIpTcp), undefined],
      ]);
    });

    test('a published range maps each port onto its partner, and ends where it ends', async () => {
      for (const offset of [0, 5, 9]) {
        const server = rangeServers.get(offset);
        const before = server?.seen.length ?? 0;
        assert.equal(await topology.connect(topology.outside, 'tcp', ROUTER_UPLINK_IP, PORTS.rangeFirst + offset), OUTSIDE_IP, `host port ${PORTS.rangeFirst + offset}`);
        assert.equal(server?.seen.length, before + 1, `host port ${PORTS.rangeFirst + offset} did not reach container port ${PORTS.containerRangeFirst + offset}`);
      }
      assert.equal(await topology.connect(topology.outside, 'tcp', ROUTER_UPLINK_IP, PORTS.rangeLast + 1), undefined, 'the port after the range');
    });

    test('a port with source CIDRs answers only those sources', async () => {
      const { outside, c100 } = topology;
      const fromSecond = { from: OUTSIDE_SECOND_IP };
      await expectAll([
        ['control: the second outside address reaches an unrestricted port', topology.connect(outside, 'tcp', ROUTER_UPLINK_IP, PORTS.anyTcp, fromSecond), OUTSIDE_SECOND_IP],
        ['every address, allowed source', topology.connect(outside, 'tcp', ROUTER_UPLINK_IP, PORTS.restrictedAny), OUTSIDE_IP],
        ['every address, other source', topology.connect(outside, 'tcp', ROUTER_UPLINK_IP, PORTS.restrictedAny, fromSecond), undefined],
        ['one address, allowed source', topology.connect(outside, 'tcp', ROUTER_SECOND_IP, PORTS.restrictedHostIp), OUTSIDE_IP],
        ['one address, other source', topology.connect(outside, 'tcp', ROUTER_SECOND_IP, PORTS.restrictedHostIp, fromSecond), undefined],
        ['one address, on another address', topology.connect(outside, 'tcp', ROUTER_UPLINK_IP, PORTS.restrictedHostIp), undefined],
        ['a container, not among the sources', topology.connect(c100, 'tcp', ROUTER_UPLINK_IP, PORTS.restrictedAny), undefined],
      ]);
    });

    test('a container reaches published ports through the router address (hairpin)', async () => {
      // Into another network: the router is on the path both ways.
      assert.notEqual(await topology.connect(topology.c100, 'tcp', ROUTER_UPLINK_IP, PORTS.anyTcp), undefined, 'to network 200');
      // Back into its own network, here to itself: only masquerading makes the answer come back through the router.
      assert.equal(await topology.connect(topology.c100, 'tcp', ROUTER_UPLINK_IP, PORTS.anyTcpTo100), NET100.gateway, 'to its own network');
    });

    test('the router itself reaches published ports on its addresses and on 127.0.0.1', async () => {
      const { router, outside } = topology;
      await expectAll([
        ['its uplink address', topology.connect(router, 'tcp', ROUTER_UPLINK_IP, PORTS.anyTcp), ROUTER_UPLINK_IP],
        // A loopback source cannot leave the router: it is masqueraded to the network's gateway.
        ['127.0.0.1, published on every address', topology.connect(router, 'tcp', '127.0.0.1', PORTS.anyTcp), NET200.gateway],
        ['127.0.0.1, published on 127.0.0.1', topology.connect(router, 'tcp', '127.0.0.1', PORTS.loopbackTcp), NET100.gateway],
        ['published on 127.0.0.1, asked on its uplink address', topology.connect(router, 'tcp', ROUTER_UPLINK_IP, PORTS.loopbackTcp), undefined],
        ['published on 127.0.0.1, asked from the outside', topology.connect(outside, 'tcp', ROUTER_UPLINK_IP, PORTS.loopbackTcp), undefined],
      ]);
    });

    test("neither a container nor the outside reaches the router's loopback addresses", async () => {
      const { c100, outside } = topology;
      // Sent to 127.0.0.0/8 through the router, as a hostile neighbour may:
      // neither the router's own services nor published ports answer there.
      await topology.withLoopbackVia(c100, NET100.gateway, () =>
        expectAll([
          ['a container, to a service of the router', topology.connect(c100, 'tcp', LOOPBACK_PROBE_IP, PORTS.routerOther), undefined],
          ['a container, to a port published on every address', topology.connect(c100, 'tcp', LOOPBACK_PROBE_IP, PORTS.anyTcp), undefined],
        ]),
      );
      await topology.withLoopbackVia(outside, ROUTER_UPLINK_IP, () =>
        expectAll([['the outside, to a port published on every address', topology.connect(outside, 'tcp', LOOPBACK_PROBE_IP, PORTS.anyTcp), undefined]]),
      );
    });

    test('from a container the gateway answers ping and DNS, and nothing else of the router', async () => {
      const { c100, outside } = topology;
      await expectAll([
        ['ping of its gateway', topology.ping(c100, NET100.gateway), true],
        ['udp 53 on its gateway', topology.connect(c100, 'udp', NET100.gateway, 53), NET100.container],
        ['tcp 53 on its gateway', topology.connect(c100, 'tcp', NET100.gateway, 53), NET100.container],
        ['another port of its gateway', topology.connect(c100, 'tcp', NET100.gateway, PORTS.routerOther), undefined],
        ['another port of the uplink address', topology.connect(c100, 'tcp', ROUTER_UPLINK_IP, PORTS.routerOther), undefined],
        ['DNS on the gateway of another network', topology.connect(c100, 'udp', NET200.gateway, 53), undefined],
        ['ping of the gateway of another network', topology.ping(c100, NET200.gateway), false],
        // The uplink side of the router is not the firewall's business.
        ['that port from the outside', topology.connect(outside, 'tcp', ROUTER_UPLINK_IP, PORTS.routerOther), OUTSIDE_IP],
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

    test('a mapping removed by update stops answering, one retargeted answers from its new container', async () => {
      const { outside } = topology;
      const retargeted = withMappings(withoutUdp(), (ms) => [
        ...ms.filter((m) => m.hostPort !== PORTS.anyTcp),
        suiteMapping('tcp', '', PORTS.anyTcp, NET100, 80),
      ]);
      try {
        await backend.update(baseState(), retargeted);
        const seenBy100 = c100Tcp.seen.length;
        const seenBy200 = c200Tcp.seen.length;
        await expectAll([
          ['the removed udp port', topology.connect(outside, 'udp', ROUTER_UPLINK_IP, PORTS.anyUdp), undefined],
          ['the retargeted tcp port', topology.connect(outside, 'tcp', ROUTER_UPLINK_IP, PORTS.anyTcp), OUTSIDE_IP],
          ['an untouched port', topology.connect(outside, 'tcp', ROUTER_SECOND_IP, PORTS.hostIpTcp), OUTSIDE_IP],
        ]);
        assert.deepEqual([c100Tcp.seen.length - seenBy100, c200Tcp.seen.length - seenBy200], [1, 1], 'new target of the retargeted port, and the untouched one');
        await backend.update(retargeted, baseState());
        assert.equal(await topology.connect(outside, 'udp', ROUTER_UPLINK_IP, PORTS.anyUdp), OUTSIDE_IP, 'published again');
      } finally {
        await backend.sync(baseState());
      }
    });

    test('after a sequence of updates the kernel equals a fresh sync of the last state', async () => {
      const base = baseState();
      const steps: FirewallState[] = [
        withoutUdp(),
        withMappings(withoutUdp(), (ms) => [
          ...ms.filter((m) => m.hostPort !== PORTS.restrictedAny),
          suiteMapping('tcp', '', PORTS.restrictedAny, NET200, 80, { sources: ['192.168.64.0/24'] }),
          suiteMapping('udp', '', 20000, NET100, 30000, { hostPortEnd: 20999 }),
        ]),
        // Network 200 gone, network 100 internal with a NAT source.
        {
          ...base,
          networks: [{ network: suiteNetwork(NET100, { internal: true, natSources: ['10.50.0.0/16'] }), interfaceName: NET100.interfaceName }],
          portMappings: base.portMappings.filter((m) => m.vlan === NET100.vlan),
        },
        // Another uplink changes rules, not only elements.
        { ...base, uplink: 'eth9' },
        withSctp(base),
        base,
      ];
      try {
        let previous = base;
        for (const [i, next] of steps.entries()) {
          await backend.update(previous, next);
          assert.equal(await backend.drift(next), '', `drift after update ${i + 1}`);
          previous = next;
        }
        const updated = await dump();
        assert.equal(updated, await freshDump(base));
      } finally {
        await backend.sync(base);
      }
    });

    test('SCTP mappings are applied, seen by drift and updated like the others', async () => {
      const base = baseState();
      try {
        await backend.sync(withSctp(base));
        assert.equal(await backend.drift(withSctp(base)), '');
        assert.notEqual(await backend.drift(base), '', 'drift does not see the SCTP mappings');
        await backend.update(withSctp(base), base);
        assert.equal(await backend.drift(base), '');
        await backend.update(base, withSctp(base));
        assert.equal(await backend.drift(withSctp(base)), '');
        const updated = await dump();
        assert.equal(updated, await freshDump(withSctp(base)));
      } finally {
        await backend.sync(base);
      }
    });

    test('syncing the same state again leaves the same objects, and drift sees none missing', async () => {
      await backend.sync(baseState());
      const first = await dump();
      await backend.sync(baseState());
      assert.equal(await dump(), first);
      assert.notEqual(first, '');
      assert.equal(await backend.drift(baseState()), '');
      assert.notEqual(await backend.drift(withoutUdp()), '', 'drift does not see a mapping too many');
    });

    test('after a global flush drift reports it, and the next sync repairs it with one copy of everything', async () => {
      const synced = await dump();
      await adapter.flush(topology.router.name);
      const flushed = await dump();
      assert.notEqual(await backend.drift(baseState()), '');
      assert.equal(await dump(), flushed, 'drift changed the kernel');
      await backend.sync(baseState());
      assert.equal(await backend.drift(baseState()), '');
      assert.equal(await dump(), synced);
      assert.equal(await topology.connect(topology.outside, 'tcp', ROUTER_UPLINK_IP, PORTS.anyTcp), OUTSIDE_IP, 'published port after the repair');
      assert.equal(await topology.connect(topology.c100, 'tcp', NET200.container, 80), undefined, 'isolation after the repair');
    });

    test('sync converges from a damaged table and from stale objects of its own', async () => {
      const synced = await dump();
      await adapter.damage(topology.router.name);
      assert.notEqual(await dump(), synced, 'the adapter did not damage anything');
      assert.notEqual(await backend.drift(baseState()), '');
      await backend.sync(baseState());
      assert.equal(await dump(), synced, 'after the damage');
      const other: FirewallState = {
        uplink: 'eth9',
        networks: [
          ...baseState().networks,
          { network: { ...suiteNetwork(NET100), vlan: 300, subnet: '10.30.0.0/24', gateway: '10.30.0.1' }, interfaceName: 'eth0.300' },
        ],
        portMappings: [suiteMapping('udp', '', 6000, NET200, 6000, { hostPortEnd: 6100, sources: ['10.0.0.0/8'] })],
      };
      await backend.sync(other);
      assert.notEqual(await backend.drift(baseState()), '');
      await backend.sync(baseState());
      assert.equal(await dump(), synced, 'after stale objects');
    });

    test("another tool's rules judged before ours do not open anything once synced", async () => {
      const { c100, outside, router } = topology;
      await backend.sync(baseState());
      const remove = await adapter.overtake(router.name);
      try {
        await backend.sync(baseState());
        assert.equal(await backend.drift(baseState()), '');
        await expectAll([
          ['another network', topology.connect(c100, 'tcp', NET200.container, 80), undefined],
          ['another port of its gateway', topology.connect(c100, 'tcp', NET100.gateway, PORTS.routerOther), undefined],
          ['a container from the outside', topology.connect(outside, 'tcp', NET100.container, 80), undefined],
          ['a published port from the outside', topology.connect(outside, 'tcp', ROUTER_UPLINK_IP, PORTS.anyTcp), OUTSIDE_IP],
        ]);
      } finally {
        await remove();
      }
    });

    test("objects of the same kind that are not the backend's are left alone", async () => {
      const router = topology.router.name;
      await adapter.addForeign(router);
      const foreign = await adapter.dumpForeign(router);
      assert.notEqual(foreign, '', 'the adapter created no foreign object');
      try {
        await backend.sync(baseState());
        await backend.update(baseState(), withoutUdp());
        await backend.update(withoutUdp(), baseState());
        await backend.drift(baseState());
        await backend.teardown();
        assert.equal(await adapter.dumpForeign(router), foreign);
      } finally {
        await backend.sync(baseState());
      }
      assert.equal(await adapter.dumpForeign(router), foreign);
    });

    test('teardown removes everything and lets traffic through again', async () => {
      await backend.teardown();
      assert.equal(await dump(), '', 'objects left after teardown');
      await backend.teardown(); // absent is success
      assert.notEqual(await backend.drift(baseState()), '');
      assert.equal(await topology.connect(topology.c100, 'tcp', NET200.container, 80), NET100.container, 'networks still isolated after teardown');
    });
  });

  if (adapter.capabilities?.sctpPackets === true) firewallSctpSuite(name, adapter);
}
