// ensureVlan's commands, checked against a scripted ip: this kernel cannot
// create 802.1Q links, so the argv and batch text are what can be proven here.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RouterError, silentLogger } from '@router-service/core';
import { Iproute2VlanBackend } from '../src/backend.js';
import { netnsSysctlWriter } from '../src/sysctl.js';
import { ScriptedIp, batch, fakeBackend, readLink } from './fake-ip.js';
import type { FakeLink } from './fake-ip.js';

const parent: FakeLink = { index: 2, name: 'eth0', mtu: 1500, up: true, kind: 'veth', addresses: ['10.0.2.15/24'] };
const vlan100: FakeLink = { index: 7, name: 'eth0.100', parent: 'eth0', kind: 'vlan', vlan: 100, alias: 'router-service', mtu: 1500 };
const converged: FakeLink = { ...vlan100, up: true, addresses: ['172.18.0.1/16'] };
const want = { parent: 'eth0', vlan: 100, mtu: 0, address: '172.18.0.1/16' };
const createLines = [
  'link add link eth0 name eth0.100 mtu 1500 type vlan protocol 802.1Q id 100',
  'link set dev eth0.100 alias router-service',
];
const isolation = [
  'sysctl net/ipv4/conf/eth0.100/arp_ignore=1',
  'sysctl net/ipv4/conf/eth0.100/arp_announce=2',
  'sysctl net/ipv4/conf/eth0.100/rp_filter=1',
  'sysctl net/ipv4/conf/eth0.100/route_localnet=1',
  'sysctl net/ipv6/conf/eth0.100/disable_ipv6=1',
  'sysctl net/ipv4/conf/eth0.100/promote_secondaries=1',
];

function assertRouterError(kind: string, message: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof RouterError, `not a RouterError: ${String(err)}`);
    assert.equal(err.kind, kind);
    assert.match(err.message, message);
    return true;
  };
}

describe('ensureVlan commands', () => {
  test('creates a tagged VLAN, isolates it before addressing it, then brings it up', async () => {
    const ip = new ScriptedIp([
      readLink('eth0', parent),
      readLink('eth0.100', undefined),
      batch(createLines),
      readLink('eth0.100', vlan100),
      batch(['address replace 172.18.0.1/16 broadcast + dev eth0.100']),
      batch(['link set dev eth0.100 up'], { force: true }),
      readLink('eth0.100', converged),
    ]);
    const status = await fakeBackend(ip).ensureVlan(want);
    ip.assertDone();
    assert.deepEqual(status, {
      name: 'eth0.100',
      index: 7,
      vlan: 100,
      mac: '52:54:00:00:00:07',
      mtu: 1500,
      up: true,
      owned: true,
      addresses: ['172.18.0.1/16'],
    });
    assert.deepEqual(ip.events, [
      'ip -json -details address show dev eth0',
      'ip -json -details address show dev eth0.100',
      'ip -batch -',
      'ip -json -details address show dev eth0.100',
      ...isolation,
      'ip -batch -',
      'ip -force -batch -',
      'ip -json -details address show dev eth0.100',
    ]);
  });

  test('in a namespace every ip command and every setting goes there', async () => {
    const ns = ['-n', 'ns1'];
    const ip = new ScriptedIp([
      readLink('eth0', parent, ns),
      readLink('eth0.100', undefined, ns),
      batch(createLines, { prefix: ns }),
      readLink('eth0.100', vlan100, ns),
      {
        args: [
          'netns', 'exec', 'ns1', '/usr/sbin/sysctl', '-q', '-w',
          'net/ipv4/conf/eth0.100/arp_ignore=1',
          'net/ipv4/conf/eth0.100/arp_announce=2',
          'net/ipv4/conf/eth0.100/rp_filter=1',
          'net/ipv4/conf/eth0.100/route_localnet=1',
          'net/ipv4/conf/eth0.100/promote_secondaries=1',
        ],
      },
      // Without IPv6 in the kernel there is no such key: -e skips it.
      { args: ['netns', 'exec', 'ns1', '/usr/sbin/sysctl', '-e', '-q', '-w', 'net/ipv6/conf/eth0.100/disable_ipv6=1'] },
      batch(['address replace 172.18.0.1/16 broadcast + dev eth0.100'], { prefix: ns }),
      batch(['link set dev eth0.100 up'], { prefix: ns, force: true }),
      readLink('eth0.100', converged, ns),
    ]);
    const backend = new Iproute2VlanBackend({
      run: ip.run,
      sysctl: netnsSysctlWriter(ip.run, 'ns1', '/usr/sbin/sysctl'),
      netns: 'ns1',
      log: silentLogger,
    });
    await backend.ensureVlan(want);
    ip.assertDone();
  });

  test('a converged link is left as it is', async () => {
    const ip = new ScriptedIp([readLink('eth0', parent), readLink('eth0.100', converged), readLink('eth0.100', converged)]);
    const status = await fakeBackend(ip).ensureVlan(want);
    ip.assertDone();
    assert.equal(status.up, true);
    assert.deepEqual(ip.events.filter((e) => e.startsWith('sysctl')), isolation, 'isolation is reasserted');
  });

  test('fixes MTU and addresses: the new address first, then the stale ones', async () => {
    const drifted: FakeLink = { ...converged, mtu: 1500, addresses: ['172.18.0.9/16', '10.9.0.1/24'] };
    const ip = new ScriptedIp([
      readLink('eth0', parent),
      readLink('eth0.100', drifted),
      batch(['link set dev eth0.100 mtu 1400', 'address replace 172.18.0.1/16 broadcast + dev eth0.100']),
      batch(['address del 172.18.0.9/16 dev eth0.100', 'address del 10.9.0.1/24 dev eth0.100'], { force: true }),
      readLink('eth0.100', { ...converged, mtu: 1400 }),
    ]);
    const status = await fakeBackend(ip).ensureVlan({ ...want, mtu: 1400 });
    ip.assertDone();
    assert.equal(status.mtu, 1400);
    // An MTU change may have dropped the link's IPv6 settings (below 1280) and brought back the defaults: IPv6 goes off again.
    assert.deepEqual(ip.events.filter((e) => e.startsWith('sysctl')), [...isolation, 'sysctl net/ipv6/conf/eth0.100/disable_ipv6=1']);
  });

  test('a point-to-point prefix gets no broadcast address', async () => {
    const ip = new ScriptedIp([
      readLink('eth0', parent),
      readLink('eth0.100', { ...converged, addresses: [] }),
      batch(['address replace 10.0.0.0/31 dev eth0.100']),
      readLink('eth0.100', { ...converged, addresses: ['10.0.0.0/31'] }),
    ]);
    await fakeBackend(ip).ensureVlan({ ...want, address: '10.0.0.0/31' });
    ip.assertDone();
  });

  for (const [what, drifted] of [
    ['a link of ours that is not a VLAN', { ...vlan100, kind: 'veth', parent: undefined, vlan: undefined }],
    ['a VLAN of ours on another parent', { ...vlan100, parent: 'eth1' }],
    ['a VLAN of ours with another id', { ...vlan100, vlan: 200 }],
  ] as const) {
    test(`replaces ${what}`, async () => {
      const ip = new ScriptedIp([
        readLink('eth0', parent),
        readLink('eth0.100', drifted),
        { args: ['link', 'delete', 'dev', 'eth0.100'] },
        batch(createLines),
        readLink('eth0.100', converged),
        readLink('eth0.100', converged),
      ]);
      await fakeBackend(ip).ensureVlan(want);
      ip.assertDone();
    });
  }

  test('refuses a foreign link of that name and leaves it alone', async () => {
    const ip = new ScriptedIp([readLink('eth0', parent), readLink('eth0.100', { ...converged, alias: '' })]);
    await assert.rejects(
      fakeBackend(ip).ensureVlan(want),
      assertRouterError('precondition', /^interface eth0\.100 exists and is not managed by router-service: remove or rename it$/),
    );
    ip.assertDone();
    assert.ok(!ip.events.some((e) => e.startsWith('sysctl')));
  });

  test('refuses a missing parent', async () => {
    const ip = new ScriptedIp([readLink('eth0', undefined)]);
    await assert.rejects(fakeBackend(ip).ensureVlan(want), assertRouterError('precondition', /^parent interface eth0 does not exist$/));
    ip.assertDone();
  });

  for (const stderr of ['Error: 8021q: VLAN device already exists.\n', 'RTNETLINK answers: File exists\n']) {
    test(`reports the VLAN under another name: ${stderr.trim()}`, async () => {
      const ip = new ScriptedIp([
        readLink('eth0', parent),
        readLink('eth0.100', undefined),
        batch(createLines, { result: { exitCode: 1, stderr: `${stderr}Command failed -:1\n` } }),
      ]);
      await assert.rejects(
        fakeBackend(ip).ensureVlan(want),
        assertRouterError('precondition', /^VLAN 100 already exists on eth0 under another name: remove that link first$/),
      );
      ip.assertDone();
    });
  }

  for (const stderr of ['Error: Unknown device type.\n', 'RTNETLINK answers: Operation not supported\n']) {
    test(`names module 8021q when the kernel lacks 802.1Q: ${stderr.trim()}`, async () => {
      const ip = new ScriptedIp([
        readLink('eth0', parent),
        readLink('eth0.100', undefined),
        batch(createLines, { result: { exitCode: 1, stderr: `${stderr}Command failed -:1\n` } }),
      ]);
      await assert.rejects(
        fakeBackend(ip).ensureVlan(want),
        assertRouterError('precondition', /^creating VLAN link eth0\.100: the kernel has no 802\.1Q support \(load module 8021q\)/),
      );
      ip.assertDone();
    });
  }

  test('takes an untagged new link away again', async () => {
    const ip = new ScriptedIp([
      readLink('eth0', parent),
      readLink('eth0.100', undefined),
      batch(createLines, { result: { exitCode: 1, stderr: 'RTNETLINK answers: Operation not permitted\nCommand failed -:2\n' } }),
      { args: ['link', 'delete', 'dev', 'eth0.100'] },
    ]);
    await assert.rejects(
      fakeBackend(ip).ensureVlan(want),
      /^Error: tagging eth0\.100 as ours: ip -batch failed: "link set dev eth0\.100 alias router-service": RTNETLINK answers: Operation not permitted$/,
    );
    ip.assertDone();
  });

  test('keeps the old addresses when the new one cannot be added', async () => {
    const ip = new ScriptedIp([
      readLink('eth0', parent),
      readLink('eth0.100', { ...converged, addresses: ['172.18.0.9/16'] }),
      batch(['address replace 172.18.0.1/16 broadcast + dev eth0.100'], {
        result: { exitCode: 1, stderr: 'RTNETLINK answers: Permission denied\nCommand failed -:1\n' },
      }),
    ]);
    await assert.rejects(fakeBackend(ip).ensureVlan(want), /configuring eth0\.100: .*address replace 172\.18\.0\.1\/16.*Permission denied/);
    ip.assertDone();
  });

  test('a stale address that is already gone is no failure; other failures are', async () => {
    const stale: FakeLink = { ...vlan100, addresses: ['172.18.0.9/16'] };
    const removals = ['address del 172.18.0.9/16 dev eth0.100', 'link set dev eth0.100 up'];
    const goneResult = { exitCode: 1, stderr: 'Error: ipv4: Address not found.\nCommand failed -:1\n' };
    const ok = new ScriptedIp([
      readLink('eth0', parent),
      readLink('eth0.100', stale),
      batch(['address replace 172.18.0.1/16 broadcast + dev eth0.100']),
      batch(removals, { force: true, result: goneResult }),
      readLink('eth0.100', converged),
    ]);
    await fakeBackend(ok).ensureVlan(want);
    ok.assertDone();

    const failing = new ScriptedIp([
      readLink('eth0', parent),
      readLink('eth0.100', stale),
      batch(['address replace 172.18.0.1/16 broadcast + dev eth0.100']),
      batch(removals, {
        force: true,
        result: { exitCode: 1, stderr: `${goneResult.stderr}RTNETLINK answers: Network is down\nCommand failed -:2\n` },
      }),
    ]);
    await assert.rejects(
      fakeBackend(failing).ensureVlan(want),
      /^Error: configuring eth0\.100: ip -batch failed: "link set dev eth0\.100 up": RTNETLINK answers: Network is down$/,
    );
    failing.assertDone();
  });

  test('a listing the kernel interrupted is read again', async () => {
    const interrupted = {
      args: ['-json', '-details', 'address', 'show', 'dev', 'eth0'],
      result: { exitCode: 1, stdout: '[{"ifindex":', stderr: 'Dump was interrupted and may be inconsistent.\nDump terminated\n' },
    };
    const ip = new ScriptedIp([interrupted, interrupted, readLink('eth0', parent), readLink('eth0.100', converged), readLink('eth0.100', converged)]);
    await fakeBackend(ip).ensureVlan(want);
    ip.assertDone();
  });

  test('wraps an unexpected ip failure with the command and its stderr', async () => {
    const ip = new ScriptedIp([
      { args: ['-json', '-details', 'address', 'show', 'dev', 'eth0'], result: { exitCode: 255, stderr: 'Cannot open netlink socket: Permission denied\n' } },
    ]);
    await assert.rejects(
      fakeBackend(ip).ensureVlan(want),
      /^Error: looking up link eth0: ip -json -details address show dev eth0 failed \(exit 255\): Cannot open netlink socket: Permission denied$/,
    );
  });

  for (const [what, link] of [
    ['VLAN 0', { ...want, vlan: 0 }],
    ['VLAN 4095', { ...want, vlan: 4095 }],
    ['a negative MTU', { ...want, mtu: -1 }],
    ['an address without prefix length', { ...want, address: '172.18.0.1' }],
    ['a non-canonical address', { ...want, address: '172.018.0.1/16' }],
    ['a name longer than IFNAMSIZ', { ...want, parent: 'enp0s31f6abcde', vlan: 4094 }],
    ['a parent name with a slash', { ...want, parent: 'a/b' }],
  ] as const) {
    test(`rejects ${what} without running anything`, async () => {
      const ip = new ScriptedIp([]);
      await assert.rejects(fakeBackend(ip).ensureVlan(link), assertRouterError('invalid', /invalid/));
      assert.deepEqual(ip.events, []);
    });
  }
});
