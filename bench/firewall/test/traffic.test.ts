/**
 * The checks every measurement relies on can fail: a probe through a port
 * nobody published rejects, and so does a closed-port probe through one
 * that is published.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BaselinePublisher } from '../src/baseline.js';
import { singlePort } from '../src/publisher.js';
import { CONTAINER_IP, ROUTER_IP, Topology } from '../src/topology.js';
import { TcpTarget, probe, probeClosed, sample } from '../src/traffic.js';

let topology: Topology;
let target: TcpTarget;
let publisher: BaselinePublisher;

before(async () => {
  topology = await Topology.create();
  target = await TcpTarget.start(topology.container, CONTAINER_IP, [80]);
  await topology.configureGateway();
  publisher = await BaselinePublisher.start(topology.router, '/usr/sbin/iptables', CONTAINER_IP);
});

after(async () => {
  await publisher?.close();
  await target?.stop();
  await topology?.delete();
});

test('a port nobody published does not answer', async () => {
  await assert.rejects(probe(topology.client, ROUTER_IP, [9001]), /1 of 1 published ports .* did not answer: port 9001/);
  await probeClosed(topology.client, ROUTER_IP, [9001]);
});

test('a published port answers until it is removed', async () => {
  await publisher.add(singlePort(9002, 80));
  await probe(topology.client, ROUTER_IP, [9002]);
  await assert.rejects(probeClosed(topology.client, ROUTER_IP, [9002]), /still answered/);
  await publisher.remove(singlePort(9002, 80));
  await probeClosed(topology.client, ROUTER_IP, [9002]);
});

test('samples keep the first and the last port', () => {
  assert.deepEqual(sample([1, 2, 3], 5), [1, 2, 3]);
  assert.deepEqual(sample([1, 2, 3, 4, 5, 6, 7, 8, 9], 3), [1, 5, 9]);
});
