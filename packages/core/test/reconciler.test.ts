import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { silentLogger } from '../src/logger.js';
import type { DesiredState } from '../src/model.js';
import { Reconciler } from '../src/reconciler.js';
import { FakeDnsBackend, FakeFirewallBackend } from './fake-attachment-backends.js';
import { FakeVlanBackend } from './fake-vlan-backend.js';
import { assertRouterError, network, portMapping, testUplink } from './helpers.js';

function setup() {
  const vlan = new FakeVlanBackend(testUplink);
  const firewall = new FakeFirewallBackend();
  const dns = new FakeDnsBackend();
  const reconciler = new Reconciler({ vlan, firewall, dns, parent: 'eth0', log: silentLogger });
  const failures: string[] = [];
  reconciler.onFailure((err) => failures.push(err.message));
  return { vlan, firewall, dns, reconciler, failures };
}

const state: DesiredState = {
  networks: [
    network(100, '172.18.0.0/16', '172.18.0.1'),
    { ...network(200, '172.19.0.0/16', '172.19.0.1'), dns: { domain: 'fe', hosts: { web: '172.19.0.2' } } },
  ],
  portMappings: [portMapping('tcp', '', 8080, 100, '172.18.0.2')],
};

describe('Reconciler', () => {
  test('is unhealthy until the first sync', () => {
    assert.deepEqual(setup().reconciler.health(), { ok: false, error: 'not reconciled yet', at: null });
  });

  test('sync converges links, removes owned undesired ones, keeps foreign ones, then firewall and DNS', async () => {
    const { vlan, firewall, dns, reconciler } = setup();
    vlan.put({ name: 'eth0.300', vlan: 300, owned: true });
    vlan.put({ name: 'eth0.400', vlan: 400 });
    await reconciler.sync(state);
    assert.deepEqual(vlan.names(), ['eth0.100', 'eth0.200', 'eth0.400']);
    assert.deepEqual(vlan.link('eth0.100').addresses, ['172.18.0.1/16']);
    assert.equal(vlan.link('eth0.400').owned, false);
    assert.deepEqual(vlan.isolated, ['eth0']);
    assert.equal(vlan.forwarding, true);
    assert.deepEqual(firewall.last, {
      uplink: 'eth0',
      networks: state.networks.map((n) => ({ network: n, interfaceName: `eth0.${n.vlan}` })),
      portMappings: state.portMappings,
    });
    assert.deepEqual(dns.syncs, [[{ network: state.networks[1], interfaceName: 'eth0.200' }]]);
    const health = reconciler.health();
    assert.ok(health.ok && health.error === '' && health.at instanceof Date);
  });

  test('one broken network does not stop the others; the errors are joined and kick a resync', async () => {
    const { vlan, firewall, reconciler, failures } = setup();
    vlan.failEnsure.set(100, new Error('injected netlink failure'));
    firewall.fail = new Error('nft said no');
    await assert.rejects(reconciler.sync(state), (err: Error) => {
      assert.ok(err instanceof AggregateError);
      assert.equal(
        err.message,
        'converging VLAN 100 link eth0.100: injected netlink failure; applying the fake-firewall firewall: nft said no',
      );
      return true;
    });
    assert.deepEqual(vlan.names(), ['eth0.200']);
    assert.equal(failures.length, 1);
    const health = reconciler.health();
    assert.equal(health.ok, false);
    assert.match(health.error, /injected netlink failure/);
    vlan.failEnsure.clear();
    firewall.fail = undefined;
    await reconciler.sync(state);
    assert.equal(reconciler.health().ok, true);
  });

  test('forwarding that cannot be enabled fails the sync but not the links', async () => {
    const { vlan, reconciler } = setup();
    vlan.failForwarding = new Error('read-only /proc/sys');
    await assert.rejects(reconciler.sync(state), /enabling IPv4 forwarding: read-only \/proc\/sys/);
    assert.deepEqual(vlan.names(), ['eth0.100', 'eth0.200']);
    vlan.failForwarding = undefined;
    vlan.forwarding = false;
    await reconciler.sync(state);
    assert.equal(vlan.forwarding, true, 'a resync switches forwarding back on');
  });

  test('targeted failures keep their kind, mark unhealthy and kick', async () => {
    const { vlan, reconciler, failures } = setup();
    vlan.put({ name: 'eth0.100', vlan: 100 });
    await assertRouterError(
      () => reconciler.ensureNetwork(network(100, '172.18.0.0/16', '172.18.0.1')),
      'precondition',
      'converging VLAN 100 link eth0.100: interface eth0.100 exists and is not managed by router-service',
    );
    await assertRouterError(() => reconciler.removeNetwork(100), 'precondition', 'removing VLAN 100 link eth0.100');
    assert.equal(failures.length, 2);
    assert.equal(reconciler.health().ok, false);
  });

  test('applyAttachments is a no-op without firewall and DNS backends', async () => {
    const vlan = new FakeVlanBackend(testUplink);
    const reconciler = new Reconciler({ vlan, parent: 'eth0', log: silentLogger });
    assert.equal(reconciler.managesAttachments, false);
    await reconciler.applyAttachments(state);
    await reconciler.sync(state);
    assert.deepEqual(vlan.names(), ['eth0.100', 'eth0.200']);
  });

  test('status and interface names follow the parent', async () => {
    const { reconciler } = setup();
    assert.equal(reconciler.interfaceName(7), 'eth0.7');
    assert.equal(await reconciler.status(7), undefined);
    const link = await reconciler.ensureNetwork({ ...network(7, '10.7.0.0/16', '10.7.0.1'), mtu: 1400 });
    assert.deepEqual(await reconciler.status(7), link);
    assert.equal(link.mtu, 1400);
  });
});
