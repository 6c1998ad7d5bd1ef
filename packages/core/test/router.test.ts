import assert from 'node:assert/strict';
import { after, afterEach, describe, test } from 'node:test';
import type { ErrorKind } from '../src/errors.js';
import type { NetworkView } from '../src/views.js';
import { FakeVlanBackend } from './fake-vlan-backend.js';
import { assertRouterError, testUplink } from './helpers.js';
import { create, newHarness, newStateDir, removeStateDirs, type Harness } from './router-harness.js';

const harnesses: Harness[] = [];
async function harness(...args: Parameters<typeof newHarness>): Promise<Harness> {
  const h = await newHarness(...args);
  harnesses.push(h);
  return h;
}
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.stop();
});
after(removeStateDirs);

describe('Router networks', () => {
  test('an identical createNetwork changes nothing and succeeds', async () => {
    const h = await harness();
    const first = await h.router.createNetwork(create(100, '172.18.0.0/16'));
    assert.equal(first.interfaceName, 'eth0.100');
    assert.notEqual(first.macAddress, '');
    const index = h.vlan.link('eth0.100').index;
    const logged = h.log.lines.filter((l) => l.level === 'info').length;
    assert.deepEqual(await h.router.createNetwork(create(100, '172.18.0.0/16')), first);
    assert.equal(h.vlan.link('eth0.100').index, index, 'the repeat recreated the link');
    assert.equal(h.log.lines.filter((l) => l.level === 'info').length, logged, 'the repeat logged a change');
  });

  test('a changed spec converges in place', async () => {
    const h = await harness();
    await h.router.createNetwork(create(100, '172.18.0.0/16'));
    await h.router.createNetwork(create(100, '10.9.0.0/24', { gateway: '10.9.0.254', mtu: 1400, enableNat: false }));
    const link = h.vlan.link('eth0.100');
    assert.deepEqual(link.addresses, ['10.9.0.254/24']);
    assert.equal(link.mtu, 1400);
    const list = await h.router.listNetworks(0);
    assert.equal(list.length, 1);
    assert.equal(list[0]?.subnet, '10.9.0.0/24');
    assert.equal(list[0]?.natEnabled, false);
    // The old subnet is free again for another network.
    await h.router.createNetwork(create(200, '172.18.0.0/16'));
  });

  describe('rejected requests change nothing', async () => {
    const cases: Array<{ name: string; req: ReturnType<typeof create>; kind: ErrorKind; message: string }> = [
      { name: 'vlan out of range', req: create(4095, '10.0.0.0/24'), kind: 'invalid', message: 'out of range' },
      { name: 'malformed subnet', req: create(300, '10.0.0.0/33'), kind: 'invalid', message: 'not a CIDR' },
      { name: 'gateway outside', req: create(300, '10.0.0.0/24', { gateway: '10.0.1.1' }), kind: 'invalid', message: 'not inside subnet' },
      { name: 'mtu above parent', req: create(300, '10.0.0.0/24', { mtu: 9000 }), kind: 'invalid', message: 'mtu 9000' },
      { name: 'overlaps uplink', req: create(300, '192.168.64.0/25'), kind: 'invalid', message: 'overlaps the uplink' },
      { name: 'overlaps network 100', req: create(300, '172.18.5.0/24'), kind: 'already-exists', message: 'VLAN 100' },
      {
        name: 'changing 100 onto bad gateway',
        req: create(100, '172.18.0.0/16', { gateway: '172.18.255.255' }),
        kind: 'invalid',
        message: 'broadcast',
      },
    ];
    for (const c of cases) {
      test(c.name, async () => {
        const h = await harness();
        await h.router.createNetwork(create(100, '172.18.0.0/16'));
        await assertRouterError(() => h.router.createNetwork(c.req), c.kind, c.message);
        const stored = h.storedNetworks();
        assert.equal(stored.length, 1);
        assert.equal(stored[0]?.gateway, '172.18.0.1');
        assert.deepEqual(h.vlan.names(), ['eth0.100']);
      });
    }
  });

  test('invalid requests reject rather than throw', async () => {
    const h = await harness();
    const calls: Array<() => Promise<unknown>> = [
      () => h.router.createNetwork(create(0, '10.0.0.0/24')),
      () => h.router.deleteNetwork(0),
      () => h.router.configureNat(1, 'x'),
      () => h.router.removeNat(1, 'x'),
      () => h.router.configureDns({ vlan: 0, subnet: '', gateway: '', domain: '', hosts: {}, replaceHosts: false }),
      () => h.router.removeDnsHosts(1, ['_']),
      () => h.router.addPortMapping({ containerIp: '', containerPort: 0, hostPort: 0, protocol: '', vlan: 0, hostIp: '' }),
      () => h.router.removePortMapping({ hostPort: 0, protocol: 'tcp', hostIp: '' }),
      () => h.router.listNetworks(-1),
      () => h.router.getState(4095),
    ];
    for (const call of calls) {
      let promise: Promise<unknown> | undefined;
      assert.doesNotThrow(() => void (promise = call()));
      await assertRouterError(() => promise, 'invalid', '');
    }
  });

  test('a request invalid on its own is invalid even when the parent cannot be read', async () => {
    const h = await harness();
    h.vlan.uplinkState.name = 'gone';
    await assertRouterError(() => h.router.createNetwork(create(4095, '10.0.0.0/24')), 'invalid', 'vlan_id 4095');
    await assertRouterError(
      () => h.router.createNetwork(create(5, '10.0.0.0/24')),
      'precondition',
      'reading parent interface: parent interface eth0: link not found',
    );
  });

  test('a failed kernel change rolls back the store and the kernel', async () => {
    const h = await harness();
    await h.router.createNetwork(create(100, '172.18.0.0/16'));
    h.vlan.failEnsure.set(100, new Error('injected netlink failure'));
    h.vlan.failEnsure.set(200, new Error('injected netlink failure'));
    await assertRouterError(() => h.router.createNetwork(create(200, '172.19.0.0/16')), 'internal', 'injected netlink failure');
    await assertRouterError(() => h.router.createNetwork(create(100, '172.20.0.0/16')), 'internal', 'injected netlink failure');
    const stored = h.storedNetworks();
    assert.equal(stored.length, 1);
    assert.equal(stored[0]?.subnet, '172.18.0.0/16');
    assert.deepEqual(h.vlan.names(), ['eth0.100']);
    const health = h.router.health();
    assert.equal(health.healthy, false);
    assert.match(health.status, /^reconcile failed: .*injected netlink failure/);
    h.vlan.failEnsure.clear();
    await h.router.resync();
    assert.deepEqual(h.router.health(), { healthy: true, status: 'ok', activeNetworks: 1, uptimeSeconds: 0 });
  });

  test('deleteNetwork removes, repeats succeed, vlan 0 is invalid', async () => {
    const h = await harness();
    await h.router.createNetwork(create(100, '172.18.0.0/16'));
    await h.router.deleteNetwork(100);
    await h.router.deleteNetwork(100);
    assert.deepEqual(h.vlan.names(), []);
    assert.deepEqual(h.storedNetworks(), []);
    await assertRouterError(() => h.router.deleteNetwork(0), 'invalid', 'out of range');
  });

  test('deleteNetwork succeeds when the link cannot be removed, and the resync removes it', async () => {
    const h = await harness();
    await h.router.createNetwork(create(100, '172.18.0.0/16'));
    await h.router.resync();
    h.vlan.failDelete.set('eth0.100', new Error('device busy'));
    await h.router.deleteNetwork(100);
    assert.deepEqual(h.storedNetworks(), []);
    assert.deepEqual(h.vlan.names(), ['eth0.100']);
    assert.match(h.router.health().status, /removing VLAN 100 link eth0.100: device busy/);
    assert.ok(h.log.lines.some((l) => l.level === 'warn' && l.message.includes('resync retries')));
    h.vlan.failDelete.clear();
    await h.router.resync();
    assert.deepEqual(h.vlan.names(), []);
    assert.equal(h.router.health().healthy, true);
  });

  test('a failure kicks the resync loop, which repairs it', async () => {
    const h = await harness();
    await h.router.createNetwork(create(100, '172.18.0.0/16'));
    h.router.startResyncLoop(3_600_000);
    h.vlan.failDelete.set('eth0.100', new Error('device busy'));
    await h.router.deleteNetwork(100);
    h.vlan.failDelete.clear();
    for (let i = 0; i < 100 && h.vlan.names().length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(h.vlan.names(), []);
    assert.equal(h.router.health().healthy, true);
  });

  test('listNetworks merges the live links', async () => {
    const h = await harness();
    await h.router.createNetwork(create(200, '172.19.0.0/16'));
    await h.router.createNetwork(create(100, '172.18.0.0/16'));
    // Drift: the link of 200 vanished behind the service's back.
    h.vlan.vanish('eth0.200');
    const want: NetworkView[] = [
      {
        vlan: 100,
        interfaceName: 'eth0.100',
        gateway: '172.18.0.1',
        subnet: '172.18.0.0/16',
        macAddress: h.vlan.link('eth0.100').mac,
        mtu: 1500,
        up: true,
        natEnabled: true,
        name: '',
        internal: false,
      },
      {
        vlan: 200,
        interfaceName: 'eth0.200',
        gateway: '172.19.0.1',
        subnet: '172.19.0.0/16',
        macAddress: '',
        mtu: 0,
        up: false,
        natEnabled: true,
        name: '',
        internal: false,
      },
    ];
    assert.deepEqual(await h.router.listNetworks(0), want);
    assert.deepEqual(await h.router.listNetworks(100), [want[0]]);
    assert.deepEqual(await h.router.listNetworks(300), []);
    await assertRouterError(() => h.router.listNetworks(5000), 'invalid', 'out of range');
  });

  test("listNetworks shows a foreign link that took a network's place", async () => {
    const h = await harness();
    await h.router.createNetwork(create(100, '172.18.0.0/16'));
    await h.router.createNetwork(create(200, '172.19.0.0/16'));
    h.vlan.vanish('eth0.200');
    h.vlan.put({ name: 'eth0.200', vlan: 200, mac: '02:aa:bb:cc:dd:ee', mtu: 1280 });
    const listed = await h.router.listNetworks(0);
    assert.deepEqual(listed.map((v) => [v.vlan, v.macAddress, v.mtu, v.up]), [
      [100, h.vlan.link('eth0.100').mac, 1500, true],
      [200, '02:aa:bb:cc:dd:ee', 1280, true],
    ]);
  });

  test('a restart converges: lost links return, undesired owned ones go, foreign ones stay', async () => {
    const stateDir = newStateDir();
    const vlan = new FakeVlanBackend(testUplink);
    let h = await harness({ stateDir, vlan });
    await h.router.createNetwork(create(100, '172.18.0.0/16'));
    await h.router.createNetwork(create(200, '172.19.0.0/16'));
    await h.stop();
    vlan.vanish('eth0.100');
    vlan.put({ name: 'eth0.300', vlan: 300, owned: true });
    vlan.put({ name: 'eth0.400', vlan: 400 });
    h = await harness({ stateDir, vlan });
    await h.router.resync();
    assert.deepEqual(vlan.names(), ['eth0.100', 'eth0.200', 'eth0.400']);
    assert.equal(vlan.link('eth0.400').owned, false);
    assert.equal((await h.router.listNetworks(0)).length, 2);
  });

  test('a foreign link is not taken over', async () => {
    const h = await harness();
    h.vlan.put({ name: 'eth0.100', vlan: 100 });
    await assertRouterError(
      () => h.router.createNetwork(create(100, '172.18.0.0/16')),
      'precondition',
      'not managed by router-service',
    );
    assert.equal(h.vlan.link('eth0.100').owned, false);
    assert.deepEqual(h.storedNetworks(), []);
  });

  test('concurrent clients and resyncs are serialised', async () => {
    const h = await harness();
    const workers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; i < 8; i++) {
        const vlan = w * 8 + i + 1;
        await h.router.createNetwork(create(vlan, `10.${vlan}.0.0/16`));
        await h.router.listNetworks(0);
        if (i % 2 === 1) await h.router.deleteNetwork(vlan);
      }
    });
    const resyncs = (async () => {
      for (let i = 0; i < 20; i++) await h.router.resync();
    })();
    await Promise.all([...workers, resyncs]);
    const stored = h.storedNetworks();
    assert.equal(stored.length, 32);
    assert.equal(h.vlan.names().length, 32);
    assert.ok(stored.every((n) => n.vlan % 2 === 1));
  });
});

describe('Router parent and lifecycle', () => {
  test('the parent defaults to the default route and is recorded; a recorded one is kept', async () => {
    const stateDir = newStateDir();
    const vlan = new FakeVlanBackend(testUplink);
    let h = await harness({ stateDir, vlan });
    assert.equal(h.router.parent, 'eth0');
    assert.equal(h.store.parent(), 'eth0');
    await h.stop();
    h = await harness({ stateDir, vlan, parent: '' });
    assert.equal(h.router.parent, 'eth0');
  });

  test('an explicit parent replaces the recorded one, with a warning', async () => {
    const stateDir = newStateDir();
    const vlan = new FakeVlanBackend(testUplink);
    let h = await harness({ stateDir, vlan });
    await h.stop();
    vlan.uplinkState.name = 'eth1';
    h = await harness({ stateDir, vlan, parent: 'eth1' });
    assert.equal(h.router.parent, 'eth1');
    assert.equal(h.store.parent(), 'eth1');
    assert.ok(h.log.lines.some((l) => l.level === 'warn' && l.fields['from'] === 'eth0' && l.fields['to'] === 'eth1'));
  });

  test('opening changes nothing in the kernel', async () => {
    const stateDir = newStateDir();
    const vlan = new FakeVlanBackend(testUplink);
    let h = await harness({ stateDir, vlan });
    await h.router.createNetwork(create(100, '172.18.0.0/16'));
    await h.stop();
    vlan.vanish('eth0.100');
    h = await harness({ stateDir, vlan });
    assert.deepEqual(vlan.names(), []);
    assert.deepEqual(vlan.isolated, []);
    assert.equal(h.router.health().activeNetworks, 1);
  });

  test('uptime follows the clock; a closed router refuses calls', async () => {
    let now = 1_000_000;
    const h = await harness({ clock: () => now });
    now += 61_999;
    assert.equal(h.router.health().uptimeSeconds, 61);
    assert.equal(h.router.health().status, 'reconcile failed: not reconciled yet');
    await h.router.close();
    await assertRouterError(() => h.router.listNetworks(0), 'unavailable', 'closed');
  });
});
