import assert from 'node:assert/strict';
import { after, afterEach, describe, test } from 'node:test';
import { setImmediate as setImmediatePromise } from 'node:timers/promises';
import type { ErrorKind } from '../src/errors.js';
import type { PortMapping } from '../src/model.js';
import type { AddPortMappingRequest, ConfigureDnsRequest } from '../src/router.js';
import { FakeConnectionTracker, FakeDnsBackend, FakeFirewallBackend } from './fake-attachment-backends.js';
import { FakeVlanBackend } from './fake-vlan-backend.js';
import { assertRouterError, testUplink } from './helpers.js';
import { create, newHarness, newStateDir, removeStateDirs, type Harness, type HarnessOptions } from './router-harness.js';

const harnesses: Harness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.stop();
});
after(removeStateDirs);

/** A harness with VLAN 100 (172.18.0.0/16) and VLAN 200 (172.19.0.0/16, internal). */
async function withNetworks(options: HarnessOptions = {}): Promise<Harness> {
  const h = await newHarness(options);
  harnesses.push(h);
  await h.router.createNetwork(create(100, '172.18.0.0/16'));
  await h.router.createNetwork(create(200, '172.19.0.0/16', { internal: true }));
  return h;
}

function dnsRequest(fields: Partial<ConfigureDnsRequest> & { vlan: number }): ConfigureDnsRequest {
  return { subnet: '', gateway: '', domain: '', hosts: {}, replaceHosts: false, ...fields };
}

function portRequest(fields: Partial<AddPortMappingRequest>): AddPortMappingRequest {
  return { containerIp: '', containerPort: 80, hostPort: 8080, protocol: 'tcp', vlan: 100, hostIp: '', ...fields };
}

async function network100(h: Harness) {
  const state = await h.router.getState(100);
  return state.networks[0] ?? assert.fail('VLAN 100 is missing');
}

describe('Router NAT', () => {
  test('steps', async () => {
    const h = await withNetworks();
    const steps: Array<{ name: string; call: () => Promise<void>; error?: [ErrorKind, string]; sources: string[]; enabled: boolean }> = [
      { name: 'add a source', call: () => h.router.configureNat(100, '192.0.2.0/24'), sources: ['192.0.2.0/24'], enabled: true },
      { name: 'repeat is a no-op', call: () => h.router.configureNat(100, '192.0.2.0/24'), sources: ['192.0.2.0/24'], enabled: true },
      { name: "remove the network's own NAT", call: () => h.router.removeNat(100, '172.18.0.0/16'), sources: ['192.0.2.0/24'], enabled: true },
      { name: 'remove everything', call: () => h.router.removeNat(100, ''), sources: [], enabled: false },
      { name: 'remove again', call: () => h.router.removeNat(100, ''), sources: [], enabled: false },
      { name: "empty source means the network's subnet", call: () => h.router.configureNat(100, ''), sources: [], enabled: true },
      { name: 'malformed source', call: () => h.router.configureNat(100, '192.0.2.0'), error: ['invalid', 'not a CIDR'], sources: [], enabled: true },
      { name: 'default route as source', call: () => h.router.configureNat(100, '0.0.0.0/0'), error: ['invalid', 'every source'], sources: [], enabled: true },
      { name: 'unknown network', call: () => h.router.configureNat(300, ''), error: ['not-found', 'VLAN 300 does not exist'], sources: [], enabled: true },
      { name: 'internal network', call: () => h.router.configureNat(200, ''), error: ['precondition', 'internal'], sources: [], enabled: true },
      { name: 'invalid VLAN', call: () => h.router.configureNat(0, ''), error: ['invalid', 'vlan_id 0'], sources: [], enabled: true },
      { name: 'removing from an absent network succeeds', call: () => h.router.removeNat(300, ''), sources: [], enabled: true },
    ];
    for (const step of steps) {
      if (step.error === undefined) await step.call();
      else await assertRouterError(step.call, step.error[0], step.error[1]);
      const n = await network100(h);
      assert.deepEqual(n.natSources, step.sources, step.name);
      assert.equal(n.network.natEnabled, step.enabled, step.name);
    }
  });
});

describe('Router DNS', () => {
  test('configure, merge, remove, replace and reject', async () => {
    const h = await withNetworks();
    const hosts = async () => (await network100(h)).dns?.hosts;
    await h.router.configureDns(
      dnsRequest({ vlan: 100, subnet: '172.18.0.0/16', gateway: '172.18.0.1', domain: 'Frontend.internal.', hosts: { web: '172.18.0.2', DB: '172.18.0.3' } }),
    );
    assert.deepEqual((await network100(h)).dns, { domain: 'frontend.internal', hosts: { db: ['172.18.0.3'], web: ['172.18.0.2'] } });
    // Merge: a later call adds and updates without dropping other names.
    await h.router.configureDns(dnsRequest({ vlan: 100, domain: 'frontend.internal', hosts: { web: '172.18.0.9', cache: '172.18.0.4' } }));
    assert.deepEqual(await hosts(), { cache: ['172.18.0.4'], db: ['172.18.0.3'], web: ['172.18.0.9'] });
    for (let i = 0; i < 2; i++) await h.router.removeDnsHosts(100, ['cache', 'absent']);
    assert.deepEqual(await hosts(), { db: ['172.18.0.3'], web: ['172.18.0.9'] });
    await h.router.configureDns(dnsRequest({ vlan: 100, domain: 'frontend.internal', hosts: { api: '172.18.0.5' }, replaceHosts: true }));
    assert.deepEqual(await hosts(), { api: ['172.18.0.5'] });

    const rejects: Array<{ name: string; req: ConfigureDnsRequest; kind: ErrorKind; message: string }> = [
      { name: 'unknown network', req: dnsRequest({ vlan: 300 }), kind: 'not-found', message: 'VLAN 300' },
      { name: 'subnet mismatch', req: dnsRequest({ vlan: 100, subnet: '172.19.0.0/16' }), kind: 'invalid', message: "subnet 172.19.0.0/16 does not match VLAN 100's subnet 172.18.0.0/16" },
      { name: 'gateway mismatch', req: dnsRequest({ vlan: 100, gateway: '172.18.0.2' }), kind: 'invalid', message: 'does not match' },
      { name: 'invalid name', req: dnsRequest({ vlan: 100, hosts: { web_1: '172.18.0.2' } }), kind: 'invalid', message: 'host name "web_1" is not a valid hostname' },
      { name: 'name with a leading hyphen', req: dnsRequest({ vlan: 100, hosts: { '-web': '172.18.0.2' } }), kind: 'invalid', message: 'hyphen' },
      { name: 'invalid domain', req: dnsRequest({ vlan: 100, domain: 'bad..domain' }), kind: 'invalid', message: 'empty or over-long' },
      { name: 'IP does not parse', req: dnsRequest({ vlan: 100, hosts: { web: '172.18.0.300' } }), kind: 'invalid', message: 'host web: "172.18.0.300" is not an IP address' },
      { name: 'IP outside the subnet', req: dnsRequest({ vlan: 100, hosts: { web: '10.0.0.1' } }), kind: 'invalid', message: 'host web address 10.0.0.1 is not inside subnet 172.18.0.0/16' },
      { name: 'invalid on its own whatever the state', req: dnsRequest({ vlan: 300, hosts: { web_1: '10.0.0.1' } }), kind: 'invalid', message: 'not a valid hostname' },
    ];
    for (const r of rejects) {
      await assertRouterError(() => h.router.configureDns(r.req), r.kind, r.message);
      assert.deepEqual(await hosts(), { api: ['172.18.0.5'] }, `${r.name} changed the hosts`);
    }
    await assertRouterError(() => h.router.removeDnsHosts(100, ['bad name']), 'invalid', 'not a valid hostname');
    await h.router.removeDnsHosts(300, ['web']);
  });
});

describe('Router DNS round robin', () => {
  test('a name keeps every address it was given, until a request gives it others or removes it', async () => {
    const dns = new FakeDnsBackend();
    const h = await withNetworks({ dns });
    const hosts = async () => (await network100(h)).dns?.hosts;
    await h.router.configureDns(
      dnsRequest({ vlan: 100, hosts: { web: '172.18.0.2' }, hostAddresses: [{ name: 'Web', addresses: ['172.18.0.12', '172.18.0.3'] }, { name: 'db', addresses: ['172.18.0.5'] }] }),
    );
    assert.deepEqual(await hosts(), { db: ['172.18.0.5'], web: ['172.18.0.2', '172.18.0.3', '172.18.0.12'] });
    assert.deepEqual(dns.syncs.at(-1)?.[0]?.network.dns?.hosts, await hosts());
    // The same addresses in another order change nothing, so nothing reaches the backend.
    const syncs = dns.syncs.length;
    await h.router.configureDns(dnsRequest({ vlan: 100, hostAddresses: [{ name: 'web', addresses: ['172.18.0.12', '172.18.0.2', '172.18.0.3', '172.18.0.2'] }] }));
    assert.equal(dns.syncs.length, syncs);
    await h.router.configureDns(dnsRequest({ vlan: 100, hosts: { web: '172.18.0.2' } }));
    assert.deepEqual(await hosts(), { db: ['172.18.0.5'], web: ['172.18.0.2'] });
    await h.router.configureDns(dnsRequest({ vlan: 100, hostAddresses: [{ name: 'web', addresses: ['172.18.0.2', '172.18.0.3'] }] }));
    await h.router.removeDnsHosts(100, ['WEB']);
    assert.deepEqual(await hosts(), { db: ['172.18.0.5'] });
    const state = await h.router.getState(100);
    (state.networks[0]?.dns?.hosts['db'] ?? assert.fail()).push('172.18.0.99');
    assert.deepEqual(await hosts(), { db: ['172.18.0.5'] }, 'getState handed out the state itself');
  });
});

describe('Router close', () => {
  test('lets the firewall and DNS backends stop their processes once work in flight is done, once', async () => {
    const dns = new FakeDnsBackend();
    const firewall = new FakeFirewallBackend();
    const h = await withNetworks({ dns, firewall });
    const { promise: gate, resolve: open } = Promise.withResolvers<void>();
    dns.gate = gate;
    const configuring = h.router.configureDns(dnsRequest({ vlan: 100, hosts: { web: '172.18.0.2' } }));
    await setImmediatePromise();
    const closing = h.router.close();
    const closingAgain = h.router.close();
    await setImmediatePromise();
    assert.deepEqual(dns.calls.slice(-1), ['sync'], 'closed while a sync was in flight');
    assert.equal(firewall.closes, 0, 'firewall closed while a change was in flight');
    open();
    await configuring;
    await Promise.all([closing, closingAgain]);
    assert.deepEqual(dns.calls.slice(-2), ['sync', 'close']);
    assert.equal(dns.calls.filter((c) => c === 'close').length, 1);
    assert.equal(firewall.closes, 1);
    await assertRouterError(() => h.router.configureDns(dnsRequest({ vlan: 100 })), 'unavailable', 'closed');
  });

  test('a DNS backend that fails to close is logged; the router closes anyway', async () => {
    const dns = new FakeDnsBackend();
    dns.failClose = new Error('dnsmasq would not stop');
    const firewall = new FakeFirewallBackend();
    const h = await withNetworks({ dns, firewall });
    await h.router.close();
    assert.deepEqual(
      h.log.lines.filter((l) => l.level === 'warn').map((l) => [l.message, l.fields['err']]),
      [['closing the fake-dns backend failed', 'dnsmasq would not stop']],
    );
    assert.equal(firewall.closes, 1);
  });
});

describe('Router port mappings', () => {
  test('add, reject, list and remove', async () => {
    const h = await withNetworks();
    const web = portRequest({ containerIp: '172.18.0.2' });
    for (let i = 0; i < 2; i++) await h.router.addPortMapping(web);
    // Same port, other protocol.
    await h.router.addPortMapping(portRequest({ containerIp: '172.18.0.3', containerPort: 53, protocol: 'UDP' }));
    // vlan 0: the network is found by the container's address.
    await h.router.addPortMapping(portRequest({ containerIp: '172.19.0.7', containerPort: 5432, hostPort: 5432, vlan: 0, hostIp: '127.0.0.1' }));

    const rejects: Array<{ name: string; req: AddPortMappingRequest; kind: ErrorKind; message: string }> = [
      { name: 'host port 0', req: portRequest({ containerIp: '172.18.0.2', hostPort: 0 }), kind: 'invalid', message: 'host_port 0' },
      { name: 'host port too large', req: portRequest({ containerIp: '172.18.0.2', hostPort: 65536 }), kind: 'invalid', message: 'host_port 65536' },
      { name: 'container port 0', req: portRequest({ containerIp: '172.18.0.2', containerPort: 0, hostPort: 81 }), kind: 'invalid', message: 'container_port 0' },
      { name: 'unknown protocol', req: portRequest({ containerIp: '172.18.0.2', hostPort: 81, protocol: 'icmp' }), kind: 'invalid', message: 'use tcp, udp or sctp' },
      { name: 'container IP outside the subnet', req: portRequest({ containerIp: '172.19.0.2', hostPort: 81 }), kind: 'invalid', message: 'not inside subnet' },
      { name: 'container IP is the gateway', req: portRequest({ containerIp: '172.18.0.1', hostPort: 81 }), kind: 'invalid', message: 'gateway' },
      { name: 'container IP does not parse', req: portRequest({ containerIp: 'web', hostPort: 81 }), kind: 'invalid', message: 'container_ip "web" is not an IP address' },
      { name: 'host IP does not parse', req: portRequest({ containerIp: '172.18.0.2', hostPort: 81, hostIp: 'localhost' }), kind: 'invalid', message: 'host_ip' },
      { name: 'unknown network', req: portRequest({ containerIp: '172.18.0.2', hostPort: 81, vlan: 300 }), kind: 'not-found', message: 'VLAN 300' },
      { name: 'no network holds the IP', req: portRequest({ containerIp: '10.0.0.2', hostPort: 81, vlan: 0 }), kind: 'not-found', message: "no network's subnet contains container_ip 10.0.0.2" },
      { name: 'port published to another target', req: portRequest({ containerIp: '172.18.0.9' }), kind: 'already-exists', message: 'already published to 172.18.0.2:80' },
      { name: 'specific address over every-address', req: portRequest({ containerIp: '172.18.0.9', hostIp: '127.0.0.1' }), kind: 'already-exists', message: 'already published' },
      { name: 'every-address over specific address', req: portRequest({ containerIp: '172.19.0.8', containerPort: 5432, hostPort: 5432, vlan: 200 }), kind: 'already-exists', message: '127.0.0.1:5432/tcp' },
      { name: 'invalid on its own whatever the state', req: portRequest({ containerIp: '172.18.0.2', hostPort: 0, vlan: 300 }), kind: 'invalid', message: 'host_port 0' },
    ];
    for (const r of rejects) {
      await assertRouterError(() => h.router.addPortMapping(r.req), r.kind, r.message);
      assert.equal((await h.router.getState(0)).portMappings.length, 3, `${r.name} changed the mappings`);
    }

    const want: PortMapping[] = [
      { protocol: 'tcp', hostPort: 5432, hostPortEnd: 5432, hostIp: '127.0.0.1', containerIp: '172.19.0.7', containerPort: 5432, vlan: 200, sources: [] },
      { protocol: 'tcp', hostPort: 8080, hostPortEnd: 8080, hostIp: '', containerIp: '172.18.0.2', containerPort: 80, vlan: 100, sources: [] },
      { protocol: 'udp', hostPort: 8080, hostPortEnd: 8080, hostIp: '', containerIp: '172.18.0.3', containerPort: 53, vlan: 100, sources: [] },
    ];
    assert.deepEqual((await h.router.getState(0)).portMappings, want);
    assert.deepEqual((await h.router.getState(200)).portMappings, [want[0]]);

    for (let i = 0; i < 2; i++) await h.router.removePortMapping({ hostPort: 8080, protocol: 'udp', hostIp: '' });
    // A removal names the host address it was published on.
    await h.router.removePortMapping({ hostPort: 5432, protocol: 'tcp', hostIp: '' });
    assert.equal((await h.router.getState(0)).portMappings.length, 2);
    await assertRouterError(() => h.router.removePortMapping({ hostPort: 70000, protocol: 'tcp', hostIp: '' }), 'invalid', 'host_port 70000');
    await assertRouterError(() => h.router.removePortMapping({ hostPort: 80, protocol: 'icmp', hostIp: '' }), 'invalid', 'protocol');
  });
});

describe('Router attachments and network changes', () => {
  test('a subnet change must not strand attachments', async () => {
    const h = await withNetworks();
    await h.router.addPortMapping(portRequest({ containerIp: '172.18.5.2' }));
    await assertRouterError(() => h.router.createNetwork(create(100, '172.18.0.0/24')), 'precondition', 'port mapping');
    await h.router.removePortMapping({ hostPort: 8080, protocol: 'tcp', hostIp: '' });
    await h.router.configureDns(dnsRequest({ vlan: 100, hosts: { web: '172.18.5.2' } }));
    await assertRouterError(() => h.router.createNetwork(create(100, '172.18.0.0/24')), 'precondition', 'DNS name web');
    assert.equal((await network100(h)).network.subnet, '172.18.0.0/16');
  });

  test('deleteNetwork removes everything of the network, durably', async () => {
    const stateDir = newStateDir();
    const vlan = new FakeVlanBackend(testUplink);
    let h = await withNetworks({ stateDir, vlan });
    await h.router.configureNat(100, '192.0.2.0/24');
    await h.router.configureDns(dnsRequest({ vlan: 100, hosts: { web: '172.18.0.2' } }));
    await h.router.addPortMapping(portRequest({ containerIp: '172.18.0.2' }));
    await h.router.addPortMapping(portRequest({ containerIp: '172.19.0.2', hostPort: 9090, vlan: 200 }));
    await h.router.deleteNetwork(100);
    const check = async (when: string) => {
      const state = await h.router.getState(0);
      assert.deepEqual(state.networks.map((n) => n.network.vlan), [200], when);
      assert.deepEqual(state.portMappings.map((m) => m.hostPort), [9090], when);
    };
    await check('after delete');
    // Re-creating the network starts clean: no NAT sources or DNS left over.
    await h.router.createNetwork(create(100, '172.18.0.0/16'));
    const recreated = await network100(h);
    assert.deepEqual(recreated.natSources, []);
    assert.equal(recreated.dns, null);
    await h.router.deleteNetwork(100);
    await h.stop();
    h = await newHarness({ stateDir, vlan });
    harnesses.push(h);
    await check('after restart');
  });

  test('attachments survive a restart', async () => {
    const stateDir = newStateDir();
    const vlan = new FakeVlanBackend(testUplink);
    let h = await newHarness({ stateDir, vlan });
    harnesses.push(h);
    await h.router.createNetwork(create(100, '172.18.0.0/16', { name: 'frontend', mtu: 1400, enableNat: false }));
    await h.router.configureNat(100, '192.0.2.0/24');
    await h.router.configureDns(dnsRequest({ vlan: 100, domain: 'fe', hosts: { web: '172.18.0.2' } }));
    await h.router.addPortMapping(portRequest({ containerIp: '172.18.0.2', hostIp: '127.0.0.1' }));
    const before = await h.router.getState(0);
    await h.stop();
    h = await newHarness({ stateDir, vlan });
    harnesses.push(h);
    await h.router.resync();
    assert.deepEqual(await h.router.getState(0), before);
    const view = before.networks[0]?.network;
    assert.equal(view?.name, 'frontend');
    assert.equal(view?.mtu, 1400);
    assert.equal(view?.natEnabled, true);
  });

  test('a repeated create after DNS named the gateway', async () => {
    const h = await withNetworks();
    await h.router.configureDns(dnsRequest({ vlan: 100, hosts: { gw: '172.18.0.1' } }));
    await h.router.createNetwork(create(100, '172.18.0.0/16'));
    // Narrowing must not leave a name on what becomes the broadcast address.
    await h.router.configureDns(dnsRequest({ vlan: 100, hosts: { edge: '172.18.0.255' } }));
    await assertRouterError(() => h.router.createNetwork(create(100, '172.18.0.0/24')), 'precondition', 'DNS name edge');
  });

  test('making a network internal needs its NAT removed', async () => {
    const h = await withNetworks();
    await h.router.configureNat(100, '10.9.0.0/16');
    await assertRouterError(() => h.router.createNetwork(create(100, '172.18.0.0/16', { internal: true })), 'precondition', 'remove that NAT');
    assert.equal((await network100(h)).network.internal, false);
  });

  test('deleting a never-created network leaves foreign links alone', async () => {
    const h = await newHarness();
    harnesses.push(h);
    h.vlan.put({ name: 'eth0.100', vlan: 100 });
    await h.router.resync();
    for (let i = 0; i < 2; i++) await h.router.deleteNetwork(100);
    assert.equal(h.vlan.link('eth0.100').owned, false);
    assert.equal(h.router.health().healthy, true);
  });
});

describe('Router with firewall and DNS backends', () => {
  test('every mutation that changes NAT, DNS or ports converges them', async () => {
    const firewall = new FakeFirewallBackend();
    const dns = new FakeDnsBackend();
    const h = await withNetworks({ firewall, dns });
    assert.equal(firewall.syncs.length, 2, 'each new network reached the firewall');
    await h.router.configureNat(100, '192.0.2.0/24');
    assert.deepEqual(firewall.last?.networks[0]?.network.natSources, ['192.0.2.0/24']);
    await h.router.configureDns(dnsRequest({ vlan: 100, hosts: { web: '172.18.0.2' } }));
    assert.deepEqual(dns.syncs.at(-1)?.map((n) => [n.interfaceName, n.network.dns?.hosts]), [['eth0.100', { web: ['172.18.0.2'] }]]);
    await h.router.addPortMapping(portRequest({ containerIp: '172.18.0.2' }));
    assert.equal(firewall.last?.portMappings.length, 1);
    const syncs = firewall.syncs.length;
    await h.router.addPortMapping(portRequest({ containerIp: '172.18.0.2' }));
    await h.router.configureNat(100, '192.0.2.0/24');
    assert.equal(firewall.syncs.length, syncs, 'a no-op call reached the firewall');
    await h.router.deleteNetwork(100);
    assert.deepEqual(firewall.last?.networks.map((n) => n.interfaceName), ['eth0.200']);
    assert.deepEqual(firewall.last?.portMappings, []);
    assert.deepEqual(dns.syncs.at(-1), []);
  });

  test('port changes leave the DNS backend alone while its networks stand; a failed DNS sync is retried by the next change', async () => {
    const firewall = new FakeFirewallBackend();
    const dns = new FakeDnsBackend();
    const h = await withNetworks({ firewall, dns });
    // Changes are applied as differences only once a full resync succeeded.
    await h.router.resync();
    await h.router.configureDns(dnsRequest({ vlan: 100, hosts: { web: '172.18.0.2' } }));
    const synced = dns.calls.length;
    await h.router.addPortMapping(portRequest({ containerIp: '172.18.0.2' }));
    await h.router.removePortMapping({ protocol: 'tcp', hostIp: '', hostPort: 8080 });
    assert.equal(dns.calls.length, synced, 'a port change reached the DNS backend');
    assert.equal(firewall.last?.portMappings.length, 0);
    dns.fail = new Error('dnsmasq: no space left');
    await assertRouterError(() => h.router.configureDns(dnsRequest({ vlan: 100, hosts: { db: '172.18.0.3' } })), 'internal', 'dnsmasq: no space left');
    dns.fail = undefined;
    // The failure made health bad: changes apply everything again, DNS included, until a resync.
    const afterFailure = dns.calls.length;
    await h.router.addPortMapping(portRequest({ containerIp: '172.18.0.2', hostPort: 8081 }));
    assert.equal(dns.calls.length, afterFailure + 1);
    const hostsSynced = dns.syncs.at(-1)?.[0]?.network.dns?.hosts;
    assert.deepEqual(hostsSynced, (await network100(h)).dns?.hosts);
    await h.router.resync();
    await h.router.addPortMapping(portRequest({ containerIp: '172.18.0.2', hostPort: 8082 }));
    assert.equal(dns.calls.length, afterFailure + 2, 'once DNS stands again, port changes skip it');
  });

  test('a refused attachment rolls the change back', async () => {
    const firewall = new FakeFirewallBackend();
    const h = await withNetworks({ firewall });
    firewall.fail = new Error('nft: table busy');
    await assertRouterError(() => h.router.addPortMapping(portRequest({ containerIp: '172.18.0.2' })), 'internal', 'applying the fake-firewall firewall: nft: table busy');
    await assertRouterError(() => h.router.configureNat(100, '192.0.2.0/24'), 'internal', 'configuring NAT on VLAN 100: applying the fake-firewall firewall: nft: table busy');
    await assertRouterError(() => h.router.createNetwork(create(300, '10.30.0.0/16')), 'internal', 'configuring VLAN 300 (10.30.0.0/16): applying the fake-firewall firewall: nft: table busy');
    const state = await h.router.getState(0);
    assert.deepEqual(state.portMappings, []);
    assert.deepEqual(state.networks.map((n) => [n.network.vlan, n.natSources]), [[100, []], [200, []]]);
    assert.deepEqual(h.store.load().portMappings, []);
    assert.deepEqual(h.vlan.names(), ['eth0.100', 'eth0.200']);
    assert.equal(h.router.health().healthy, false);
    firewall.fail = undefined;
    await h.router.resync();
    assert.equal(h.router.health().healthy, true);
  });
});

describe('Router flows of removed networks', () => {
  /** What each forget asked for about subnets: those removed, and those whose strays it looked for. */
  const subnetsAsked = (tracker: FakeConnectionTracker) => tracker.forgets.map((r) => ({ subnets: r.subnets, strays: r.strays?.subnets }));

  test('a deleted network whose flows were not forgotten is recorded, and its flows are forgotten at the next start', async () => {
    const stateDir = newStateDir();
    const tracker = new FakeConnectionTracker();
    const h = await newHarness({ stateDir, firewall: new FakeFirewallBackend(), connectionTracker: tracker });
    harnesses.push(h);
    await h.router.createNetwork(create(100, '172.18.0.0/16'));
    await h.router.createNetwork(create(200, '172.19.0.0/16'));
    tracker.fail = new Error('conntrack cannot run');
    await h.router.deleteNetwork(200);
    assert.deepEqual(h.store.retiredSubnets(), ['172.19.0.0/16'], 'recorded with the deletion, kept while its forget fails');
    await h.stop();

    const restarted = new FakeConnectionTracker();
    const h2 = await newHarness({ stateDir, firewall: new FakeFirewallBackend(), connectionTracker: restarted });
    harnesses.push(h2);
    await h2.router.resync();
    assert.deepEqual(subnetsAsked(restarted), [{ subnets: ['172.19.0.0/16'], strays: ['172.18.0.0/16', '172.19.0.0/16'] }]);
    assert.deepEqual(h2.store.retiredSubnets(), [], 'settled once forgotten');
    await h2.router.resync();
    assert.deepEqual(subnetsAsked(restarted).slice(1), [], 'a later resync has nothing to forget');
  });

  test('a network deleted before any firewall change succeeded has its flows forgotten with the first that does', async () => {
    const stateDir = newStateDir();
    const h = await newHarness({ stateDir, firewall: new FakeFirewallBackend(), connectionTracker: new FakeConnectionTracker() });
    harnesses.push(h);
    await h.router.createNetwork(create(100, '172.18.0.0/16'));
    await h.router.createNetwork(create(200, '172.19.0.0/16'));
    await h.stop();

    const firewall = new FakeFirewallBackend();
    const tracker = new FakeConnectionTracker();
    const h2 = await newHarness({ stateDir, firewall, connectionTracker: tracker });
    harnesses.push(h2);
    firewall.fail = new Error('nft: cannot run');
    await assert.rejects(h2.router.resync(), /cannot run/);
    firewall.fail = undefined;
    await h2.router.deleteNetwork(200);
    assert.deepEqual(subnetsAsked(tracker), [{ subnets: ['172.19.0.0/16'], strays: ['172.18.0.0/16', '172.19.0.0/16'] }]);
    assert.deepEqual(h2.store.retiredSubnets(), []);
  });

  test('a removed subnet is recorded only until its flows are forgotten, or until a network has it again', async () => {
    const tracker = new FakeConnectionTracker();
    const h = await withNetworks({ firewall: new FakeFirewallBackend(), connectionTracker: tracker });
    await h.router.createNetwork(create(100, '10.5.0.0/16'));
    assert.deepEqual(subnetsAsked(tracker).at(-1), { subnets: ['172.18.0.0/16'], strays: undefined }, 'a changed subnet is forgotten as removed');
    assert.deepEqual(h.store.retiredSubnets(), []);
    tracker.fail = new Error('conntrack cannot run');
    await h.router.deleteNetwork(200);
    assert.deepEqual(h.store.retiredSubnets(), ['172.19.0.0/16']);
    await h.router.createNetwork(create(300, '172.19.0.0/16'));
    assert.deepEqual(h.store.retiredSubnets(), [], "a network on the subnet again: its flows are that network's");
  });

  test('without a connection tracker nothing is recorded', async () => {
    const h = await withNetworks({ firewall: new FakeFirewallBackend() });
    await h.router.deleteNetwork(200);
    assert.deepEqual(h.store.retiredSubnets(), []);
  });
});
