/**
 * The DnsBackend on dnsmasq: one supervised dnsmasq per DNS-enabled
 * network, listening on its gateway, its names in a directory of hosts
 * files that dnsmasq watches. A change of names rewrites the files of the
 * addresses it touches; dnsmasq is restarted only when its arguments
 * change.
 */
import { readdir, rm } from 'node:fs/promises';
import { SerialQueue, invalid, unavailable, type DnsBackend, type DnsNetworkState, type Logger } from '@router-service/core';
import { dnsmasqNetworkOf, type DnsmasqNetwork } from './desired.js';
import { HostsDirectory, ensureDir } from './hosts-dir.js';
import { dnsmasqRoot, networkPaths, vlanOfDirName, type NetworkPaths } from './paths.js';
import { endStaleDnsmasq } from './processes.js';
import { renderArgv, renderHostsFiles } from './render.js';
import { DnsmasqSupervisor, type BackoffPolicy, type Command } from './supervisor.js';
import { chooseUser, type UserChoice } from './user.js';
import { BACKEND_NAME } from './validate.js';

/** What the backend needs, all checked by createDnsmasqBackend. */
export interface DnsmasqBackendConfig {
  /** Absolute. */
  readonly stateDir: string;
  readonly dnsmasqPath: string;
  readonly upstreams: readonly string[] | null;
  readonly resolvConf: string;
  readonly netns: string | undefined;
  readonly ipPath: string;
  readonly log: Logger;
  readonly backoff: BackoffPolicy;
  /** How long a dnsmasq has to end after SIGTERM, ours or a stale one, before SIGKILL. */
  readonly stopGraceMs: number;
}

/** A network whose dnsmasq we started. */
interface Served {
  readonly supervisor: DnsmasqSupervisor;
  /** The command it was started with: another one means a restart. */
  readonly key: string;
}

export class DnsmasqBackend implements DnsBackend {
  readonly name = BACKEND_NAME;
  readonly #config: DnsmasqBackendConfig;
  readonly #root: string;
  readonly #queue = new SerialQueue();
  readonly #served = new Map<number, Served>();
  readonly #hostsDirs = new Map<number, HostsDirectory>();
  /** Whether the processes and directories a previous run left were dealt with. */
  #adopted = false;
  #user: UserChoice | undefined;
  #closed = false;

  constructor(config: DnsmasqBackendConfig) {
    this.#config = config;
    this.#root = dnsmasqRoot(config.stateDir);
  }

  sync(networks: readonly DnsNetworkState[]): Promise<void> {
    return this.#queue.run(() => this.#sync(networks));
  }

  teardown(): Promise<void> {
    return this.#queue.run(() => this.#teardown());
  }

  /** Stops supervising and ends the processes this instance started; the files stay for the next start. */
  close(): Promise<void> {
    return this.#queue.run(async () => {
      this.#closed = true;
      await this.#stopAll();
    });
  }

  /** The pid of the network's running dnsmasq, if one runs (for tests and diagnostics). */
  pidOf(vlan: number): number | undefined {
    return this.#served.get(vlan)?.supervisor.pid;
  }

  async #sync(states: readonly DnsNetworkState[]): Promise<void> {
    if (this.#closed) throw unavailable(`[${BACKEND_NAME}] the backend was closed`);
    // Every value is checked before anything is written or started.
    const desired = new Map<number, DnsmasqNetwork>();
    for (const state of states) {
      const network = dnsmasqNetworkOf(state);
      if (network === undefined) continue;
      if (desired.has(network.vlan)) throw invalid(`[${BACKEND_NAME}] VLAN ${network.vlan} is given twice`);
      desired.set(network.vlan, network);
    }
    await ensureDir(this.#root);
    if (!this.#adopted) {
      await this.#endPreviousRun(new Set(desired.keys()));
      this.#adopted = true;
    }
    const user = await this.#chooseUser();
    for (const [vlan, served] of this.#served) {
      if (desired.has(vlan)) continue;
      await served.supervisor.stop();
      this.#served.delete(vlan);
      this.#hostsDirs.delete(vlan);
      await rm(networkPaths(this.#root, vlan).dir, { recursive: true, force: true });
      this.#config.log.info({ backend: BACKEND_NAME, vlan }, 'dnsmasq stopped and its files removed');
    }
    const results = await Promise.allSettled([...desired.values()].map((network) => this.#converge(network, user)));
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (failures.length > 0) {
      const messages = failures.map((f) => (f instanceof Error ? f.message : String(f)));
      throw unavailable(`[${BACKEND_NAME}] ${messages.join('; ')}`, failures[0]);
    }
  }

  /** Brings one network's hosts files and dnsmasq to what `network` asks for. */
  async #converge(network: DnsmasqNetwork, user: UserChoice): Promise<void> {
    const paths = networkPaths(this.#root, network.vlan);
    let hostsDir = this.#hostsDirs.get(network.vlan);
    if (hostsDir === undefined) {
      hostsDir = new HostsDirectory(paths);
      this.#hostsDirs.set(network.vlan, hostsDir);
    }
    // A hosts directory removed behind dnsmasq's back is no longer the one it
    // watches: recreated, it needs a new dnsmasq.
    const { created: recreated, written, removed } = await hostsDir.converge(renderHostsFiles(network));
    if (written + removed > 0) this.#config.log.debug({ backend: BACKEND_NAME, vlan: network.vlan, written, removed }, 'hosts files changed');
    const command = this.#command(renderArgv(network, { paths, upstreams: this.#config.upstreams, resolvConf: this.#config.resolvConf, user: user.user }));
    const key = JSON.stringify(command);
    const served = this.#served.get(network.vlan);
    if (served !== undefined && served.key === key && !recreated) return;
    if (served !== undefined) {
      this.#config.log.info({ backend: BACKEND_NAME, vlan: network.vlan, why: recreated ? 'hosts directory recreated' : 'arguments changed' }, 'restarting dnsmasq');
      await served.supervisor.stop();
    }
    await this.#start(network.vlan, paths, command, key);
  }

  async #start(vlan: number, paths: NetworkPaths, command: Command, key: string): Promise<void> {
    const { log, backoff, stopGraceMs } = this.#config;
    const supervisor = new DnsmasqSupervisor({ vlan, command, pidFile: paths.pidFile, log, backoff, stopGraceMs });
    this.#served.set(vlan, { supervisor, key });
    try {
      await supervisor.start();
    } catch (error) {
      throw new Error(`VLAN ${vlan}: dnsmasq did not start (retrying): ${error instanceof Error ? error.message : String(error)}`);
    }
    log.info({ backend: BACKEND_NAME, vlan, pid: supervisor.pid }, 'dnsmasq started');
  }

  #command(args: readonly string[]): Command {
    const { netns, dnsmasqPath, ipPath } = this.#config;
    // ip execs dnsmasq in the namespace, so the pid is still dnsmasq's.
    return netns === undefined ? { file: dnsmasqPath, args } : { file: ipPath, args: ['netns', 'exec', netns, dnsmasqPath, ...args] };
  }

  async #chooseUser(): Promise<UserChoice> {
    if (this.#user === undefined) {
      this.#user = await chooseUser(this.#root);
      if (this.#user.reason !== undefined) this.#config.log.info({ backend: BACKEND_NAME, reason: this.#user.reason }, 'dnsmasq runs as root');
    }
    return this.#user;
  }

  /**
   * Ends the dnsmasq processes a previous run left, found by their pid files
   * and recognised by their command lines, and removes the directories of
   * networks not in `keep`.
   */
  async #endPreviousRun(keep: ReadonlySet<number>): Promise<void> {
    let entries: string[];
    try {
      entries = await readdir(this.#root);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries) {
      const vlan = vlanOfDirName(entry);
      if (vlan === undefined || this.#served.has(vlan)) continue;
      const paths = networkPaths(this.#root, vlan);
      const stale = await endStaleDnsmasq({ dnsmasqPath: this.#config.dnsmasqPath, pidFile: paths.pidFile, hostsDir: paths.hostsDir }, this.#config.stopGraceMs);
      const fields = { backend: BACKEND_NAME, vlan, pid: stale.pid, pidFile: paths.pidFile };
      if (stale.outcome === 'foreign') this.#config.log.warn(fields, 'the pid file names a process that is not our dnsmasq: left alone');
      if (stale.outcome === 'terminated' || stale.outcome === 'killed') this.#config.log.info({ ...fields, how: stale.outcome }, 'ended the dnsmasq of a previous run');
      await rm(paths.pidFile, { force: true });
      if (!keep.has(vlan)) {
        this.#hostsDirs.delete(vlan);
        await rm(paths.dir, { recursive: true, force: true });
      }
    }
  }

  async #stopAll(): Promise<void> {
    await Promise.all([...this.#served.values()].map((served) => served.supervisor.stop()));
    this.#served.clear();
  }

  async #teardown(): Promise<void> {
    await this.#stopAll();
    await this.#endPreviousRun(new Set());
    await rm(this.#root, { recursive: true, force: true });
    this.#hostsDirs.clear();
    this.#adopted = true;
    this.#config.log.info({ backend: BACKEND_NAME, dir: this.#root }, 'every dnsmasq stopped and its files removed');
  }
}
