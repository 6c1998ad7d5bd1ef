// Real ARP from a client namespace plugged into the router's b0, asking for
// an address the router holds on a0: the weak host model answers until b0
// is isolated.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { RouterError } from '@router-service/core';
import { Netns } from '@router-service/test-support';
import { OWNER_ALIAS, createIproute2VlanBackend } from '../src/index.js';

const ARPING = '/usr/bin/arping';

let router: Netns;
let client: Netns;
before(async () => {
  assert.ok(existsSync(ARPING), `${ARPING} is missing: install iputils-arping`);
  router = await Netns.create();
  client = await Netns.create();
});
// before() may have stopped after creating only one, and either delete may
// throw: each is deleted in its own step so that neither is left behind.
after(async () => {
  try {
    await router?.delete();
  } finally {
    await client?.delete();
  }
});

/** Whether the router answers ARP for `target` on the client's link. */
async function arping(target: string): Promise<boolean> {
  return (await client.exec(ARPING, ['-f', '-c', '2', '-w', '2', '-I', 'eth0', target])).code === 0;
}

test('isolate stops ARP answers for addresses of other interfaces', async () => {
  await router.ip('link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'a1');
  await router.ip('link', 'add', 'b0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client.name);
  await router.ip('addr', 'add', '10.1.0.1/24', 'dev', 'a0');
  await router.ip('addr', 'add', '10.2.0.1/24', 'dev', 'b0');
  for (const name of ['a0', 'a1', 'b0']) await router.ip('link', 'set', name, 'up');
  await client.ip('addr', 'add', '10.1.0.50/24', 'dev', 'eth0');
  await client.ip('link', 'set', 'eth0', 'up');

  assert.ok(await arping('10.1.0.1'), 'control: the router did not answer ARP for 10.1.0.1 on b0 before isolation, so this test proves nothing');
  await createIproute2VlanBackend({ netns: router.name }).isolate('b0');
  assert.ok(!(await arping('10.1.0.1')), 'after isolate(b0) the router still answers ARP on b0 for the address of a0');

  await client.ip('addr', 'add', '10.2.0.50/24', 'dev', 'eth0');
  assert.ok(await arping('10.2.0.1'), 'after isolate(b0) the router no longer answers ARP for the address of b0 itself');
  for (const [key, value] of [['arp_ignore', '1'], ['arp_announce', '2'], ['rp_filter', '1']] as const) {
    assert.equal(await router.sysctl('net', 'ipv4', 'conf', 'b0', key), value, key);
    assert.equal(await router.sysctl('net', 'ipv4', 'conf', 'a0', key), '0', `${key} of a0 changed`);
  }
  // Not a link of ours, so not a network link: loopback addresses stay off it, and IPv6 on.
  assert.equal(await router.sysctl('net', 'ipv4', 'conf', 'b0', 'route_localnet'), '0');
  assert.equal(await router.sysctl('net', 'ipv6', 'conf', 'b0', 'disable_ipv6'), '0');
});

test('isolate lets a link of ours carry loopback addresses, as network links must, and switches IPv6 off on it', async () => {
  await router.ip('link', 'add', 'd0.7', 'type', 'veth', 'peer', 'name', 'd1');
  await router.ip('link', 'set', 'dev', 'd0.7', 'alias', OWNER_ALIAS);
  await router.ip('link', 'set', 'd0.7', 'up');
  await router.ip('link', 'set', 'd1', 'up');
  assert.match(await router.ip('-6', 'addr', 'show', 'dev', 'd0.7'), /inet6 fe80::/, 'control: the link has a link-local IPv6 address before');
  await createIproute2VlanBackend({ netns: router.name }).isolate('d0.7');
  assert.equal(await router.sysctl('net', 'ipv4', 'conf', 'd0.7', 'route_localnet'), '1');
  assert.equal(await router.sysctl('net', 'ipv4', 'conf', 'd0.7', 'arp_ignore'), '1');
  assert.equal(await router.sysctl('net', 'ipv6', 'conf', 'd0.7', 'disable_ipv6'), '1');
  assert.doesNotMatch(await router.ip('-6', 'addr', 'show', 'dev', 'd0.7'), /inet6/, 'an IPv6 address stayed on a network link');
});

test('isolate reaches dotted names and refuses missing ones', async () => {
  const backend = createIproute2VlanBackend({ netns: router.name });
  await router.ip('link', 'add', 'c0.5', 'type', 'veth', 'peer', 'name', 'c1');
  await backend.isolate('c0.5');
  assert.equal(await router.sysctl('net', 'ipv4', 'conf', 'c0.5', 'arp_ignore'), '1');
  await assert.rejects(
    backend.isolate('absent0'),
    (err) => err instanceof RouterError && err.kind === 'precondition' && /absent0/.test(err.message),
  );
});
