// ensureVlan against the running kernel. A kernel without 802.1Q must give
// the message that names module 8021q and leave nothing behind; a kernel
// with it must converge a real VLAN link.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { RouterError } from '@router-service/core';
import type { LinkStatus, VlanBackend } from '@router-service/core';
import { Netns } from '@router-service/test-support';
import { createIproute2VlanBackend } from '../src/index.js';

let ns: Netns;

async function waitUntilUp(backend: VlanBackend, name: string): Promise<LinkStatus> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const status = await backend.status(name);
    if (status?.up === true) return status;
    await delay(100);
  }
  assert.fail(`${name} did not come up within 5 s`);
}

before(async () => {
  ns = await Netns.create();
  await ns.ip('link', 'add', 'eth0', 'mtu', '1450', 'type', 'veth', 'peer', 'name', 'peer0');
  await ns.ip('link', 'set', 'eth0', 'up');
  await ns.ip('link', 'set', 'peer0', 'up');
});
after(() => ns.delete());

test('ensureVlan converges a VLAN link, or names module 8021q when the kernel has none', async () => {
  const backend = createIproute2VlanBackend({ netns: ns.name });
  const want = { parent: 'eth0', vlan: 100, mtu: 0, address: '172.18.0.1/16' };
  let created;
  try {
    created = await backend.ensureVlan(want);
  } catch (err) {
    assert.ok(err instanceof RouterError, String(err));
    assert.equal(err.kind, 'precondition');
    assert.match(err.message, /^creating VLAN link eth0\.100: the kernel has no 802\.1Q support \(load module 8021q\)/);
    // The module loads on demand: once the attempt failed it is truly absent.
    assert.ok(!existsSync('/proc/net/vlan/config'), `${err.message}, yet /proc/net/vlan/config exists`);
    assert.equal(await backend.status('eth0.100'), undefined, 'a failed ensureVlan left a link behind');
    return;
  }
  // Index and MAC are the kernel's choice; operstate settles later.
  assert.deepEqual({ ...created, index: 0, mac: '', up: false }, {
    name: 'eth0.100',
    index: 0,
    vlan: 100,
    mac: '',
    mtu: 1450,
    up: false,
    owned: true,
    addresses: ['172.18.0.1/16'],
  });
  assert.equal(await ns.sysctl('net', 'ipv4', 'conf', 'eth0.100', 'arp_ignore'), '1');
  assert.equal(await ns.sysctl('net', 'ipv4', 'conf', 'eth0.100', 'route_localnet'), '1');
  assert.equal(await ns.sysctl('net', 'ipv6', 'conf', 'eth0.100', 'disable_ipv6'), '1');
  // The kernel updates operstate asynchronously (linkwatch, up to a second).
  const settled = await waitUntilUp(backend, 'eth0.100');
  assert.deepEqual(await backend.ensureVlan(want), settled);
  const moved = await backend.ensureVlan({ ...want, mtu: 1400, address: '172.18.0.254/16' });
  assert.deepEqual([moved.index, moved.mtu, moved.addresses], [settled.index, 1400, ['172.18.0.254/16']]);
  assert.deepEqual((await backend.owned()).map((s) => s.name), ['eth0.100']);
  await backend.deleteVlan('eth0.100');
  assert.equal(await backend.status('eth0.100'), undefined);
});
