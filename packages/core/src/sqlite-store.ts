/**
 * The durable Store: one SQLite database (node:sqlite) in the state
 * directory, in WAL mode with synchronous=FULL so that every update is on
 * disk when it returns. The connection holds the database in EXCLUSIVE
 * locking mode from the moment it opens: a second router-service on the
 * same directory fails fast instead of fighting over the kernel.
 */
import { closeSync, mkdirSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { RouterError, errorMessage, unavailable } from './errors.js';
import { compareAddresses } from './ipv4.js';
import type { Network, PortMapping } from './model.js';
import { comparePortMappings } from './ports.js';
import { portKeyText, type BackendKind, type Store, type StoreTransaction } from './store.js';

/** The database file inside the state directory. */
export const STATE_FILE_NAME = 'state.db';

const SQLITE_BUSY = 5;
const SCHEMA_VERSION = 1;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS networks (vlan INTEGER PRIMARY KEY, network TEXT NOT NULL) STRICT;
  CREATE TABLE IF NOT EXISTS port_mappings (key TEXT PRIMARY KEY, mapping TEXT NOT NULL) STRICT;
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
  CREATE TABLE IF NOT EXISTS retired_subnets (subnet TEXT PRIMARY KEY) STRICT;
  PRAGMA user_version = ${SCHEMA_VERSION};
`;

function isSqliteError(err: unknown): err is Error & { errcode: number } {
  return err instanceof Error && 'errcode' in err && typeof err.errcode === 'number';
}

function openDatabase(path: string): DatabaseSync {
  // timeout 0: a database another process holds is refused at once.
  const db = new DatabaseSync(path, { timeout: 0 });
  try {
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = FULL');
    // The first write transaction takes the exclusive lock, which the
    // connection then keeps until it closes.
    db.exec(`BEGIN IMMEDIATE; ${SCHEMA} COMMIT;`);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * The first router-service kept its state in a bbolt file of the same name;
 * its meta page starts with this magic number (little-endian, after the
 * 16-byte page header).
 */
const BBOLT_MAGIC = 0xed0cdaed;

function isBboltFile(fd: number): boolean {
  const head = Buffer.alloc(20);
  return readSync(fd, head, 0, head.length, 0) === head.length && head.readUInt32LE(16) === BBOLT_MAGIC;
}

/** Opens, creating if needed, the store in dir (mode 0700, the file 0600). */
export function openSqliteStore(dir: string): Store {
  const path = join(dir, STATE_FILE_NAME);
  let db: DatabaseSync;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const fd = openSync(path, 'a+', 0o600);
    const earlierFormat = isBboltFile(fd);
    closeSync(fd);
    if (earlierFormat) {
      throw unavailable(
        `opening ${path}: it holds the state of an earlier router-service in bbolt format, which this version ` +
          'does not read: move it aside, start the service and create the networks again',
      );
    }
    db = openDatabase(path);
  } catch (err) {
    if (err instanceof RouterError) throw err;
    if (isSqliteError(err) && err.errcode === SQLITE_BUSY) {
      throw unavailable(`opening ${path}: another router-service holds it`, err);
    }
    throw unavailable(`opening ${path}: ${errorMessage(err)}`, err);
  }
  return new SqliteStore(db);
}

class SqliteStore implements Store {
  readonly #db: DatabaseSync;
  readonly #selectNetworks: StatementSync;
  readonly #selectPortMappings: StatementSync;
  readonly #selectMeta: StatementSync;
  readonly #selectRetiredSubnets: StatementSync;
  readonly #putMeta: StatementSync;
  readonly #tx: StoreTransaction;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#selectNetworks = db.prepare('SELECT vlan, network FROM networks ORDER BY vlan');
    this.#selectPortMappings = db.prepare('SELECT key, mapping FROM port_mappings');
    this.#selectMeta = db.prepare('SELECT value FROM meta WHERE key = ?');
    this.#selectRetiredSubnets = db.prepare('SELECT subnet FROM retired_subnets ORDER BY subnet');
    this.#putMeta = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
    const putNetwork = db.prepare('INSERT OR REPLACE INTO networks (vlan, network) VALUES (?, ?)');
    const deleteNetwork = db.prepare('DELETE FROM networks WHERE vlan = ?');
    const putPortMapping = db.prepare('INSERT OR REPLACE INTO port_mappings (key, mapping) VALUES (?, ?)');
    const deletePortMapping = db.prepare('DELETE FROM port_mappings WHERE key = ?');
    const putRetiredSubnet = db.prepare('INSERT OR REPLACE INTO retired_subnets (subnet) VALUES (?)');
    const deleteRetiredSubnet = db.prepare('DELETE FROM retired_subnets WHERE subnet = ?');
    this.#tx = {
      putNetwork: (n) => void putNetwork.run(n.vlan, JSON.stringify(n)),
      deleteNetwork: (vlan) => void deleteNetwork.run(vlan),
      putPortMapping: (m) => void putPortMapping.run(portKeyText(m), JSON.stringify(m)),
      deletePortMapping: (k) => void deletePortMapping.run(portKeyText(k)),
      putRetiredSubnet: (subnet) => void putRetiredSubnet.run(subnet),
      deleteRetiredSubnet: (subnet) => void deleteRetiredSubnet.run(subnet),
    };
  }

  load() {
    const networks: Network[] = [];
    for (const row of this.#selectNetworks.iterate()) {
      networks.push(upgradeNetwork(decode<StoredNetwork>(row['network'], `network ${String(row['vlan'])}`)));
    }
    const portMappings: PortMapping[] = [];
    for (const row of this.#selectPortMappings.iterate()) {
      portMappings.push(upgradePortMapping(decode<StoredPortMapping>(row['mapping'], `port mapping ${String(row['key'])}`)));
    }
    return { networks, portMappings: portMappings.sort(comparePortMappings) };
  }

  parent(): string {
    const row = this.#selectMeta.get('parent');
    return typeof row?.['value'] === 'string' ? row['value'] : '';
  }

  setParent(name: string): void {
    this.update(() => void this.#putMeta.run('parent', name));
  }

  retiredSubnets(): string[] {
    return this.#selectRetiredSubnets.all().map((row) => String(row['subnet']));
  }

  activeBackend(kind: BackendKind): string {
    const row = this.#selectMeta.get(activeBackendKey(kind));
    return typeof row?.['value'] === 'string' ? row['value'] : '';
  }

  setActiveBackend(kind: BackendKind, name: string): void {
    this.update(() => void this.#putMeta.run(activeBackendKey(kind), name));
  }

  retiringBackends(kind: BackendKind): string[] {
    const row = this.#selectMeta.get(retiringBackendsKey(kind));
    if (typeof row?.['value'] !== 'string') return [];
    const names = decode<unknown>(row['value'], `the ${kind} backends to tear down`);
    return Array.isArray(names) ? names.filter((name): name is string => typeof name === 'string') : [];
  }

  setRetiringBackends(kind: BackendKind, names: readonly string[]): void {
    this.update(() => void this.#putMeta.run(retiringBackendsKey(kind), JSON.stringify(names)));
  }

  update(change: (tx: StoreTransaction) => void): void {
    try {
      this.#db.exec('BEGIN IMMEDIATE');
      change(this.#tx);
      this.#db.exec('COMMIT');
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      if (isSqliteError(err)) {
        throw new RouterError('internal', `storing desired state: ${err.message}`, { cause: err });
      }
      throw err;
    }
  }

  close(): void {
    this.#db.close();
  }
}

/** A network as rows hold it: those written before round robin DNS have one address per name, as a string. */
type StoredNetwork = Omit<Network, 'dns'> & {
  dns: { domain: string; hosts: Record<string, string | string[]> } | null;
};

/** A stored network in today's shape: each DNS name with its distinct addresses, sorted; nothing dropped. */
function upgradeNetwork(n: StoredNetwork): Network {
  if (n.dns === null) return { ...n, dns: null };
  const hosts: Record<string, string[]> = {};
  for (const [name, addresses] of Object.entries(n.dns.hosts)) {
    hosts[name] = [...new Set(typeof addresses === 'string' ? [addresses] : addresses)].sort(compareAddresses);
  }
  return { ...n, dns: { domain: n.dns.domain, hosts } };
}

/** A mapping as rows hold it: those written before ranges and sources lack both. */
type StoredPortMapping = Omit<PortMapping, 'hostPortEnd' | 'sources'> & Partial<Pick<PortMapping, 'hostPortEnd' | 'sources'>>;

/** A stored mapping in today's shape: an old row is one port, open to every source. */
function upgradePortMapping(m: StoredPortMapping): PortMapping {
  return {
    protocol: m.protocol,
    hostIp: m.hostIp,
    hostPort: m.hostPort,
    hostPortEnd: m.hostPortEnd ?? m.hostPort,
    containerIp: m.containerIp,
    containerPort: m.containerPort,
    vlan: m.vlan,
    sources: m.sources ?? [],
  };
}

/** The meta row recording the active backend of a kind: "firewall_backend", "dns_backend". */
function activeBackendKey(kind: BackendKind): string {
  return `${kind}_backend`;
}

/** The meta row recording, as a JSON array, the earlier backends of a kind still to tear down. */
function retiringBackendsKey(kind: BackendKind): string {
  return `${kind}_backends_retiring`;
}

function decode<T>(value: unknown, what: string): T {
  try {
    return JSON.parse(String(value)) as T;
  } catch (err) {
    throw new RouterError('internal', `reading desired state: decoding ${what}: ${errorMessage(err)}`, {
      cause: err,
    });
  }
}
