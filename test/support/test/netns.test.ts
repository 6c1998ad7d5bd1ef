// Needs root: creates and deletes real network namespaces.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IP, Netns, createNetnsWithEth0, runChecked, vethArgs } from '../src/index.js';

async function namespaces(): Promise<string[]> {
  return (await runChecked(IP, ['netns', 'list'])).stdout.split('\n').map((line) => line.split(' ')[0] ?? '');
}

test('a namespace has a unique rs-<pid>-<random> name and can be deleted twice', async () => {
  const [one, two] = [await Netns.create(), await Netns.create()];
  try {
    assert.match(one.name, new RegExp(`^rs-${process.pid}-[0-9a-f]{8}$`));
    assert.notEqual(one.name, two.name);
    assert.ok((await namespaces()).includes(one.name));
  } finally {
    try {
      await one.delete();
    } finally {
      await two.delete();
    }
  }
  await one.delete();
  assert.ok(!(await namespaces()).includes(one.name));
});

test('ip, exec and sysctl act inside the namespace', async () => {
  const ns = await createNetnsWithEth0({ address: '192.168.64.2/24', mtu: 1400 });
  try {
    const [eth0] = JSON.parse(await ns.ip('-json', '-4', 'address', 'show', 'dev', 'eth0')) as Array<{ mtu: number; flags: string[]; addr_info: Array<{ local: string }> }>;
    assert.equal(eth0?.mtu, 1400);
    assert.ok(eth0?.flags.includes('UP'));
    assert.deepEqual(eth0?.addr_info.map((a) => a.local), ['192.168.64.2']);
    assert.equal(await ns.sysctl('net', 'ipv4', 'conf', 'eth0', 'forwarding'), '0');
    const routes = await ns.exec(IP, ['-4', 'route', 'show', 'default']);
    assert.deepEqual([routes.code, routes.stdout], [0, '']);
    await assert.rejects(ns.ip('link', 'show', 'dev', 'absent0'), /absent0/);
  } finally {
    await ns.delete();
  }
});

test('vethArgs puts each end where it is asked to', () => {
  assert.deepEqual(vethArgs({ name: 'eth0' }, { name: 'uplink', netns: 'fabric' }), ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'uplink', 'netns', 'fabric']);
  assert.deepEqual(vethArgs({ name: 'p-c1', netns: 'fabric' }, { name: 'eth0', netns: 'c1', mtu: 1450 }), [
    'link', 'add', 'p-c1', 'netns', 'fabric', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', 'c1', 'mtu', '1450',
  ]);
});
