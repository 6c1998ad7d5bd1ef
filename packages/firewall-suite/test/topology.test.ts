// The topology without any firewall: everything the suite expects a backend
// to block gets through, so each of the suite's "cannot" checks can fail.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  LOOPBACK_PROBE_IP,
  NET100,
  NET200,
  OUTSIDE_IP,
  OUTSIDE_SECOND_IP,
  ROUTER_UPLINK_IP,
  Topology,
  type EchoServer,
} from '../src/index.js';

let topology: Topology;
let outsideUdp: EchoServer;
before(async () => {
  topology = await Topology.create();
  outsideUdp = await topology.serve(topology.outside, 'udp', '0.0.0.0', 7000);
  await topology.serve(topology.c100, 'tcp', '0.0.0.0', 80);
  await topology.serve(topology.c200, 'tcp', '0.0.0.0', 80);
  await topology.serve(topology.router, 'tcp', '0.0.0.0', 9000);
  await topology.serve(topology.c200, 'tcp', '0.0.0.0', 81, 'socat');
});
after(async () => {
  await topology?.destroy();
});

test('without a firewall, networks reach each other and the router', async () => {
  assert.equal(await topology.connect(topology.c100, 'tcp', NET200.container, 80), NET100.container);
  assert.equal(await topology.ping(topology.c200, NET100.container), true);
  assert.equal(await topology.connect(topology.c100, 'tcp', NET100.gateway, 9000), NET100.container);
  assert.equal(await topology.ping(topology.c100, NET200.gateway), true);
});

test('without a firewall, the outside reaches containers directly', async () => {
  assert.equal(await topology.connect(topology.outside, 'tcp', NET200.container, 80), OUTSIDE_IP);
  assert.equal(await topology.connect(topology.outside, 'tcp', NET100.container, 80), OUTSIDE_IP);
});

test('without a firewall, a spoofed source gets out and nothing is masqueraded', async () => {
  await topology.c100.ip('address', 'add', '10.9.9.9/32', 'dev', 'eth0');
  // The answer cannot come back (the outside has no route to 10.9.9.9), but the server records the datagram.
  await topology.connect(topology.c100, 'udp', OUTSIDE_IP, 7000, { from: '10.9.9.9' });
  assert.ok(outsideUdp.seen.includes('10.9.9.9'), `seen: ${outsideUdp.seen.join(', ')}`);
  // Without masquerading the outside answers 172.18.0.2 through its route via the router.
  assert.equal(await topology.connect(topology.c100, 'udp', OUTSIDE_IP, 7000), NET100.container);
  assert.notEqual(NET100.container, ROUTER_UPLINK_IP);
});

test('without a firewall, a container that routes loopback addresses to the router reaches its loopback', async () => {
  const answer = await topology.withLoopbackVia(topology.c100, NET100.gateway, () => topology.connect(topology.c100, 'tcp', LOOPBACK_PROBE_IP, 9000));
  assert.equal(answer, NET100.container);
  // And the container's routes are back as they were.
  assert.equal(await topology.connect(topology.c100, 'tcp', LOOPBACK_PROBE_IP, 9000), undefined);
});

test('the network links have route_localnet on, as the VLAN backend sets it', async () => {
  for (const net of [NET100, NET200]) assert.equal(await topology.router.sysctl('net', 'ipv4', 'conf', net.interfaceName, 'route_localnet'), '1');
});

test("the outside's second address sends and receives", async () => {
  assert.equal(await topology.connect(topology.outside, 'tcp', NET200.container, 80, { from: OUTSIDE_SECOND_IP }), OUTSIDE_SECOND_IP);
});

// The SCTP checks use socat; this kernel has no SCTP, so socat's probes are
// shown to work over TCP.
test('the socat probes answer with the client address and tell a closed port', async () => {
  assert.equal(await topology.connect(topology.c100, 'tcp', NET200.container, 81, { tool: 'socat' }), NET100.container);
  assert.equal(await topology.connect(topology.outside, 'tcp', NET200.container, 81, { tool: 'socat', from: OUTSIDE_SECOND_IP }), OUTSIDE_SECOND_IP);
  assert.equal(await topology.connect(topology.c100, 'tcp', NET200.container, 82, { tool: 'socat' }), undefined);
});
