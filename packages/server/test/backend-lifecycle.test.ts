// The daemon's lifecycle around its backends: switching the configured
// backend tears down the recorded one before the first sync and records the
// new one only once that sync succeeded; GetHealth reports the backends and
// whether the kernel matches the desired state. Plugins are fakes, imported
// through the daemon's module importer.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, test } from 'node:test';
import {
  openSqliteStore,
  type DnsBackend,
  type FirewallBackend,
  type FirewallState,
  type Logger,
} from '@router-service/core';
import type { HealthResponse } from '@router-service/proto';
import { createRouterClient } from '@router-service/transport';
import { parseConfig, type DaemonConfig } from '../src/config.js';
import { startDaemon, type RunningDaemon } from '../src/daemon.js';
import type { ModuleImporter, Plugin } from '../src/plugins.js';
import { FakeVlanBackend } from './fake-vlan-backend.js';
import { rpc } from './harness.js';

const dirs: string[] = [];
const daemons: RunningDaemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop(1000);
});
after(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

interface LogLine {
  level: string;
  fields: Record<string, unknown>;
  message: string;
}

function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const record = (level: string) => (fields: Record<string, unknown>, message: string) => void lines.push({ level, fields, message });
  return { lines, debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
}

/**
 * Fake firewall and DNS plugins by module specifier, writing what their
 * backends are asked into one journal ("<specifier> sync", "... teardown",
 * "... close").
 */
class FakePlugins {
  readonly journal: string[] = [];
  /** Specifiers whose backends fail every sync. */
  readonly failSync = new Set<string>();
  /** Specifiers whose backends fail every teardown (written to the journal as "... teardown failed"). */
  readonly failTeardown = new Set<string>();
  /** Specifier -> what drift() answers. */
  readonly drift = new Map<string, string>();

  readonly importModule: ModuleImporter = async (specifier) => {
    const plugin = this.#plugin(specifier);
    if (plugin === undefined) throw Object.assign(new Error(`Cannot find package '${specifier}'`), { code: 'ERR_MODULE_NOT_FOUND' });
    return { default: plugin };
  };

  /** The journal entries of one kind of call, e.g. "teardown". */
  calls(what: string): string[] {
    return this.journal.filter((entry) => entry.endsWith(` ${what}`));
  }

  #plugin(specifier: string): Plugin | undefined {
    if (specifier.endsWith('-firewall')) {
      return { kind: 'firewall', name: specifier, create: () => this.#firewall(specifier) };
    }
    if (specifier.endsWith('-dns')) return { kind: 'dns', name: specifier, create: () => this.#dns(specifier) };
    return undefined;
  }

  #firewall(specifier: string): FirewallBackend {
    const sync = async (_state: FirewallState) => {
      if (this.failSync.has(specifier)) throw new Error(`${specifier} refused`);
      this.journal.push(`${specifier} sync`);
    };
    return {
      name: specifier.replace(/^@test\//, ''),
      sync,
      update: (_previous, next) => sync(next),
      drift: async () => {
        this.journal.push(`${specifier} drift`);
        return this.drift.get(specifier) ?? '';
      },
      teardown: async () => {
        if (this.failTeardown.has(specifier)) {
          this.journal.push(`${specifier} teardown failed`);
          throw new Error(`${specifier} cannot tear down`);
        }
        this.journal.push(`${specifier} teardown`);
      },
    };
  }

  #dns(specifier: string): DnsBackend {
    return {
      name: specifier.replace(/^@test\//, ''),
      sync: async () => void this.journal.push(`${specifier} sync`),
      teardown: async () => void this.journal.push(`${specifier} teardown`),
      close: async () => void this.journal.push(`${specifier} close`),
    };
  }
}

function newStateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'router-service-switch-'));
  dirs.push(dir);
  return dir;
}

/** Records backends in the state directory, as an earlier daemon would have. */
function recordBackends(dir: string, backends: { firewall?: string; dns?: string }): void {
  const store = openSqliteStore(dir);
  if (backends.firewall !== undefined) store.setActiveBackend('firewall', backends.firewall);
  if (backends.dns !== undefined) store.setActiveBackend('dns', backends.dns);
  store.close();
}

function recordedBackends(dir: string): { firewall: string; dns: string } {
  const store = openSqliteStore(dir);
  try {
    return { firewall: store.activeBackend('firewall'), dns: store.activeBackend('dns') };
  } finally {
    store.close();
  }
}

function retiringFirewalls(dir: string): string[] {
  const store = openSqliteStore(dir);
  try {
    return store.retiringBackends('firewall');
  } finally {
    store.close();
  }
}

function configFor(dir: string, backends: { firewall: string; dns: string }): DaemonConfig {
  const result = parseConfig(['--state-dir', dir, '--parent', 'eth0', '--listen', `unix://${join(dir, 'router.sock')}`]);
  assert.equal(result.kind, 'run');
  return { ...result.config, firewall: backends.firewall, dns: { ...result.config.dns, backend: backends.dns }, conntrack: 'none' };
}

async function start(dir: string, backends: { firewall: string; dns: string }, plugins: FakePlugins, log: Logger = recordingLogger()) {
  const daemon = await startDaemon(configFor(dir, backends), log, { vlan: new FakeVlanBackend(), importModule: plugins.importModule });
  daemons.push(daemon);
  return daemon;
}

async function stop(daemon: RunningDaemon): Promise<void> {
  daemons.splice(daemons.indexOf(daemon), 1);
  await daemon.stop(1000);
}

describe('switching backends', () => {
  test('the recorded backend is torn down once, before the new one first syncs, which is then recorded', async () => {
    const dir = newStateDir();
    recordBackends(dir, { firewall: '@test/old-firewall', dns: '@test/old-dns' });
    const plugins = new FakePlugins();
    const backends = { firewall: '@test/new-firewall', dns: '@test/new-dns' };
    await stop(await start(dir, backends, plugins));
    assert.deepEqual(plugins.journal.slice(0, 4), [
      '@test/old-firewall teardown',
      '@test/old-dns teardown',
      '@test/new-firewall sync',
      '@test/new-dns sync',
    ]);
    assert.deepEqual(recordedBackends(dir), backends);
    await stop(await start(dir, backends, plugins));
    assert.deepEqual(plugins.calls('teardown'), ['@test/old-firewall teardown', '@test/old-dns teardown'], 'a restart tears nothing down again');
  });

  test('a crash between teardown and the first successful sync retries the teardown at the next start', async () => {
    const dir = newStateDir();
    recordBackends(dir, { firewall: '@test/old-firewall' });
    const plugins = new FakePlugins();
    const backends = { firewall: '@test/new-firewall', dns: 'none' };
    plugins.failSync.add('@test/new-firewall');
    // The first start serves although its first sync fails; it stops before any sync succeeds.
    await stop(await start(dir, backends, plugins));
    assert.deepEqual(plugins.journal, ['@test/old-firewall teardown']);
    assert.equal(recordedBackends(dir).firewall, '@test/old-firewall', 'recorded before the new backend ever synced');
    plugins.failSync.clear();
    await stop(await start(dir, backends, plugins));
    assert.deepEqual(plugins.journal.slice(0, 3), ['@test/old-firewall teardown', '@test/old-firewall teardown', '@test/new-firewall sync']);
    assert.equal(recordedBackends(dir).firewall, '@test/new-firewall');
  });

  test('a teardown that fails is tried again at every start until it succeeds, also after switching back to that backend', async () => {
    const dir = newStateDir();
    recordBackends(dir, { firewall: '@test/old-firewall' });
    const plugins = new FakePlugins();
    plugins.failTeardown.add('@test/old-firewall');
    const log = recordingLogger();
    const backends = { firewall: '@test/new-firewall', dns: 'none' };
    await stop(await start(dir, backends, plugins, log));
    assert.deepEqual(plugins.journal.slice(0, 2), ['@test/old-firewall teardown failed', '@test/new-firewall sync']);
    const error = log.lines.find((l) => l.level === 'error');
    assert.equal(error?.fields['previous'], '@test/old-firewall');
    assert.match(error?.message ?? '', /the next start tries again/);
    assert.equal(recordedBackends(dir).firewall, '@test/new-firewall');
    assert.deepEqual(retiringFirewalls(dir), ['@test/old-firewall']);

    plugins.journal.length = 0;
    await stop(await start(dir, backends, plugins));
    assert.deepEqual(plugins.calls('teardown failed'), ['@test/old-firewall teardown failed'], 'a restart with the new backend tries again');
    assert.deepEqual(retiringFirewalls(dir), ['@test/old-firewall']);

    // Back to the old backend, whose teardown still fails: the new one goes; the old one is the configured one again.
    plugins.journal.length = 0;
    await stop(await start(dir, { firewall: '@test/old-firewall', dns: 'none' }, plugins));
    assert.deepEqual(plugins.journal.slice(0, 2), ['@test/new-firewall teardown', '@test/old-firewall sync']);
    assert.equal(recordedBackends(dir).firewall, '@test/old-firewall');
    assert.deepEqual(retiringFirewalls(dir), []);

    plugins.journal.length = 0;
    plugins.failTeardown.clear();
    await stop(await start(dir, backends, plugins));
    await stop(await start(dir, backends, plugins));
    assert.deepEqual(plugins.calls('teardown'), ['@test/old-firewall teardown'], 'a teardown that succeeded is not tried again');
    assert.deepEqual(retiringFirewalls(dir), []);
  });

  test('switching to none tears down and records none at once', async () => {
    const dir = newStateDir();
    recordBackends(dir, { firewall: '@test/old-firewall', dns: 'none' });
    const plugins = new FakePlugins();
    await stop(await start(dir, { firewall: 'none', dns: 'none' }, plugins));
    assert.deepEqual(plugins.journal, ['@test/old-firewall teardown']);
    assert.deepEqual(recordedBackends(dir), { firewall: 'none', dns: 'none' });
  });

  test('nothing is torn down on a first start, when the backend is unchanged, or after none', async () => {
    const plugins = new FakePlugins();
    const fresh = newStateDir();
    await stop(await start(fresh, { firewall: '@test/new-firewall', dns: 'none' }, plugins));
    assert.deepEqual(recordedBackends(fresh), { firewall: '@test/new-firewall', dns: 'none' });
    const fromNone = newStateDir();
    recordBackends(fromNone, { firewall: 'none' });
    await stop(await start(fromNone, { firewall: '@test/new-firewall', dns: 'none' }, plugins));
    assert.deepEqual(plugins.calls('teardown'), []);
    assert.equal(recordedBackends(fromNone).firewall, '@test/new-firewall');
  });

  test('a previous backend that cannot be loaded is named in an error saying its objects stay; the start goes on', async () => {
    const dir = newStateDir();
    recordBackends(dir, { firewall: '@test/uninstalled' });
    const plugins = new FakePlugins();
    const log = recordingLogger();
    await stop(await start(dir, { firewall: '@test/new-firewall', dns: 'none' }, plugins, log));
    const error = log.lines.find((l) => l.level === 'error');
    assert.equal(error?.fields['previous'], '@test/uninstalled');
    assert.match(error?.message ?? '', /its objects stay in the kernel/);
    assert.deepEqual(plugins.journal.slice(0, 1), ['@test/new-firewall sync']);
    assert.equal(recordedBackends(dir).firewall, '@test/new-firewall');
  });
});

describe('stopping', () => {
  test('lets the DNS backend stop its resolvers after its last sync, on a first start and on a restart', async () => {
    const dir = newStateDir();
    const plugins = new FakePlugins();
    const backends = { firewall: 'none', dns: '@test/new-dns' };
    for (let round = 1; round <= 2; round++) {
      await stop(await start(dir, backends, plugins));
      assert.deepEqual(plugins.journal.slice(-2), ['@test/new-dns sync', '@test/new-dns close'], `round ${round}`);
    }
    assert.deepEqual(plugins.calls('close'), ['@test/new-dns close', '@test/new-dns close']);
  });
});

describe('GetHealth', () => {
  async function health(daemon: RunningDaemon, checkKernel = true): Promise<HealthResponse> {
    const client = createRouterClient(daemon.addresses[0] ?? assert.fail('no address'));
    try {
      return await rpc<HealthResponse>((done) => client.getHealth({ checkKernel }, done));
    } finally {
      client.close();
    }
  }

  test('reports the backends and a kernel in sync', async () => {
    const daemon = await start(newStateDir(), { firewall: '@test/new-firewall', dns: '@test/new-dns' }, new FakePlugins());
    const got = await health(daemon);
    assert.deepEqual(
      [got.healthy, got.status, got.firewallBackend, got.dnsBackend, got.kernelInSync, got.kernelDrift],
      [true, 'ok', 'new-firewall', 'new-dns', true, ''],
    );
  });

  test('without backends: none, and in sync', async () => {
    const daemon = await start(newStateDir(), { firewall: 'none', dns: 'none' }, new FakePlugins());
    const got = await health(daemon);
    assert.deepEqual([got.firewallBackend, got.dnsBackend, got.kernelInSync, got.kernelDrift], ['none', 'none', true, '']);
  });

  test('a drifted kernel is reported with what differs; healthy still says whether reconciling works', async () => {
    const plugins = new FakePlugins();
    plugins.drift.set('@test/new-firewall', 'table inet router_service missing');
    const daemon = await start(newStateDir(), { firewall: '@test/new-firewall', dns: 'none' }, plugins);
    const got = await health(daemon);
    assert.deepEqual([got.healthy, got.kernelChecked, got.kernelInSync, got.kernelDrift], [true, true, false, 'table inet router_service missing']);
  });

  test('without check_kernel (as the original clients call it) nothing is compared', async () => {
    const plugins = new FakePlugins();
    plugins.drift.set('@test/new-firewall', 'table inet router_service missing');
    const daemon = await start(newStateDir(), { firewall: '@test/new-firewall', dns: 'none' }, plugins);
    const got = await health(daemon, false);
    assert.deepEqual(
      [got.healthy, got.firewallBackend, got.kernelChecked, got.kernelInSync, got.kernelDrift],
      [true, 'new-firewall', false, false, ''],
    );
    assert.deepEqual(plugins.calls('drift'), []);
    await health(daemon);
    assert.deepEqual(plugins.calls('drift'), ['@test/new-firewall drift'], 'the same daemon compares when asked');
  });
});
