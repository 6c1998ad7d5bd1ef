// Real ARP from a client namespace plugged into the router's b0, asking for
// an address the router holds on a0: the weak host model answers until b0
// is isolated.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { RouterError } from '@router-service/core';
import { createIproute2VlanBackend } from '../src/index.js';
import { Netns } from './netns.js';

const ARPING = '/usr/bin/arping';

let router: Netns;
let client: Netns;
before(() => {
  assert.ok(existsSync(ARPING), `${ARPING} is missing: install iputils-arping`);
  router = new Netns();
  client = new Netns();
});
after(() => {
  router.delete();
  client.delete();
});

/** Whether the router answers ARP for `target` on the client's link. */
function arping(target: string): boolean {
  return client.run(ARPING, '-f', '-c', '2', '-w', '2', '-I', 'eth0', target) === 0;
}

test('isolate stops ARP answers for addresses of other interfaces', async () => {
  router.ip('link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'a1');
  router.ip('link', 'add', 'b0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client.name);
  router.ip('addr', 'add', '10.1.0.1/24', 'dev', 'a0');
  router.ip('addr', 'add', '10.2.0.1/24', 'dev', 'b0');
  for (const name of ['a0', 'a1', 'b0']) router.ip('link', 'set', name, 'up');
  client.ip('addr', 'add', '10.1.0.50/24', 'dev', 'eth0');
  client.ip('link', 'set', 'eth0', 'up');

  assert.ok(arping('10.1.0.1'), 'control: the router did not answer ARP for 10.1.0.1 on b0 before isolation, so this test proves nothing');
  await createIproute2VlanBackend({ netns: router.name }).isolate('b0');
  assert.ok(!arping('10.1.0.1'), 'after isolate(b0) the router still answers ARP on b0 for the address of a0');

  client.ip('addr', 'add', '10.2.0.50/24', 'dev', 'eth0');
  assert.ok(arping('10.2.0.1'), 'after isolate(b0) the router no longer answers ARP for the address of b0 itself');
  for (const [key, value] of [['arp_ignore', '1'], ['arp_announce', '2'], ['rp_filter', '1']] as const) {
    assert.equal(router.sysctl('net', 'ipv4', 'conf', 'b0', key), value, key);
    assert.equal(router.sysctl('net', 'ipv4', 'conf', 'a0', key), '0', `${key} of a0 changed`);
  }
});

test('isolate reaches dotted names and refuses missing ones', async () => {
  const backend = createIproute2VlanBackend({ netns: router.name });
  router.ip('link', 'add', 'c0.5', 'type', 'veth', 'peer', 'name', 'c1');
  await backend.isolate('c0.5');
  assert.equal(router.sysctl('net', 'ipv4', 'conf', 'c0.5', 'arp_ignore'), '1');
  await assert.rejects(
    backend.isolate('absent0'),
    (err) => err instanceof RouterError && err.kind === 'precondition' && /absent0/.test(err.message),
  );
});
