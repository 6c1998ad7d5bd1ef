import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConnectionRemovals } from '../src/backends.js';
import { silentLogger } from '../src/logger.js';
import type { DesiredState, Network, PortMapping } from '../src/model.js';
import { Reconciler } from '../src/reconciler.js';
import { FakeConnectionTracker, FakeDnsBackend, FakeFirewallBackend } from './fake-attachment-backends.js';
import { FakeVlanBackend } from './fake-vlan-backend.js';
import { assertRouterError, network, portMapping, testUplink } from './helpers.js';
import { recordingLogger } from './router-harness.js';

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
    { ...network(200, '172.19.0.0/16', '172.19.0.1'), dns: { domain: 'fe', hosts: { web: ['172.19.0.2'] } } },
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

describe('Reconciler firewall changes', () => {
  function setupTracked() {
    const vlan = new FakeVlanBackend(testUplink);
    const firewall = new FakeFirewallBackend();
    const dns = new FakeDnsBackend();
    const connectionTracker = new FakeConnectionTracker();
    const log = recordingLogger();
    const reconciler = new Reconciler({ vlan, firewall, dns, connectionTracker, parent: 'eth0', log });
    const failures: string[] = [];
    reconciler.onFailure((err) => failures.push(err.message));
    return { firewall, dns, connectionTracker, log, reconciler, failures };
  }

  const web = portMapping('tcp', '', 8080, 100, '172.18.0.2');
  const dnsPort = portMapping('udp', '', 5353, 200, '172.19.0.3');
  const range = portMapping('udp', '', 6000, 100, '172.18.0.4', { hostPortEnd: 6009, containerPort: 7000 });
  const [net100, net200] = state.networks as [Network, Network];
  const withPorts = (...portMappings: PortMapping[]): DesiredState => ({ networks: [net100, net200], portMappings });
  /** A forget's removals: those given, nothing else. */
  const removals = (fields: Partial<ConnectionRemovals>): ConnectionRemovals => ({ portMappings: [], subnets: [], published: [], strays: undefined, ...fields });

  test('a change after a sync is an update from what was applied; the first one without a sync is a sync', async () => {
    const { firewall, reconciler } = setupTracked();
    await reconciler.applyAttachments(withPorts(web));
    await reconciler.sync(withPorts(web));
    await reconciler.applyAttachments(withPorts(web, dnsPort));
    await reconciler.applyAttachments(withPorts(dnsPort));
    assert.deepEqual(firewall.methods, ['sync', 'sync', 'update', 'update']);
    const [, , first, second] = firewall.calls;
    assert.equal(first?.method, 'update');
    assert.deepEqual(first.previous.portMappings, [web]);
    assert.deepEqual(first.state.portMappings, [web, dnsPort]);
    assert.equal(second?.method, 'update');
    assert.deepEqual(second.previous.portMappings, [web, dnsPort]);
    assert.deepEqual(second.state.portMappings, [dnsPort]);
  });

  test('after any failure changes are synced whole until a full resync succeeds', async () => {
    const { firewall, dns, reconciler } = setupTracked();
    await reconciler.sync(withPorts());
    firewall.fail = new Error('nft: table busy');
    await assert.rejects(reconciler.applyAttachments(withPorts(web)), /applying the fake-firewall firewall: nft: table busy/);
    firewall.fail = undefined;
    await reconciler.applyAttachments(withPorts(web));
    await reconciler.applyAttachments(withPorts(web, dnsPort));
    await reconciler.sync(withPorts(web, dnsPort));
    await reconciler.applyAttachments(withPorts(dnsPort));
    assert.deepEqual(firewall.methods, ['sync', 'sync', 'sync', 'sync', 'update']);
    // A DNS failure distrusts the firewall as well: the next change is whole.
    // (A new object for the DNS network: a change of the same networks skips DNS.)
    dns.fail = new Error('dnsmasq gone');
    await assert.rejects(reconciler.applyAttachments({ networks: [net100, { ...net200 }], portMappings: [] }), /dnsmasq gone/);
    dns.fail = undefined;
    await reconciler.applyAttachments(withPorts(web));
    assert.deepEqual(firewall.methods.slice(5), ['update', 'sync']);
  });

  test('DNS is synced when its networks change, not when only ports do, and always by a full resync', async () => {
    const { dns, reconciler } = setupTracked();
    await reconciler.sync(withPorts());
    await reconciler.applyAttachments(withPorts(web));
    await reconciler.applyAttachments(withPorts(web, dnsPort));
    assert.equal(dns.calls.length, 1, 'port changes skip DNS');
    const renamed = { ...net200, dns: { domain: 'fe', hosts: { api: ['172.19.0.2'] } } };
    await reconciler.applyAttachments({ networks: [net100, renamed], portMappings: [web, dnsPort] });
    assert.deepEqual(dns.syncs.at(-1)?.map((n) => n.network.dns?.hosts), [{ api: ['172.19.0.2'] }]);
    await reconciler.sync({ networks: [net100, renamed], portMappings: [web, dnsPort] });
    assert.equal(dns.calls.length, 3);
  });

  test('a full resync always syncs', async () => {
    const { firewall, reconciler } = setupTracked();
    await reconciler.sync(withPorts(web));
    await reconciler.sync(withPorts(web));
    assert.deepEqual(firewall.methods, ['sync', 'sync']);
  });

  test('forgets the flows of removed and changed mappings and of deleted networks, after the change', async () => {
    const { firewall, connectionTracker, reconciler } = setupTracked();
    await reconciler.sync(withPorts(web, dnsPort, range));
    assert.equal(connectionTracker.forgets.length, 1, 'the first sync looks for strays and publishes the UDP ports');
    await reconciler.applyAttachments(withPorts(web, dnsPort, range));
    assert.equal(connectionTracker.forgets.length, 1, 'nothing changed, nothing forgotten');
    const moved = { ...web, containerIp: '172.18.0.9' };
    await reconciler.applyAttachments(withPorts(moved, dnsPort));
    assert.deepEqual(connectionTracker.forgets[1], removals({ portMappings: [web, range], subnets: [], published: [] }));
    await reconciler.applyAttachments({ networks: [net100], portMappings: [moved] });
    assert.deepEqual(connectionTracker.forgets[2], removals({ portMappings: [dnsPort], subnets: ['172.19.0.0/16'], published: [] }));
    assert.equal(firewall.calls.length, 4);
    // A full resync that removes something forgets it too.
    await reconciler.sync({ networks: [], portMappings: [] });
    assert.deepEqual(connectionTracker.forgets[3], removals({ portMappings: [moved], subnets: ['172.18.0.0/16'], published: [] }));
    assert.equal(reconciler.health().ok, true);
  });

  test('lets published UDP ports take over earlier flows: new or changed ones after a change, all of them after a full sync', async () => {
    const { connectionTracker, reconciler } = setupTracked();
    await reconciler.sync(withPorts(web));
    assert.deepEqual(connectionTracker.forgets.at(-1)?.published, [], 'no UDP port, none published');
    await reconciler.applyAttachments(withPorts(web, dnsPort));
    assert.deepEqual(connectionTracker.forgets.at(-1), removals({ portMappings: [], subnets: [], published: [dnsPort] }));
    // An equal copy publishes nothing anew; a TCP port never counts.
    await reconciler.applyAttachments(withPorts({ ...web, hostPort: 8081 }, { ...dnsPort }));
    assert.deepEqual(connectionTracker.forgets.at(-1), removals({ portMappings: [web], subnets: [], published: [] }));
    const widened = { ...dnsPort, sources: ['10.0.0.0/8'] };
    await reconciler.applyAttachments(withPorts(widened, range));
    assert.deepEqual(connectionTracker.forgets.at(-1), removals({ portMappings: [{ ...web, hostPort: 8081 }, dnsPort], subnets: [], published: [widened, range] }));
    // The kernel may have tracked flows while the rules were missing: a full sync publishes every UDP port again.
    await reconciler.sync(withPorts(widened, range));
    assert.deepEqual(connectionTracker.forgets.at(-1), removals({ portMappings: [], subnets: [], published: [widened, range] }));
    assert.equal(connectionTracker.forgets.length, 5);
  });

  test('the first sync of a start forgets the strays: DNATed flows into our networks that no mapping explains', async () => {
    const { connectionTracker, reconciler } = setupTracked();
    const subnets = ['172.18.0.0/16', '172.19.0.0/16'];
    connectionTracker.fail = new Error('conntrack: busy');
    await assert.rejects(reconciler.sync(withPorts(web)), /conntrack: busy/);
    assert.deepEqual(connectionTracker.forgets.at(-1)?.strays, { subnets, portMappings: [web] });
    // Still owed after the failure, and judged by the state of the retry: dnsPort's flows are explained by then.
    connectionTracker.fail = undefined;
    await reconciler.applyAttachments(withPorts(web, dnsPort));
    assert.deepEqual(connectionTracker.forgets.at(-1)?.strays, { subnets, portMappings: [web, dnsPort] });
    await reconciler.sync(withPorts(web, dnsPort));
    assert.equal(connectionTracker.forgets.at(-1)?.strays, undefined, 'only a start has strays to look for');
    assert.equal(connectionTracker.forgets.length, 3);
  });

  test('a refused change forgets nothing; the change that later succeeds forgets what it removed', async () => {
    const { firewall, connectionTracker, reconciler } = setupTracked();
    await reconciler.sync(withPorts(web, dnsPort));
    const forgotten = connectionTracker.forgets.length;
    firewall.fail = new Error('nft: no memory');
    await assert.rejects(reconciler.applyAttachments(withPorts(dnsPort)));
    assert.equal(connectionTracker.forgets.length, forgotten);
    firewall.fail = undefined;
    await reconciler.sync(withPorts());
    assert.deepEqual(connectionTracker.forgets.at(-1), removals({ portMappings: [web, dnsPort], subnets: [], published: [] }));
  });

  test('a failed forget keeps the change, marks health failed, and is retried by the resync it kicks', async () => {
    const { firewall, connectionTracker, log, reconciler, failures } = setupTracked();
    await reconciler.sync(withPorts(web, dnsPort, range));
    connectionTracker.fail = new Error('conntrack: not found');
    await reconciler.applyAttachments(withPorts(dnsPort, range));
    assert.deepEqual(firewall.last?.portMappings, [dnsPort, range], 'the change stands');
    assert.equal(reconciler.health().ok, false);
    assert.match(reconciler.health().error, /forgetting the flows .* with fake-conntrack: conntrack: not found/);
    assert.equal(failures.length, 1, 'the failure listeners kick a resync');
    assert.ok(log.lines.some((l) => l.level === 'error' && l.message.startsWith('forgetting stale flows failed')));
    // Meanwhile the range goes too, and web comes back: web's new flows must live.
    await reconciler.applyAttachments(withPorts(web, dnsPort));
    connectionTracker.fail = undefined;
    await reconciler.sync(withPorts(web, dnsPort));
    assert.deepEqual(connectionTracker.forgets.at(-1), removals({ portMappings: [range], subnets: [], published: [dnsPort] }));
    assert.equal(reconciler.health().ok, true);
    await reconciler.sync(withPorts(web, dnsPort));
    assert.deepEqual(connectionTracker.forgets.at(-1), removals({ portMappings: [], subnets: [], published: [dnsPort] }), 'nothing is owed any more');
  });

  test('a failed forget fails a full sync', async () => {
    const { connectionTracker, reconciler } = setupTracked();
    await reconciler.sync(withPorts(web));
    connectionTracker.fail = new Error('conntrack: permission denied');
    await assert.rejects(reconciler.sync(withPorts()), /conntrack: permission denied/);
    assert.equal(reconciler.health().ok, false);
  });

  test('drift compares the kernel with the desired state and names the backends', async () => {
    const { firewall, reconciler } = setupTracked();
    assert.equal(reconciler.firewallName, 'fake-firewall');
    assert.equal(reconciler.dnsName, 'fake-dns');
    await reconciler.sync(withPorts(web));
    assert.equal(await reconciler.firewallDrift(withPorts(web)), '');
    assert.equal(await reconciler.firewallDrift(withPorts()), '1 port mappings, want 0');
    firewall.failDrift = new Error('nft: permission denied');
    await assertRouterError(() => reconciler.firewallDrift(withPorts(web)), 'internal', 'comparing the kernel with the fake-firewall firewall: nft: permission denied');
    const bare = new Reconciler({ vlan: new FakeVlanBackend(testUplink), parent: 'eth0', log: silentLogger });
    assert.equal(bare.firewallName, 'none');
    assert.equal(bare.dnsName, 'none');
    assert.equal(await bare.firewallDrift(withPorts(web)), '');
  });
});
