import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { Netns } from '@router-service/test-support';
import { createIproute2VlanBackend } from '../src/index.js';

let ns: Netns;
beforeEach(async () => {
  ns = await Netns.create();
});
afterEach(() => ns.delete());

test('enableForwarding turns on IPv4 forwarding in the namespace', async () => {
  assert.equal(await ns.sysctl('net', 'ipv4', 'ip_forward'), '0', 'a new namespace already forwards: this test proves nothing');
  const backend = createIproute2VlanBackend({ netns: ns.name });
  await backend.enableForwarding();
  assert.equal(await ns.sysctl('net', 'ipv4', 'ip_forward'), '1');
  await backend.enableForwarding();
  assert.equal(await ns.sysctl('net', 'ipv4', 'ip_forward'), '1');
});
