// Links are ours only when tagged; anyone else's are never changed.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { RouterError } from '@router-service/core';
import { Netns } from '@router-service/test-support';
import { OWNER_ALIAS, createIproute2VlanBackend } from '../src/index.js';

let ns: Netns;
beforeEach(async () => {
  ns = await Netns.create();
});
afterEach(() => ns.delete());

const isPrecondition = (err: unknown) => err instanceof RouterError && err.kind === 'precondition';

test('foreign links are left alone', async () => {
  const backend = createIproute2VlanBackend({ netns: ns.name });
  await ns.ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'peer0');
  // Someone else's link with the name our VLAN 100 link would take.
  await ns.ip('link', 'add', 'eth0.100', 'type', 'veth', 'peer', 'name', 'peer100');
  await ns.ip('addr', 'add', '10.100.0.9/24', 'dev', 'eth0.100');
  await ns.ip('link', 'set', 'eth0.100', 'alias', 'someone-else');
  const before = await backend.status('eth0.100');

  await assert.rejects(
    backend.ensureVlan({ parent: 'eth0', vlan: 100, mtu: 0, address: '10.100.0.1/24' }),
    (err) => isPrecondition(err) && /^interface eth0\.100 exists and is not managed by router-service: remove or rename it$/.test((err as Error).message),
  );
  await assert.rejects(backend.deleteVlan('eth0.100'), isPrecondition);

  const after = await backend.status('eth0.100');
  assert.ok(after, 'the foreign link is gone');
  assert.deepEqual(after, before);
  assert.equal(after.owned, false);
  assert.deepEqual(after.addresses, ['10.100.0.9/24']);
  assert.equal(await ns.sysctl('net', 'ipv4', 'conf', 'eth0.100', 'arp_ignore'), '0', 'the foreign link was isolated');
  assert.deepEqual(await backend.owned(), []);
});

test('owned links are found and deleted; deleting twice is fine', async () => {
  const backend = createIproute2VlanBackend({ netns: ns.name });
  await ns.ip('link', 'add', 'eth0.7', 'type', 'veth', 'peer', 'name', 'peer7');
  await ns.ip('link', 'set', 'eth0.7', 'alias', OWNER_ALIAS);
  await ns.ip('link', 'add', 'eth0.8', 'type', 'veth', 'peer', 'name', 'peer8');
  const owned = await backend.owned();
  assert.deepEqual(
    owned.map((s) => [s.name, s.owned]),
    [['eth0.7', true]],
  );
  for (let round = 0; round < 2; round++) {
    await backend.deleteVlan('eth0.7');
  }
  assert.equal(await backend.status('eth0.7'), undefined);
  assert.deepEqual(await backend.owned(), []);
  assert.ok(await backend.status('eth0.8'), 'an untagged link went with it');
});

test('status reads index, MAC, MTU, up and global IPv4 addresses', async () => {
  const backend = createIproute2VlanBackend({ netns: ns.name });
  await ns.ip('link', 'add', 'gw0', 'mtu', '1400', 'address', '02:AB:cd:00:00:01', 'type', 'veth', 'peer', 'name', 'gw1');
  await ns.ip('addr', 'add', '172.18.0.1/16', 'dev', 'gw0');
  await ns.ip('addr', 'add', '172.19.0.1/24', 'dev', 'gw0');
  await ns.ip('addr', 'add', 'fd00::1/64', 'dev', 'gw0');
  const [shown] = JSON.parse(await ns.ip('-json', 'link', 'show', 'dev', 'gw0')) as Array<{ ifindex: number }>;

  assert.deepEqual(await backend.status('gw0'), {
    name: 'gw0',
    index: shown?.ifindex,
    vlan: 0,
    mac: '02:ab:cd:00:00:01',
    mtu: 1400,
    up: false,
    owned: false,
    addresses: ['172.18.0.1/16', '172.19.0.1/24'],
  });
  assert.equal(await backend.status('absent0'), undefined);
});

test('up means administratively up with a carrier, or an unknown operstate', async () => {
  const backend = createIproute2VlanBackend({ netns: ns.name });
  await ns.ip('link', 'add', 'gw0', 'type', 'veth', 'peer', 'name', 'gw1');
  await ns.ip('link', 'set', 'gw0', 'up');
  // The peer is down: operstate LOWERLAYERDOWN.
  assert.equal((await backend.status('gw0'))?.up, false);
  await ns.ip('link', 'set', 'gw1', 'up');
  assert.equal((await backend.status('gw0'))?.up, true);
  await ns.ip('link', 'set', 'gw0', 'down');
  assert.equal((await backend.status('gw0'))?.up, false);
  // Loopback is always operstate UNKNOWN.
  await ns.ip('link', 'set', 'lo', 'up');
  assert.equal((await backend.status('lo'))?.up, true);
});
