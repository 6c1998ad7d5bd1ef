/** A Router on fake backends and a store in a temporary directory, as the router tests drive it. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionTracker, DnsBackend, FirewallBackend } from '../src/backends.js';
import type { Logger } from '../src/logger.js';
import type { Network } from '../src/model.js';
import { Router, type CreateNetworkRequest } from '../src/router.js';
import { openSqliteStore } from '../src/sqlite-store.js';
import type { Store } from '../src/store.js';
import { FakeVlanBackend } from './fake-vlan-backend.js';
import { testUplink } from './helpers.js';

export interface LogLine {
  level: string;
  fields: Record<string, unknown>;
  message: string;
}

/** A logger that keeps every line, for tests that check what was logged. */
export function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const record = (level: string) => (fields: Record<string, unknown>, message: string) =>
    void lines.push({ level, fields, message });
  return { lines, debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
}

export interface Harness {
  router: Router;
  vlan: FakeVlanBackend;
  store: Store;
  stateDir: string;
  log: ReturnType<typeof recordingLogger>;
  /** The networks as stored on disk. */
  storedNetworks(): Network[];
  /** Closes the router and the store, as a stopping service does. */
  stop(): Promise<void>;
}

export interface HarnessOptions {
  stateDir?: string;
  vlan?: FakeVlanBackend;
  firewall?: FirewallBackend;
  dns?: DnsBackend;
  connectionTracker?: ConnectionTracker;
  parent?: string;
  clock?: () => number;
}

const stateDirs: string[] = [];

/** Removes every state directory the harnesses created; call from `after`. */
export function removeStateDirs(): void {
  for (const dir of stateDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function newStateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'router-core-router-'));
  stateDirs.push(dir);
  return dir;
}

export async function newHarness(options: HarnessOptions = {}): Promise<Harness> {
  const stateDir = options.stateDir ?? newStateDir();
  const vlan = options.vlan ?? new FakeVlanBackend(testUplink);
  const store = openSqliteStore(stateDir);
  const log = recordingLogger();
  const router = await Router.open({
    store,
    vlan,
    firewall: options.firewall,
    dns: options.dns,
    connectionTracker: options.connectionTracker,
    parent: options.parent,
    log,
    clock: options.clock,
  });
  let stopped = false;
  return {
    router,
    vlan,
    store,
    stateDir,
    log,
    storedNetworks: () => store.load().networks,
    async stop() {
      if (stopped) return;
      stopped = true;
      await router.close();
      store.close();
    },
  };
}

export function create(vlan: number, subnet: string, fields: Partial<CreateNetworkRequest> = {}): CreateNetworkRequest {
  return { vlan, subnet, gateway: '', name: '', mtu: 0, internal: false, ...fields };
}
