/**
 * The router-service daemon as a DnsSubject: the real daemon process in the
 * router namespace (bench/firewall's daemon program: config file, SQLite
 * store, gRPC, firewall and DNS plugins, the network's link a prewired
 * veth), its DNS the built-in dnsmasq backend forwarding to the bench's
 * fake upstream. Every name is a ConfigureDNS call.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GATEWAY, SUBNET, UPLINK, VLAN } from '@router-service/bench-firewall/topology';
import { dnsmasqRoot, networkPaths } from '@router-service/dns-dnsmasq';
import { Daemon } from '@router-service/integration-tests/daemon';
import { connectRouter, type RouterClient } from '@router-service/integration-tests/router-client';
import type { Netns } from '@router-service/test-support';
import { DOMAIN, type NameRecord } from './names.js';
import type { DnsSubject } from './subject.js';

/** router-service with its network link prewired, as bench/firewall runs it. */
const DAEMON_PROGRAM = fileURLToPath(import.meta.resolve('@router-service/bench-firewall/daemon-program'));
/** A deadline only guards against a hung daemon. */
const CALL_TIMEOUT_MS = 5 * 60_000;

function check(outcome: { success: boolean; error: string }, what: string): void {
  if (!outcome.success) throw new Error(`${what}: ${outcome.error}`);
}

function hostsOf(records: readonly NameRecord[]): Record<string, string> {
  return Object.fromEntries(records.map((r) => [r.name, r.address]));
}

export class DaemonDns implements DnsSubject {
  readonly name = 'router-service';
  readonly #daemon: Daemon;
  readonly #stateDir: string;
  readonly #client: RouterClient;

  private constructor(daemon: Daemon, stateDir: string) {
    this.#daemon = daemon;
    this.#stateDir = stateDir;
    this.#client = connectRouter(daemon.socketPath, CALL_TIMEOUT_MS);
  }

  /**
   * Starts the daemon in `router` with the dnsmasq DNS backend (its default)
   * forwarding to `upstream` (ADDRESS#PORT), and creates the bench's network.
   * DNS starts with the first ConfigureDNS, in `preload`.
   */
  static async start(router: Netns, dnsmasq: string, upstream: string): Promise<DaemonDns> {
    const stateDir = await mkdtemp(join(tmpdir(), 'router-service-bench-dns-'));
    const configPath = join(stateDir, 'config.json');
    await writeFile(configPath, JSON.stringify({ dns: { backend: 'dnsmasq', upstreams: [upstream], dnsmasq } }));
    let daemon: Daemon | undefined;
    try {
      const flags = ['--parent', UPLINK, '--config', configPath, '--resync-interval', '30s'];
      daemon = await Daemon.start(router, stateDir, flags, { file: process.execPath, args: [DAEMON_PROGRAM] });
      const subject = new DaemonDns(daemon, stateDir);
      check(await subject.#client.call('CreateVLAN', { vlan_id: VLAN, subnet: SUBNET, gateway: GATEWAY, network_name: 'bench' }), `CreateVLAN ${VLAN}`);
      return subject;
    } catch (error) {
      await daemon?.dispose();
      await rm(stateDir, { recursive: true, force: true });
      throw error;
    }
  }

  async preload(records: readonly NameRecord[]): Promise<void> {
    await this.#configure(records, `ConfigureDNS with ${records.length} names`);
  }

  async add(record: NameRecord): Promise<void> {
    await this.#configure([record], `ConfigureDNS ${record.name}`);
  }

  async remove(records: readonly NameRecord[]): Promise<void> {
    check(await this.#client.call('RemoveDNSHosts', { vlan_id: VLAN, names: records.map((r) => r.name) }), `RemoveDNSHosts ${records.length} names`);
  }

  async resolverPid(): Promise<number> {
    const pidFile = networkPaths(dnsmasqRoot(this.#stateDir), VLAN).pidFile;
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    if (!Number.isSafeInteger(pid) || pid <= 0) throw new Error(`${pidFile} holds no pid`);
    return pid;
  }

  async close(): Promise<void> {
    this.#client.close();
    try {
      await this.#daemon.stop();
    } finally {
      await this.#daemon.dispose();
      await rm(this.#stateDir, { recursive: true, force: true });
    }
  }

  /** Names are added to the network's; the domain goes with every call, as a client sends it. */
  async #configure(records: readonly NameRecord[], what: string): Promise<void> {
    check(await this.#client.call('ConfigureDNS', { vlan_id: VLAN, domain: DOMAIN, hosts: hostsOf(records) }), what);
  }
}
