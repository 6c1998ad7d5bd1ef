/**
 * The router-service daemon as a Publisher: the real daemon process in the
 * router namespace (through the integration tests' Daemon), its firewall
 * backend chosen by its config file, every mapping an AddPortMapping or
 * RemovePortMapping over gRPC.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Daemon } from '@router-service/integration-tests/daemon';
import { connectRouter, type RouterClient } from '@router-service/integration-tests/router-client';
import type { Netns } from '@router-service/test-support';
import type { BackendName } from './options.js';
import type { PublishedPorts, Publisher } from './publisher.js';
import { CONTAINER_IP, GATEWAY, SUBNET, UPLINK, VLAN } from './topology.js';

const DAEMON_PROGRAM = fileURLToPath(new URL('./daemon-program.js', import.meta.url));
/** Calls queue behind each other in the daemon: a deadline only guards against a hung daemon. */
const CALL_TIMEOUT_MS = 30 * 60_000;
/** A VLAN id the benchmark never creates. */
const ABSENT_VLAN = 4094;
/** Calls in flight while preloading. */
const PRELOAD_CONCURRENCY = 64;

function check(outcome: { success: boolean; error: string }, what: string): void {
  if (!outcome.success) throw new Error(`${what}: ${outcome.error}`);
}

export class DaemonPublisher implements Publisher {
  readonly name: string;
  readonly #daemon: Daemon;
  readonly #stateDir: string;
  readonly #client: RouterClient;

  private constructor(name: string, daemon: Daemon, stateDir: string) {
    this.name = name;
    this.#daemon = daemon;
    this.#stateDir = stateDir;
    this.#client = connectRouter(daemon.socketPath, CALL_TIMEOUT_MS);
  }

  /**
   * Starts the daemon in the router namespace with `backend` and creates the
   * bench's network through CreateVLAN. The daemon resyncs every 30 s, its
   * default.
   */
  static async start(router: Netns, backend: BackendName): Promise<DaemonPublisher> {
    const stateDir = await mkdtemp(join(tmpdir(), 'router-service-bench-'));
    const configPath = join(stateDir, 'config.json');
    await writeFile(configPath, JSON.stringify({ firewall: backend }));
    let daemon: Daemon | undefined;
    try {
      const flags = ['--parent', UPLINK, '--config', configPath, '--resync-interval', '30s'];
      daemon = await Daemon.start(router, stateDir, flags, { file: process.execPath, args: [DAEMON_PROGRAM] });
      const publisher = new DaemonPublisher(`router-service, ${backend}`, daemon, stateDir);
      check(
        await publisher.#client.call('CreateVLAN', { vlan_id: VLAN, subnet: SUBNET, gateway: GATEWAY, network_name: 'bench' }),
        `CreateVLAN ${VLAN}`,
      );
      return publisher;
    } catch (error) {
      await daemon?.dispose();
      await rm(stateDir, { recursive: true, force: true });
      throw error;
    }
  }

  async add(ports: PublishedPorts, client: RouterClient = this.#client): Promise<void> {
    const request = {
      container_ip: CONTAINER_IP,
      container_port: ports.containerPort,
      host_port: ports.hostPort,
      host_port_end: ports.hostPortEnd,
      protocol: 'tcp',
      vlan_id: VLAN,
    };
    check(await client.call('AddPortMapping', request), `AddPortMapping ${ports.hostPort}`);
  }

  async remove(ports: PublishedPorts, client: RouterClient = this.#client): Promise<void> {
    check(await client.call('RemovePortMapping', { host_port: ports.hostPort, protocol: 'tcp' }), `RemovePortMapping ${ports.hostPort}`);
  }

  /** `clients` separate gRPC clients, each calling as soon as its previous call returned. */
  async addConcurrently(mappings: readonly PublishedPorts[], clients: number): Promise<void> {
    await this.#concurrently(mappings, clients, (ports, client) => this.add(ports, client));
  }

  /**
   * ListVLANs of a VLAN that does not exist: the call goes through gRPC and
   * the daemon's queue like AddPortMapping, and finds nothing to read in
   * the store or the kernel.
   */
  async noWorkConcurrently(count: number, clients: number): Promise<void> {
    const calls = Array.from({ length: count }, () => undefined);
    await this.#concurrently(calls, clients, async (_, client) => {
      const { vlans, error } = await client.call('ListVLANs', { vlan_id: ABSENT_VLAN });
      if (error !== '' || vlans.length > 0) throw new Error(`ListVLANs ${ABSENT_VLAN}: ${error || `${vlans.length} networks`}`);
    });
  }

  async addMany(mappings: readonly PublishedPorts[]): Promise<void> {
    await this.#concurrently(mappings, PRELOAD_CONCURRENCY, (ports, client) => this.add(ports, client));
  }

  async removeMany(mappings: readonly PublishedPorts[]): Promise<void> {
    await this.#concurrently(mappings, PRELOAD_CONCURRENCY, (ports, client) => this.remove(ports, client));
  }

  async rangeProblem(ports: PublishedPorts): Promise<string | undefined> {
    let state;
    try {
      state = await this.#client.call('GetState', { vlan_id: VLAN });
    } catch (error) {
      return `GetState failed after adding the range: ${error instanceof Error ? error.message : String(error)}`;
    }
    const stored = state.port_mappings.find((m) => m.host_port === ports.hostPort);
    if (stored === undefined) return `GetState lists no mapping on port ${ports.hostPort}`;
    if (stored.host_port_end !== ports.hostPortEnd) {
      return `the daemon stored host_port_end ${stored.host_port_end} for a request of ${ports.hostPort}-${ports.hostPortEnd}: it does not support port ranges yet`;
    }
    return undefined;
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

  /** Runs `call` for each of `items` from `clients` workers, each with its own client. */
  async #concurrently<T>(items: readonly T[], clients: number, call: (item: T, client: RouterClient) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      const client = connectRouter(this.#daemon.socketPath, CALL_TIMEOUT_MS);
      try {
        while (next < items.length) await call(items[next++] as T, client);
      } finally {
        client.close();
      }
    };
    await Promise.all(Array.from({ length: Math.min(clients, items.length) }, worker));
  }
}
