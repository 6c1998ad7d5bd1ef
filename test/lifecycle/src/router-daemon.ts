/**
 * router-service as these tests run it: the built main.js under the hooks
 * that give it veth links (register-veth-links.ts), configured by a file
 * naming the firewall backend, with its state in a directory that outlives
 * each process.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { routerService, type Program } from '@router-service/integration-tests/artifacts';
import { Daemon } from '@router-service/integration-tests/daemon';
import type { RouterMethods } from '@router-service/integration-tests/router-client';
import type { Netns } from '@router-service/test-support';

export type FirewallName = 'nft' | 'iptables';

/** The parent interface of every test network (createRouterNs and the firewall suite's topology both have it). */
export const PARENT = 'eth0';

/** How long a started daemon may take to report itself healthy. */
const HEALTHY_TIMEOUT_MS = 20_000;

/** GetHealth's answer. */
export type Health = RouterMethods['GetHealth'][1];

/** router-service's main.js, run by this node with the veth-link hooks loaded first. */
export function routerServiceWithVethLinks(): Program {
  const built = routerService();
  const main = built.args.at(-1);
  if (built.file !== process.execPath || main === undefined) {
    throw new Error(`${built.file} is not a script this node can run: the veth-link hooks need router-service's main.js`);
  }
  const hooks = fileURLToPath(new URL('./register-veth-links.js', import.meta.url));
  return { file: process.execPath, args: ['--import', hooks, main] };
}

/** A throwaway directory holding the daemon's state directory and a config file per backend. */
export class RouterHome {
  readonly root: string;
  readonly stateDir: string;

  private constructor(root: string) {
    this.root = root;
    this.stateDir = join(root, 'state');
  }

  static async create(): Promise<RouterHome> {
    return new RouterHome(await mkdtemp(join(tmpdir(), 'router-service-lifecycle-')));
  }

  /** Writes (again) the config file that selects `firewall`, and returns its path. */
  async configFile(firewall: FirewallName): Promise<string> {
    const path = join(this.root, `${firewall}.json`);
    await writeFile(path, JSON.stringify({ firewall }));
    return path;
  }

  async remove(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}

export interface StartOptions {
  readonly firewall: FirewallName;
  /** --resync-interval, e.g. "300ms" or "1h". */
  readonly resyncInterval: string;
}

/** Starts the daemon in ns on home's state and waits until it answers (healthy or not). */
export async function startRouter(ns: Netns, home: RouterHome, options: StartOptions): Promise<Daemon> {
  const extra = ['--parent', PARENT, '--config', await home.configFile(options.firewall), '--resync-interval', options.resyncInterval];
  return Daemon.start(ns, home.stateDir, extra, routerServiceWithVethLinks());
}

/** Waits until GetHealth says healthy; fails with the last answer (or error) and the daemon's log after a bounded wait. */
export async function waitHealthy(daemon: Daemon): Promise<Health> {
  const deadline = Date.now() + HEALTHY_TIMEOUT_MS;
  let last: string;
  do {
    try {
      const health: Health = await daemon.client.call('GetHealth', {});
      if (health.healthy) return health;
      last = JSON.stringify(health);
    } catch (error) {
      last = String(error);
    }
    await sleep(100);
  } while (Date.now() < deadline);
  throw new Error(`router-service not healthy within ${HEALTHY_TIMEOUT_MS} ms; last GetHealth: ${last}\nits log:\n${daemon.output}`);
}

/** Starts the daemon and waits until it is healthy; a daemon that does not get there is killed. */
export async function startHealthy(ns: Netns, home: RouterHome, options: StartOptions): Promise<Daemon> {
  const daemon = await startRouter(ns, home, options);
  try {
    await waitHealthy(daemon);
    return daemon;
  } catch (error) {
    await daemon.dispose();
    throw error;
  }
}

/** Stops the daemon with SIGTERM; it must exit 0. */
export async function stopCleanly(daemon: Daemon): Promise<void> {
  const exit = await daemon.stop();
  await daemon.dispose();
  if (exit.code !== 0) throw new Error(`router-service exited ${exit.code ?? exit.signal} on SIGTERM:\n${daemon.output}`);
}

/**
 * Runs body; a failure gets the logs of the daemons it started appended
 * (that is where the reason usually is), and every one of them is killed
 * afterwards whatever happened.
 */
export async function withDaemonLogs(daemons: readonly Daemon[], body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    if (error instanceof Error) error.message += daemons.map((d, i) => `\nlog of daemon ${i + 1}:\n${d.output}`).join('');
    throw error;
  } finally {
    for (const daemon of daemons) await daemon.dispose();
  }
}
