/**
 * Port mappings through the wire contract: ranges, sctp, allowed sources,
 * overlaps, removals, and clients that send none of the newer fields. The
 * networks come from the store the daemon starts on, as after a restart,
 * so that no 802.1Q link is needed: without firewall and DNS backends,
 * mappings are validated, stored and listed whether or not the links exist.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { openSqliteStore, STATE_FILE_NAME, type Network } from '@router-service/core';
import type { Netns } from '@router-service/test-support';
import { Daemon } from '../src/daemon.js';
import { expectStatus } from '../src/expect-status.js';
import { createRouterNs } from '../src/router-ns.js';
import type { PortMapping, RouterClient } from '../src/router-client.js';
import { runRouterctl } from '../src/routerctl.js';

const ok = { success: true, error: '' };

function network(vlan: number, subnet: string, gateway: string): Network {
  return { vlan, name: '', subnet, gateway, mtu: 0, nat: true, internal: false, natSources: [], dns: null };
}

/** A mapping as GetState lists it: one port open to every source unless fields say otherwise. */
function listed(fields: Partial<PortMapping> & Pick<PortMapping, 'host_port' | 'container_ip'>): PortMapping {
  return {
    protocol: 'tcp',
    host_ip: '',
    container_port: 80,
    vlan_id: 100,
    host_port_end: fields.host_port,
    allowed_sources: [],
    ...fields,
  };
}

/**
 * Writes the state a daemon of an earlier version left: VLANs 100 and 200,
 * and on 200 a mapping stored before ranges and sources existed.
 */
function seedState(stateDir: string): void {
  const store = openSqliteStore(stateDir);
  store.update((tx) => {
    tx.putNetwork(network(100, '172.18.0.0/16', '172.18.0.1'));
    tx.putNetwork(network(200, '172.19.0.0/16', '172.19.0.1'));
  });
  store.close();
  const db = new DatabaseSync(join(stateDir, STATE_FILE_NAME));
  db.prepare('INSERT INTO port_mappings (key, mapping) VALUES (?, ?)').run(
    'tcp/5432/127.0.0.1',
    JSON.stringify({ protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 5432, containerIp: '172.19.0.7', containerPort: 5432, vlan: 200 }),
  );
  db.close();
}

describe('port mappings through gRPC', () => {
  let ns: Netns;
  let dir: string;
  let daemon: Daemon;
  let client: RouterClient;
  const restored = listed({ host_port: 5432, host_ip: '127.0.0.1', container_ip: '172.19.0.7', container_port: 5432, vlan_id: 200 });
  const mappings = async (): Promise<PortMapping[]> => (await client.call('GetState', {})).port_mappings;

  before(async () => {
    ns = await createRouterNs();
    dir = await mkdtemp(join(tmpdir(), 'router-service-ports-'));
    const stateDir = join(dir, 'state');
    await mkdir(stateDir, { mode: 0o700 });
    seedState(stateDir);
    const config = join(dir, 'config.json');
    await writeFile(config, JSON.stringify({ firewall: 'none', dns: 'off' }));
    daemon = await Daemon.start(ns, stateDir, ['--parent', 'eth0', '--config', config]);
    client = daemon.client;
  });

  after(async () => {
    await daemon?.dispose();
    await ns?.delete();
    await rm(dir, { recursive: true, force: true });
  });

  test('a mapping stored before ranges and sources is listed as one port open to every source', async () => {
    assert.deepEqual(await mappings(), [restored]);
  });

  test('a client that sends none of the newer fields publishes, repeats and removes one port as before', async () => {
    const web = { vlan_id: 100, container_ip: '172.18.0.2', container_port: 80, host_port: 8080, protocol: 'tcp' };
    for (let round = 0; round < 2; round++) assert.deepEqual(await client.call('AddPortMapping', web), ok);
    assert.deepEqual(await mappings(), [restored, listed({ host_port: 8080, container_ip: '172.18.0.2' })]);
    await expectStatus(client.call('AddPortMapping', { ...web, container_ip: '172.18.0.9' }), status.ALREADY_EXISTS, 'host port *:8080/tcp is already published to 172.18.0.2:80 (VLAN 100)');
    for (let round = 0; round < 2; round++) assert.deepEqual(await client.call('RemovePortMapping', { host_port: 8080, protocol: 'tcp' }), ok);
    assert.deepEqual(await mappings(), [restored]);
  });

  test('a range in one call shows in GetState, and its ports are taken', async () => {
    const range = { vlan_id: 100, container_ip: '172.18.0.3', container_port: 9000, host_port: 8000, host_port_end: 8010, protocol: 'tcp' };
    assert.deepEqual(await client.call('AddPortMapping', range), ok);
    assert.deepEqual(await client.call('AddPortMapping', range), ok);
    const want = listed({ host_port: 8000, host_port_end: 8010, container_ip: '172.18.0.3', container_port: 9000 });
    assert.deepEqual(await mappings(), [restored, want]);
    assert.deepEqual((await client.call('GetState', { vlan_id: 100 })).port_mappings, [want]);

    const taken = 'host ports *:8000-8010/tcp are already published to 172.18.0.3:9000-9010 (VLAN 100): remove that mapping first';
    const overlaps = [
      { container_ip: '172.18.0.4', container_port: 80, host_port: 8005, protocol: 'tcp', vlan_id: 100 },
      { container_ip: '172.18.0.4', container_port: 80, host_port: 7990, host_port_end: 8000, protocol: 'tcp', vlan_id: 100 },
      { ...range, host_port_end: 8009 },
      { ...range, allowed_sources: ['10.0.0.0/8'] },
      { container_ip: '172.18.0.4', container_port: 80, host_port: 8010, host_ip: '192.168.64.2', protocol: 'tcp', vlan_id: 100 },
    ];
    for (const request of overlaps) {
      await expectStatus(client.call('AddPortMapping', request), status.ALREADY_EXISTS, taken);
    }
    // Next to the range, or on another protocol: free.
    assert.deepEqual(await client.call('AddPortMapping', { ...range, host_port: 8011, host_port_end: 0, container_ip: '172.18.0.4' }), ok);
    assert.deepEqual(await client.call('AddPortMapping', { ...range, protocol: 'udp' }), ok);
    assert.deepEqual(await mappings(), [
      restored,
      want,
      listed({ host_port: 8011, container_ip: '172.18.0.4', container_port: 9000 }),
      listed({ protocol: 'udp', host_port: 8000, host_port_end: 8010, container_ip: '172.18.0.3', container_port: 9000 }),
    ]);
  });

  test('a port inside a range, or another end, cannot be removed: the range goes by its first port', async () => {
    await expectStatus(
      client.call('RemovePortMapping', { host_port: 8005, protocol: 'tcp' }),
      status.FAILED_PRECONDITION,
      'host ports *:8000-8010/tcp are published as one range: remove it by its first port 8000',
    );
    await expectStatus(
      client.call('RemovePortMapping', { host_port: 8000, host_port_end: 8005, protocol: 'tcp' }),
      status.FAILED_PRECONDITION,
      'not as 8000-8005',
    );
    assert.equal((await mappings()).length, 4);
    assert.deepEqual(await client.call('RemovePortMapping', { host_port: 8000, host_port_end: 8010, protocol: 'tcp' }), ok);
    assert.deepEqual(await client.call('RemovePortMapping', { host_port: 8000, protocol: 'udp' }), ok);
    assert.deepEqual(await client.call('RemovePortMapping', { host_port: 8011, protocol: 'tcp' }), ok);
    assert.deepEqual(await mappings(), [restored]);
  });

  test('sctp is accepted, and sources are stored canonical, sorted and without nested ones', async () => {
    const request = {
      vlan_id: 200,
      container_ip: '172.19.0.8',
      container_port: 3868,
      host_port: 3868,
      protocol: 'SCTP',
      allowed_sources: ['192.0.2.9', '10.1.0.0/16', '192.0.2.0/24', '10.0.0.0/8', '::ffff:198.51.100.7'],
    };
    assert.deepEqual(await client.call('AddPortMapping', request), ok);
    const want = listed({
      protocol: 'sctp',
      host_port: 3868,
      container_ip: '172.19.0.8',
      container_port: 3868,
      vlan_id: 200,
      allowed_sources: ['10.0.0.0/8', '192.0.2.0/24', '198.51.100.7/32'],
    });
    assert.deepEqual(await mappings(), [want, restored]);
    // The same sources spelled otherwise are the same mapping.
    assert.deepEqual(await client.call('AddPortMapping', { ...request, allowed_sources: ['198.51.100.7/32', '192.0.2.0/24', '10.0.0.0/8'] }), ok);
    await expectStatus(client.call('AddPortMapping', { ...request, allowed_sources: [] }), status.ALREADY_EXISTS, 'from 10.0.0.0/8, 192.0.2.0/24, 198.51.100.7/32');
    assert.deepEqual(await client.call('RemovePortMapping', { host_port: 3868, protocol: 'sctp' }), ok);
    assert.deepEqual(await mappings(), [restored]);
  });

  test('malformed ranges and sources are InvalidArgument and change nothing', async () => {
    const port = { vlan_id: 100, container_ip: '172.18.0.2', container_port: 80, host_port: 8000, protocol: 'tcp' };
    const refusals: Array<[object, string]> = [
      [{ ...port, host_port_end: 7999 }, 'host_port_end 7999 of *:8000/tcp is below host_port'],
      [{ ...port, host_port_end: 70000 }, 'host_port_end 70000 of *:8000/tcp is out of range'],
      [{ ...port, host_port_end: 8010, container_port: 65530 }, 'past 65535: lower container_port to at most 65525'],
      [{ ...port, allowed_sources: ['10.0.0.1/8'] }, 'did you mean 10.0.0.0/8?'],
      [{ ...port, allowed_sources: ['fd00::/8'] }, 'is not IPv4'],
      [{ ...port, allowed_sources: Array.from({ length: 65 }, (_, i) => `10.0.${i}.0/24`) }, 'at most 64'],
      // Invalid on its own: the absent VLAN is not what is reported.
      [{ ...port, vlan_id: 9, allowed_sources: ['web'] }, 'allowed_sources entry "web"'],
    ];
    for (const [request, message] of refusals) {
      await expectStatus(client.call('AddPortMapping', request), status.INVALID_ARGUMENT, message);
    }
    await expectStatus(client.call('RemovePortMapping', { host_port: 8000, host_port_end: 10, protocol: 'tcp' }), status.INVALID_ARGUMENT, 'below host_port');
    assert.deepEqual(await mappings(), [restored]);
  });

  test('routerctl publishes a range with sources, lists it and removes it', async () => {
    const add = await runRouterctl(daemon.socketPath, [
      'port', 'add', '--vlan', '100', '--container-ip', '172.18.0.5', '--container-port', '80',
      '--host-port', '9000-9002', '--protocol', 'sctp', '--source', '192.0.2.1', '--source', '192.0.2.0/24',
    ]);
    assert.equal(add.code, 0, add.stderr);
    assert.equal(add.stdout, 'published *:9000-9002/sctp -> 172.18.0.5:80-82 from 192.0.2.1, 192.0.2.0/24\n');
    const list = await runRouterctl(daemon.socketPath, ['port', 'list', '100']);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout, 'PROTO  HOST         CONTAINER         VLAN  SOURCES\nsctp   *:9000-9002  172.18.0.5:80-82  100   192.0.2.0/24\n');
    const inside = await runRouterctl(daemon.socketPath, ['port', 'remove', '--host-port', '9001', '--protocol', 'sctp']);
    assert.equal(inside.code, 1);
    assert.match(inside.stderr, /^routerctl: FailedPrecondition: host ports \*:9000-9002\/sctp are published as one range/);
    const remove = await runRouterctl(daemon.socketPath, ['port', 'remove', '--host-port', '9000-9002', '--protocol', 'sctp']);
    assert.equal(remove.code, 0, remove.stderr);
    assert.deepEqual(await mappings(), [restored]);
  });
});
