import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { MAX_VLAN, type Network, type PortMapping } from '../src/model.js';
import { createMemoryStore } from '../src/memory-store.js';
import { openSqliteStore, STATE_FILE_NAME } from '../src/sqlite-store.js';
import type { Store, StoreTransaction } from '../src/store.js';
import { assertRouterError, network, portMapping } from './helpers.js';

const tempDirs: string[] = [];
after(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'router-core-store-'));
  tempDirs.push(dir);
  return dir;
}

function subnetNetwork(vlan: number, subnet: string): Network {
  const [a, b, c] = subnet.split('.');
  return network(vlan, subnet, `${a}.${b}.${c}.1`);
}

const changed: Network = {
  ...subnetNetwork(100, '10.100.0.0/16'),
  mtu: 1400,
  nat: false,
  name: 'changed',
  internal: true,
  natSources: ['192.0.2.0/24'],
  dns: { domain: 'internal', hosts: { web: ['10.100.0.2'] } },
};

const rangeMapping = portMapping('sctp', '', 9000, 300, '10.3.0.9', { hostPortEnd: 9010, sources: ['10.0.0.0/8', '192.0.2.7/32'] });

const steps: Array<(tx: StoreTransaction) => void> = [
  (tx) => tx.putNetwork(subnetNetwork(300, '10.3.0.0/16')),
  (tx) => tx.putNetwork(subnetNetwork(2, '10.2.0.0/16')),
  (tx) => tx.putNetwork(subnetNetwork(100, '10.1.0.0/16')),
  (tx) => tx.putNetwork(changed),
  (tx) => tx.deleteNetwork(2),
  (tx) => tx.deleteNetwork(4000),
  (tx) => tx.putPortMapping(portMapping('tcp', '', 8080, 100, '10.100.0.2')),
  (tx) => tx.putPortMapping(portMapping('udp', '127.0.0.1', 53, 300, '10.3.0.9')),
  (tx) => tx.putPortMapping(portMapping('tcp', '', 9090, 300, '10.3.0.9')),
  (tx) => tx.putPortMapping(rangeMapping),
  (tx) => tx.deletePortMapping({ protocol: 'tcp', hostPort: 9090, hostIp: '' }),
];

const wantPorts: PortMapping[] = [
  rangeMapping,
  portMapping('tcp', '', 8080, 100, '10.100.0.2'),
  portMapping('udp', '127.0.0.1', 53, 300, '10.3.0.9'),
];

/** The contract every Store keeps, run against each implementation. */
function storeContract(name: string, open: () => Store): void {
  describe(`${name} store`, () => {
    test('applies changes in order and loads them sorted', () => {
      const store = open();
      for (const step of steps) store.update(step);
      const state = store.load();
      assert.deepEqual(state.networks, [changed, subnetNetwork(300, '10.3.0.0/16')]);
      assert.deepEqual(state.portMappings, wantPorts);
      store.close();
    });

    test('a failed transaction changes nothing', () => {
      const store = open();
      store.update((tx) => tx.putNetwork(subnetNetwork(1, '10.1.0.0/16')));
      assert.throws(
        () =>
          store.update((tx) => {
            tx.putNetwork(subnetNetwork(5, '10.5.0.0/16'));
            tx.deleteNetwork(1);
            tx.putPortMapping(portMapping('tcp', '', 80, 5, '10.5.0.2'));
            throw new Error('rejected half-way');
          }),
        /rejected half-way/,
      );
      assert.deepEqual(store.load(), { networks: [subnetNetwork(1, '10.1.0.0/16')], portMappings: [] });
      store.close();
    });

    test('what load returns is a copy', () => {
      const store = open();
      const n = subnetNetwork(1, '10.1.0.0/16');
      store.update((tx) => tx.putNetwork(n));
      n.name = 'mutated after put';
      const loaded = store.load();
      (loaded.networks[0] ?? assert.fail()).name = 'mutated after load';
      assert.equal(store.load().networks[0]?.name, '');
      store.close();
    });

    test('records the parent', () => {
      const store = open();
      assert.equal(store.parent(), '');
      store.setParent('eth0');
      assert.equal(store.parent(), 'eth0');
      store.close();
    });

    test('records the active backend of each kind apart', () => {
      const store = open();
      assert.equal(store.activeBackend('firewall'), '');
      assert.equal(store.activeBackend('dns'), '');
      store.setActiveBackend('firewall', 'nft');
      store.setActiveBackend('dns', 'none');
      store.setActiveBackend('firewall', 'iptables');
      assert.equal(store.activeBackend('firewall'), 'iptables');
      assert.equal(store.activeBackend('dns'), 'none');
      store.close();
    });

    test('records the backends still to tear down of each kind apart', () => {
      const store = open();
      assert.deepEqual(store.retiringBackends('firewall'), []);
      store.setRetiringBackends('firewall', ['iptables', './my-firewall.js']);
      store.setRetiringBackends('dns', ['dnsmasq']);
      assert.deepEqual(store.retiringBackends('firewall'), ['iptables', './my-firewall.js']);
      assert.deepEqual(store.retiringBackends('dns'), ['dnsmasq']);
      store.setRetiringBackends('firewall', []);
      assert.deepEqual(store.retiringBackends('firewall'), []);
      store.close();
    });
  });
}

storeContract('memory', createMemoryStore);
storeContract('sqlite', () => openSqliteStore(tempDir()));

describe('sqlite store on disk', () => {
  test('state, parent, active backends and those still to tear down survive reopen', () => {
    const dir = tempDir();
    let store = openSqliteStore(dir);
    for (const step of steps) store.update(step);
    store.setParent('eth0');
    store.setActiveBackend('firewall', 'nft');
    store.setRetiringBackends('firewall', ['iptables']);
    store.close();
    store = openSqliteStore(dir);
    assert.deepEqual(store.load(), { networks: [changed, subnetNetwork(300, '10.3.0.0/16')], portMappings: wantPorts });
    assert.equal(store.parent(), 'eth0');
    assert.equal(store.activeBackend('firewall'), 'nft');
    assert.deepEqual(store.retiringBackends('firewall'), ['iptables']);
    store.close();
  });

  test('a port mapping stored before ranges and sources loads as one port open to every source', () => {
    const dir = tempDir();
    openSqliteStore(dir).close();
    const db = new DatabaseSync(join(dir, STATE_FILE_NAME));
    db.prepare('INSERT INTO port_mappings (key, mapping) VALUES (?, ?)').run(
      'tcp/8080/',
      JSON.stringify({ protocol: 'tcp', hostIp: '', hostPort: 8080, containerIp: '10.1.0.2', containerPort: 80, vlan: 1 }),
    );
    db.close();
    const store = openSqliteStore(dir);
    assert.deepEqual(store.load().portMappings, [portMapping('tcp', '', 8080, 1, '10.1.0.2')]);
    store.close();
  });

  test('DNS names stored with one address each load as one-address lists, nothing lost', () => {
    const dir = tempDir();
    openSqliteStore(dir).close();
    const earlier = [
      { ...subnetNetwork(1, '10.1.0.0/16'), dns: { domain: 'corp', hosts: { api: '10.1.0.10', db: '10.1.0.3', web: '10.1.0.2' } } },
      { ...subnetNetwork(2, '10.2.0.0/16'), dns: { domain: '', hosts: {} } },
      subnetNetwork(3, '10.3.0.0/16'),
    ];
    const db = new DatabaseSync(join(dir, STATE_FILE_NAME));
    for (const n of earlier) db.prepare('INSERT INTO networks (vlan, network) VALUES (?, ?)').run(n.vlan, JSON.stringify(n));
    db.close();
    const want: Network[] = [
      { ...subnetNetwork(1, '10.1.0.0/16'), dns: { domain: 'corp', hosts: { api: ['10.1.0.10'], db: ['10.1.0.3'], web: ['10.1.0.2'] } } },
      { ...subnetNetwork(2, '10.2.0.0/16'), dns: { domain: '', hosts: {} } },
      subnetNetwork(3, '10.3.0.0/16'),
    ];
    let store = openSqliteStore(dir);
    const loaded = store.load().networks;
    assert.deepEqual(loaded, want);
    // Written back in today's shape, they load the same.
    store.update((tx) => {
      for (const n of loaded) tx.putNetwork(n);
    });
    store.close();
    store = openSqliteStore(dir);
    assert.deepEqual(store.load().networks, want);
    store.close();
  });

  test('the directory is 0700 and the database 0600', () => {
    const dir = join(tempDir(), 'state');
    const store = openSqliteStore(dir);
    store.update((tx) => tx.putNetwork(subnetNetwork(1, '10.1.0.0/16')));
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, STATE_FILE_NAME)).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, `${STATE_FILE_NAME}-wal`)).mode & 0o777, 0o600);
    store.close();
  });

  test('a state file of the earlier bbolt format is refused with what to do, and left as it was', async () => {
    const dir = tempDir();
    const bbolt = Buffer.alloc(4096);
    bbolt.writeUInt32LE(0xed0cdaed, 16);
    writeFileSync(join(dir, STATE_FILE_NAME), bbolt);
    await assertRouterError(() => openSqliteStore(dir), 'unavailable', 'earlier router-service in bbolt format');
    assert.deepEqual(readFileSync(join(dir, STATE_FILE_NAME)), bbolt);
  });

  test('a second opener in the same process is refused', async () => {
    const dir = tempDir();
    const store = openSqliteStore(dir);
    await assertRouterError(() => openSqliteStore(dir), 'unavailable', 'another router-service holds it');
    store.close();
    openSqliteStore(dir).close();
  });

  test('a second process is refused at once', async () => {
    const dir = tempDir();
    const store = openSqliteStore(dir);
    const storeModule = fileURLToPath(new URL('../src/sqlite-store.js', import.meta.url));
    const script = `
      const { openSqliteStore } = await import(${JSON.stringify(storeModule)});
      try { openSqliteStore(process.argv[1]).close(); console.log(JSON.stringify({ opened: true })); }
      catch (err) { console.log(JSON.stringify({ kind: err.kind, message: err.message })); }`;
    const started = Date.now();
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, dir]);
    assert.deepEqual(JSON.parse(stdout), {
      kind: 'unavailable',
      message: `opening ${join(dir, STATE_FILE_NAME)}: another router-service holds it`,
    });
    assert.ok(Date.now() - started < 5000, 'the refusal was not fast');
    store.close();
  });

  test('full scale: every VLAN id and 100,000 port mappings in one transaction', () => {
    const dir = tempDir();
    let store = openSqliteStore(dir);
    const mappings = 100_000;
    store.update((tx) => {
      for (let vlan = 1; vlan <= MAX_VLAN; vlan++) {
        tx.putNetwork(subnetNetwork(vlan, `10.${vlan >> 8}.${vlan & 0xff}.0/24`));
      }
      for (let i = 0; i < mappings; i++) {
        const block = Math.floor(i / 65000);
        tx.putPortMapping(portMapping('tcp', `127.0.${block}.${1 + block}`, 1 + (i % 65000), 1, '10.0.1.2'));
      }
    });
    store.close();
    store = openSqliteStore(dir);
    const state = store.load();
    assert.equal(state.networks.length, MAX_VLAN);
    assert.equal(state.portMappings.length, mappings);
    assert.deepEqual(
      state.networks.map((n) => n.vlan),
      Array.from({ length: MAX_VLAN }, (_, i) => i + 1),
    );
    assert.deepEqual(state.portMappings[0], portMapping('tcp', '127.0.0.1', 1, 1, '10.0.1.2'));
    store.close();
  });
});
