/**
 * router-service making real 802.1Q links in a throwaway namespace. These
 * tests need a kernel with 802.1Q (the helper VM's); on a kernel without it
 * CreateVLAN fails, and so do they.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import type { Netns } from '@router-service/test-support';
import { Daemon } from '../src/daemon.js';
import { expectStatus } from '../src/expect-status.js';
import { showLink, vlanLinks, type LinkView } from '../src/links.js';
import { createRouterNs } from '../src/router-ns.js';
import type { RouterClient, VlanInterface } from '../src/router-client.js';
import { runRouterctl } from '../src/routerctl.js';

interface Router {
  readonly ns: Netns;
  readonly stateDir: string;
  readonly daemon: Daemon;
  readonly client: RouterClient;
}

/** Runs body against a fresh daemon in a fresh namespace, and removes both afterwards. */
async function withRouter(body: (router: Router) => Promise<void>): Promise<void> {
  const ns = await createRouterNs();
  const stateDir = await mkdtemp(join(tmpdir(), 'router-service-state-'));
  let daemon: Daemon | undefined;
  try {
    daemon = await Daemon.start(ns, stateDir);
    await body({ ns, stateDir, daemon, client: daemon.client });
  } catch (error) {
    if (daemon !== undefined && error instanceof Error) error.message += `\nrouter-service log:\n${daemon.output}`;
    throw error;
  } finally {
    try {
      await daemon?.dispose();
    } finally {
      await ns.delete();
      await rm(stateDir, { recursive: true, force: true });
    }
  }
}

async function mustShowLink(ns: Netns, name: string): Promise<LinkView> {
  const link = await showLink(ns, name);
  assert.ok(link !== undefined, `link ${name} does not exist`);
  return link;
}

const ok = { success: true, error: '' };

function vlan(fields: Partial<VlanInterface> & Pick<VlanInterface, 'vlan_id'>): VlanInterface {
  return {
    interface_name: `eth0.${fields.vlan_id}`,
    gateway: '',
    subnet: '',
    mac_address: '',
    mtu: 1500,
    is_up: true,
    nat_enabled: true,
    network_name: '',
    internal: false,
    ...fields,
  };
}

test('CreateVLAN makes the link with the gateway on it, and a repeat changes nothing', () =>
  withRouter(async ({ ns, client }) => {
    const first = await client.call('CreateVLAN', { vlan_id: 100, subnet: '172.18.0.0/16', network_name: 'web' });
    const link = await mustShowLink(ns, 'eth0.100');
    assert.deepEqual(first, { ...ok, interface_name: 'eth0.100', mac_address: link.mac });
    assert.equal(link.vlanId, 100);
    assert.equal(link.parent, 'eth0');
    assert.equal(link.up, true);
    assert.deepEqual(link.ipv4, ['172.18.0.1/16']);

    assert.deepEqual(await client.call('CreateVLAN', { vlan_id: 100, subnet: '172.18.0.0/16', network_name: 'web' }), first);
    assert.equal((await mustShowLink(ns, 'eth0.100')).ifindex, link.ifindex, 'the repeat recreated the link');

    assert.deepEqual((await client.call('ListVLANs', {})).vlans, [
      vlan({ vlan_id: 100, gateway: '172.18.0.1', subnet: '172.18.0.0/16', mac_address: link.mac, network_name: 'web' }),
    ]);
    const health = await client.call('GetHealth', {});
    assert.equal(health.active_vlans, 1);
    assert.equal(health.healthy, true);
  }));

test('enable_nat: absent means on, false means off; internal networks have none', () =>
  withRouter(async ({ client }) => {
    await client.call('CreateVLAN', { vlan_id: 100, subnet: '10.100.0.0/24' });
    await client.call('CreateVLAN', { vlan_id: 200, subnet: '10.200.0.0/24', enable_nat: false });
    await client.call('CreateVLAN', { vlan_id: 300, subnet: '10.30.0.0/24', enable_nat: true });
    await client.call('CreateVLAN', { vlan_id: 400, subnet: '10.40.0.0/24', internal: true });
    const listed = (await client.call('ListVLANs', {})).vlans.map((v) => [v.vlan_id, v.nat_enabled, v.internal]);
    assert.deepEqual(listed, [
      [100, true, false],
      [200, false, false],
      [300, true, false],
      [400, false, true],
    ]);
  }));

test('CreateVLAN converges a changed network in place and frees its old subnet', () =>
  withRouter(async ({ ns, client }) => {
    await client.call('CreateVLAN', { vlan_id: 100, subnet: '172.18.0.0/16' });
    const before = await mustShowLink(ns, 'eth0.100');
    await client.call('CreateVLAN', { vlan_id: 100, subnet: '10.9.0.0/24', gateway: '10.9.0.254', mtu: 1400, enable_nat: false });
    const after = await mustShowLink(ns, 'eth0.100');
    assert.deepEqual(after.ipv4, ['10.9.0.254/24']);
    assert.equal(after.mtu, 1400);
    assert.equal(after.ifindex, before.ifindex, 'the change recreated the link');
    const [listed] = (await client.call('ListVLANs', { vlan_id: 100 })).vlans;
    assert.deepEqual(listed, vlan({ vlan_id: 100, gateway: '10.9.0.254', subnet: '10.9.0.0/24', mac_address: after.mac, mtu: 1400, nat_enabled: false }));
    assert.deepEqual(await client.call('CreateVLAN', { vlan_id: 200, subnet: '172.18.0.0/16' }), {
      ...ok,
      interface_name: 'eth0.200',
      mac_address: (await mustShowLink(ns, 'eth0.200')).mac,
    });
  }));

test('requests that clash with an existing network are refused and change nothing', () =>
  withRouter(async ({ ns, client }) => {
    await client.call('CreateVLAN', { vlan_id: 100, subnet: '172.18.0.0/16' });
    await client.call('CreateVLAN', { vlan_id: 400, subnet: '10.40.0.0/24', internal: true });
    const before = await client.call('GetState', {});
    const refusals: readonly (readonly [() => Promise<unknown>, status, string])[] = [
      [() => client.call('CreateVLAN', { vlan_id: 300, subnet: '172.18.5.0/24' }), status.ALREADY_EXISTS, 'VLAN 100'],
      [() => client.call('CreateVLAN', { vlan_id: 300, subnet: '172.16.0.0/12' }), status.ALREADY_EXISTS, 'VLAN 100'],
      [() => client.call('CreateVLAN', { vlan_id: 100, subnet: '172.18.0.0/16', gateway: '172.18.255.255' }), status.INVALID_ARGUMENT, 'broadcast'],
      [() => client.call('ConfigureNAT', { vlan_id: 400 }), status.FAILED_PRECONDITION, 'VLAN 400 is internal'],
      [() => client.call('ConfigureDNS', { vlan_id: 100, hosts: { web: '10.0.0.2' } }), status.INVALID_ARGUMENT, 'is not inside subnet 172.18.0.0/16'],
      [() => client.call('ConfigureDNS', { vlan_id: 100, subnet: '172.19.0.0/16' }), status.INVALID_ARGUMENT, 'does not match'],
      [() => client.call('ConfigureDNS', { vlan_id: 100, hosts: { 'bad_name': '172.18.0.2' } }), status.INVALID_ARGUMENT, 'not a valid hostname'],
      [() => client.call('AddPortMapping', { vlan_id: 100, container_ip: '172.18.0.1', container_port: 80, host_port: 8080, protocol: 'tcp' }), status.INVALID_ARGUMENT, 'is the gateway of VLAN 100'],
      [() => client.call('AddPortMapping', { vlan_id: 100, container_ip: '10.0.0.2', container_port: 80, host_port: 8080, protocol: 'tcp' }), status.INVALID_ARGUMENT, 'not inside subnet'],
      [() => client.call('AddPortMapping', { vlan_id: 100, container_ip: '172.18.0.2', container_port: 0, host_port: 8080, protocol: 'tcp' }), status.INVALID_ARGUMENT, 'container_port 0 is out of range'],
      [() => client.call('AddPortMapping', { vlan_id: 100, container_ip: '172.18.0.2', container_port: 80, host_port: 8080, protocol: 'icmp' }), status.INVALID_ARGUMENT, 'protocol "icmp" is not supported'],
    ];
    for (const [call, code, message] of refusals) {
      await expectStatus(call(), code, message);
      assert.deepEqual(await client.call('GetState', {}), before);
    }
    assert.deepEqual(await vlanLinks(ns), ['eth0.100', 'eth0.400']);
  }));

test('a VLAN link made by someone else is not taken over', () =>
  withRouter(async ({ ns, client }) => {
    await ns.ip('link', 'add', 'link', 'eth0', 'name', 'eth0.300', 'type', 'vlan', 'id', '300');
    const foreign = await mustShowLink(ns, 'eth0.300');
    await expectStatus(client.call('CreateVLAN', { vlan_id: 300, subnet: '10.30.0.0/24' }), status.FAILED_PRECONDITION, 'not managed by router-service');
    assert.deepEqual(await client.call('GetState', {}), { networks: [], port_mappings: [] });
    const after = await mustShowLink(ns, 'eth0.300');
    assert.equal(after.ifindex, foreign.ifindex);
    assert.deepEqual(after.ipv4, []);
  }));

test('NAT sources are added once and removed, the subnet\'s own NAT switched on and off', () =>
  withRouter(async ({ client }) => {
    await client.call('CreateVLAN', { vlan_id: 100, subnet: '172.18.0.0/16', enable_nat: false });
    const nat = async (): Promise<[boolean | undefined, string[] | undefined]> => {
      const [network] = (await client.call('GetState', { vlan_id: 100 })).networks;
      return [network?.vlan?.nat_enabled, network?.nat_sources];
    };
    assert.deepEqual(await nat(), [false, []]);
    for (let round = 0; round < 2; round++) {
      assert.deepEqual(await client.call('ConfigureNAT', { vlan_id: 100, source_subnet: '10.99.0.0/16' }), ok);
    }
    assert.deepEqual(await nat(), [true, ['10.99.0.0/16']]);
    assert.deepEqual(await client.call('ConfigureNAT', { vlan_id: 100 }), ok);
    assert.deepEqual(await client.call('ConfigureNAT', { vlan_id: 100, source_subnet: '10.98.0.0/16' }), ok);
    assert.deepEqual(await nat(), [true, ['10.98.0.0/16', '10.99.0.0/16']]);
    assert.deepEqual(await client.call('RemoveNAT', { vlan_id: 100, source_subnet: '10.99.0.0/16' }), ok);
    assert.deepEqual(await client.call('RemoveNAT', { vlan_id: 100, source_subnet: '10.99.0.0/16' }), ok);
    assert.deepEqual(await nat(), [true, ['10.98.0.0/16']]);
    assert.deepEqual(await client.call('RemoveNAT', { vlan_id: 100 }), ok);
    assert.deepEqual(await nat(), [false, []]);
  }));

test('DNS names are merged, replaced and removed', () =>
  withRouter(async ({ client }) => {
    await client.call('CreateVLAN', { vlan_id: 100, subnet: '172.18.0.0/16' });
    const dns = async () => (await client.call('GetState', { vlan_id: 100 })).networks[0]?.dns;
    assert.equal(await dns(), null);
    assert.deepEqual(await client.call('ConfigureDNS', { vlan_id: 100, domain: 'corp.example.', hosts: { Web: '172.18.0.2' } }), ok);
    const records = (hosts: Record<string, string[]>) => Object.entries(hosts).map(([name, addresses]) => ({ name, addresses }));
    // `hosts` keeps each name's first address for older clients; host_addresses has them all.
    const config = (hosts: Record<string, string[]>) => ({
      enabled: true,
      domain: 'corp.example',
      hosts: Object.fromEntries(Object.entries(hosts).map(([name, addresses]) => [name, addresses[0]])),
      host_addresses: records(hosts),
    });
    assert.deepEqual(await dns(), config({ web: ['172.18.0.2'] }));
    await client.call('ConfigureDNS', { vlan_id: 100, domain: 'corp.example', subnet: '172.18.0.0/16', gateway: '172.18.0.1', hosts: { db: '172.18.0.3' } });
    assert.deepEqual(await dns(), config({ db: ['172.18.0.3'], web: ['172.18.0.2'] }));
    await client.call('ConfigureDNS', { vlan_id: 100, domain: 'corp.example', host_addresses: [{ name: 'web', addresses: ['172.18.0.9', '172.18.0.2'] }] });
    assert.deepEqual(await dns(), config({ db: ['172.18.0.3'], web: ['172.18.0.2', '172.18.0.9'] }));
    await client.call('ConfigureDNS', { vlan_id: 100, domain: 'corp.example', hosts: { api: '172.18.0.4' }, replace_hosts: true });
    assert.deepEqual(await dns(), config({ api: ['172.18.0.4'] }));
    for (let round = 0; round < 2; round++) {
      assert.deepEqual(await client.call('RemoveDNSHosts', { vlan_id: 100, names: ['API', 'missing'] }), ok);
    }
    assert.deepEqual(await dns(), config({}));
  }));

test('port mappings are added once, conflicts refused, and removed alone or with their network', () =>
  withRouter(async ({ client }) => {
    await client.call('CreateVLAN', { vlan_id: 100, subnet: '172.18.0.0/16' });
    const web = { vlan_id: 100, container_ip: '172.18.0.2', container_port: 80, host_port: 8080, protocol: 'tcp' };
    for (let round = 0; round < 2; round++) assert.deepEqual(await client.call('AddPortMapping', web), ok);
    // vlan_id 0: the network is the one whose subnet holds the container.
    assert.deepEqual(
      await client.call('AddPortMapping', { container_ip: '172.18.0.3', container_port: 5353, host_port: 53, protocol: 'udp', host_ip: '192.168.64.2' }),
      ok,
    );
    await expectStatus(
      client.call('AddPortMapping', { ...web, container_ip: '172.18.0.9' }),
      status.ALREADY_EXISTS,
      'is already published',
    );
    await expectStatus(
      client.call('AddPortMapping', { ...web, host_ip: '192.168.64.2', container_ip: '172.18.0.9' }),
      status.ALREADY_EXISTS,
      'is already published',
    );
    assert.deepEqual((await client.call('GetState', {})).port_mappings, [
      { protocol: 'tcp', host_ip: '', host_port: 8080, container_ip: '172.18.0.2', container_port: 80, vlan_id: 100, host_port_end: 8080, allowed_sources: [] },
      { protocol: 'udp', host_ip: '192.168.64.2', host_port: 53, container_ip: '172.18.0.3', container_port: 5353, vlan_id: 100, host_port_end: 53, allowed_sources: [] },
    ]);
    for (let round = 0; round < 2; round++) {
      assert.deepEqual(await client.call('RemovePortMapping', { host_port: 8080, protocol: 'tcp' }), ok);
    }
    assert.equal((await client.call('GetState', {})).port_mappings.length, 1);
    assert.deepEqual(await client.call('DeleteVLAN', { vlan_id: 100 }), ok);
    assert.deepEqual(await client.call('GetState', {}), { networks: [], port_mappings: [] });
  }));

test('DeleteVLAN removes the link and the network, and a repeat succeeds', () =>
  withRouter(async ({ ns, client }) => {
    await client.call('CreateVLAN', { vlan_id: 100, subnet: '172.18.0.0/16' });
    await client.call('CreateVLAN', { vlan_id: 200, subnet: '172.19.0.0/16' });
    for (let round = 0; round < 2; round++) assert.deepEqual(await client.call('DeleteVLAN', { vlan_id: 100 }), ok);
    assert.equal(await showLink(ns, 'eth0.100'), undefined);
    assert.deepEqual(await vlanLinks(ns), ['eth0.200']);
    assert.deepEqual((await client.call('ListVLANs', {})).vlans.map((v) => v.vlan_id), [200]);
    assert.equal((await client.call('GetHealth', {})).active_vlans, 1);
  }));

test('a link deleted behind its back is recreated by the resync', () =>
  withRouter(async ({ ns, client }) => {
    await client.call('CreateVLAN', { vlan_id: 100, subnet: '172.18.0.0/16' });
    await ns.ip('link', 'delete', 'eth0.100');
    // The resync recreates the link, then configures it: wait for the whole of it.
    const converged = (link: LinkView | undefined): link is LinkView =>
      link !== undefined && link.up && link.ipv4.join() === '172.18.0.1/16';
    const deadline = Date.now() + 30_000;
    let link = await showLink(ns, 'eth0.100');
    while (!converged(link) && Date.now() < deadline) {
      await sleep(250);
      link = await showLink(ns, 'eth0.100');
    }
    assert.ok(converged(link), `eth0.100 was not restored within 30 s (resync interval 2s): ${JSON.stringify(link)}`);
    const [listed] = (await client.call('ListVLANs', {})).vlans;
    assert.equal(listed?.is_up, true);
    assert.equal(listed?.mac_address, link.mac);
  }));

test('a restart keeps the networks and their attachments, and repairs links lost meanwhile', () =>
  withRouter(async ({ ns, stateDir, daemon }) => {
    const { client } = daemon;
    await client.call('CreateVLAN', { vlan_id: 100, subnet: '172.18.0.0/16', network_name: 'web' });
    await client.call('CreateVLAN', { vlan_id: 200, subnet: '172.19.0.0/16', enable_nat: false });
    await client.call('ConfigureNAT', { vlan_id: 200, source_subnet: '10.99.0.0/16' });
    await client.call('ConfigureDNS', { vlan_id: 100, hosts: { web: '172.18.0.2' } });
    await client.call('AddPortMapping', { vlan_id: 100, container_ip: '172.18.0.2', container_port: 80, host_port: 8080, protocol: 'tcp' });
    const before = await client.call('GetState', {});
    assert.deepEqual(await daemon.stop(), { code: 0, signal: null }, daemon.output);

    await ns.ip('link', 'delete', 'eth0.100');
    // No --parent: the recorded one must be used (the namespace has no default route).
    const restarted = await Daemon.start(ns, stateDir, []);
    try {
      assert.deepEqual(await vlanLinks(ns), ['eth0.100', 'eth0.200']);
      const link = await mustShowLink(ns, 'eth0.100');
      assert.deepEqual(link.ipv4, ['172.18.0.1/16']);
      const after = await restarted.client.call('GetState', {});
      const recreated = before.networks.map((network) =>
        network.vlan?.vlan_id === 100 && network.vlan !== null ? { ...network, vlan: { ...network.vlan, mac_address: link.mac } } : network);
      assert.deepEqual(after, { ...before, networks: recreated });
    } finally {
      await restarted.dispose();
    }
  }));

test('routerctl creates, shows and deletes a network', () =>
  withRouter(async ({ ns, daemon }) => {
    const created = await runRouterctl(daemon.socketPath, ['vlan', 'create', '--subnet', '172.18.0.0/16', '100', '--name', 'web', '--nat=false']);
    assert.equal(created.code, 0, created.stderr);
    const link = await mustShowLink(ns, 'eth0.100');
    assert.equal(created.stdout, `created VLAN 100: interface eth0.100, MAC ${link.mac}\n`);

    const shown = await runRouterctl(daemon.socketPath, ['status']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^health: ok, 1 networks, 0 port mappings, up [0-9hms]+\nbackends: firewall nft, dns dnsmasq\nkernel: in sync\n\n/);
    assert.ok(
      shown.stdout.includes(`100   web   eth0.100   172.18.0.0/16  172.18.0.1  1500  up     off  ${link.mac}\n`),
      shown.stdout,
    );

    const listed = await runRouterctl(daemon.socketPath, ['vlan', 'list', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(JSON.parse(listed.stdout), {
      vlans: [
        {
          vlanId: 100,
          interfaceName: 'eth0.100',
          gateway: '172.18.0.1',
          subnet: '172.18.0.0/16',
          macAddress: link.mac,
          mtu: 1500,
          isUp: true,
          natEnabled: false,
          networkName: 'web',
          internal: false,
        },
      ],
      error: '',
    });

    const deleted = await runRouterctl(daemon.socketPath, ['vlan', 'delete', '100']);
    assert.deepEqual([deleted.code, deleted.stdout], [0, 'deleted VLAN 100\n']);
    assert.equal(await showLink(ns, 'eth0.100'), undefined);
  }));
