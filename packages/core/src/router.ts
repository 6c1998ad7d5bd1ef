/**
 * The Router is what the gRPC server and other tools call: each mutation
 * validates its request, persists the desired state, then has the
 * reconciler converge the kernel. One serial queue orders every mutation,
 * read and resync, so that a resync never acts on a stale snapshot.
 *
 * A request invalid on its own is rejected before the queue, whatever the
 * state. Every call reports failures by rejecting, never by throwing. A change the kernel refuses is rolled back in the store and the
 * kernel, so that a failed call leaves nothing half done.
 *
 * Port mutations that wait while another is applied take one turn
 * together: one store transaction and one kernel change for many callers,
 * each of whom still gets their own outcome.
 */
import type { ConnectionTracker, DnsBackend, FirewallBackend, LinkStatus, VlanBackend } from './backends.js';
import { RouterError, errorKind, errorMessage, notFound, precondition, unavailable } from './errors.js';
import { contains, formatAddress, mustParseIPv4Prefix, type ParsedAddress } from './ipv4.js';
import { silentLogger, type Logger } from './logger.js';
import type { DesiredState, Network, PortMapping } from './model.js';
import { withDns, withoutDnsHosts, validateDnsNames, validateDnsRequest, type DnsRequest } from './dns.js';
import { parseNatSource, withNat, withoutNat } from './nat.js';
import {
  checkAttachmentsFit,
  checkNetworkOnUplink,
  checkOverlap,
  natEnabled,
  networksEqual,
  parseNetworkSpec,
  specsEqual,
  validateVlanId,
  type NetworkRequest,
} from './network.js';
import { PortTable } from './port-table.js';
import {
  checkPortConflict,
  describePortMapping,
  findPortRemoval,
  formatPortKey,
  parsePortRemoval,
  parsePortRequest,
  placePortMapping,
  portTarget,
  type PortDraft,
  type PortRemoval,
  type PortRemovalRequest,
  type PortRequest,
} from './ports.js';
import { Reconciler } from './reconciler.js';
import { ResyncLoop } from './resync-loop.js';
import { SerialQueue } from './serial-queue.js';
import type { Store, StoreTransaction } from './store.js';
import { resolveParent } from './parent.js';
import {
  networkView,
  type HealthView,
  type NetworkStateView,
  type NetworkView,
  type StateView,
  type StatusOptions,
  type StatusView,
} from './views.js';

export interface RouterOptions {
  store: Store;
  vlan: VlanBackend;
  firewall?: FirewallBackend | undefined;
  dns?: DnsBackend | undefined;
  /** Ends the tracked flows of removed port mappings and networks; without one they live until they time out. */
  connectionTracker?: ConnectionTracker | undefined;
  /** '' or absent: the parent recorded in the store, else the interface of the default route. */
  parent?: string | undefined;
  log?: Logger | undefined;
  /** Milliseconds, for the uptime. */
  clock?: (() => number) | undefined;
}

export type CreateNetworkRequest = NetworkRequest;

export interface ConfigureDnsRequest extends DnsRequest {
  vlan: number;
}

export type AddPortMappingRequest = PortRequest;

export type RemovePortMappingRequest = PortRemovalRequest;

/** A port mutation checked on its own, waiting for its turn. */
type PortOp = { kind: 'add'; draft: PortDraft; vlan: number } | { kind: 'remove'; removal: PortRemoval };

/** A caller waiting for the outcome of its port mutation. */
interface PortCall {
  op: PortOp;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** What a port mutation changes: one mapping published or unpublished. */
interface PortChange {
  kind: 'add' | 'remove';
  mapping: PortMapping;
}

function invertPortChange(c: PortChange): PortChange {
  return { kind: c.kind === 'add' ? 'remove' : 'add', mapping: c.mapping };
}

function storePortChange(tx: StoreTransaction, c: PortChange): void {
  if (c.kind === 'add') tx.putPortMapping(c.mapping);
  else tx.deletePortMapping(c.mapping);
}

/** A step that threw, kept to be thrown once the others have settled. */
interface Failure {
  readonly err: unknown;
}

/** Resolves after the current turn of the event loop, once pending I/O callbacks and microtasks have run. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Settles a waiting call as outcome settles. */
async function settle(call: PortCall, outcome: Promise<void>): Promise<void> {
  try {
    await outcome;
    call.resolve();
  } catch (err) {
    call.reject(err);
  }
}

export class Router {
  /** The parent interface the VLAN links live on. */
  readonly parent: string;
  readonly #store: Store;
  readonly #reconciler: Reconciler;
  readonly #log: Logger;
  readonly #clock: () => number;
  readonly #startedAt: number;
  readonly #queue = new SerialQueue();
  readonly #loop: ResyncLoop;
  readonly #networks: Map<number, Network>;
  readonly #ports: PortTable;
  readonly #unsubscribe: () => void;
  /** The retired subnets the store holds (see Store.retiredSubnets). */
  readonly #retiredSubnets: Set<string>;
  /** The port calls of the batch at the tail of the queue, which later port calls join; undefined once anything is queued after it. */
  #openPortBatch: PortCall[] | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  private constructor(options: RouterOptions, parent: string, state: DesiredState & { retiredSubnets: string[] }, log: Logger) {
    this.parent = parent;
    this.#store = options.store;
    this.#log = log;
    this.#clock = options.clock ?? Date.now;
    this.#startedAt = this.#clock();
    this.#reconciler = new Reconciler({
      vlan: options.vlan,
      firewall: options.firewall,
      dns: options.dns,
      connectionTracker: options.connectionTracker,
      parent,
      retiredSubnets: state.retiredSubnets,
      log,
    });
    this.#retiredSubnets = new Set(state.retiredSubnets);
    this.#networks = new Map(state.networks.map((n) => [n.vlan, n]));
    this.#ports = new PortTable(state.portMappings);
    this.#loop = new ResyncLoop({ sync: () => this.resync(), log });
    // Any failure, of a call or of a resync, asks for a full resync.
    this.#unsubscribe = this.#reconciler.onFailure(() => this.#loop.kick());
  }

  /** Loads the desired state and resolves (and records) the parent. Changes nothing in the kernel. */
  static async open(options: RouterOptions): Promise<Router> {
    const log = options.log ?? silentLogger;
    const state = { ...options.store.load(), retiredSubnets: options.store.retiredSubnets() };
    const parent = await resolveParent(options, log);
    return new Router(options, parent, state, log);
  }

  /** Converges the kernel to the whole desired state; rejects on failure, which health records. */
  resync(): Promise<void> {
    return this.#serially(async () => {
      try {
        await this.#reconciler.sync(this.#state());
      } catch (err) {
        this.#log.warn({ err: errorMessage(err) }, 'reconcile failed');
        throw err;
      }
      this.#settleRetiredSubnets();
    });
  }

  /** Resyncs every intervalMs, at once after any failure, sooner while resyncs fail. */
  startResyncLoop(intervalMs: number): void {
    this.#loop.start(intervalMs);
  }

  /**
   * Stops the resync loop, waits for work in flight, then lets the
   * firewall and DNS backends stop their processes (their close()). Calling
   * it again waits for the same close. The store stays open: its owner closes it.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      this.#unsubscribe();
      await this.#loop.stop();
      await this.#queue.drain();
      await this.#reconciler.close();
    })();
    return this.#closing;
  }

  async createNetwork(req: CreateNetworkRequest): Promise<{ interfaceName: string; macAddress: string }> {
    const spec = parseNetworkSpec(req);
    return this.#serially(async () => {
      let uplink;
      try {
        uplink = await this.#reconciler.uplink();
      } catch (err) {
        throw new RouterError(errorKind(err), `reading parent interface: ${errorMessage(err)}`, { cause: err });
      }
      checkNetworkOnUplink(spec, uplink);
      checkOverlap(spec, this.#networks.values());
      const prev = this.#networks.get(spec.vlan);
      let next: Network = { ...spec, natSources: [], dns: null };
      if (prev !== undefined) {
        if (!specsEqual(prev, spec)) checkAttachmentsFit(prev, spec, this.#networkPorts(spec.vlan));
        next = { ...spec, natSources: prev.natSources, dns: prev.dns };
      }
      const changed = prev === undefined || !networksEqual(prev, next);
      if (changed) {
        const retired = prev !== undefined && prev.subnet !== next.subnet ? this.#retiring([prev]) : [];
        this.#store.update((tx) => {
          tx.putNetwork(next);
          for (const subnet of retired) tx.putRetiredSubnet(subnet);
        });
        this.#networks.set(spec.vlan, next);
        this.#retire(retired);
      }
      let link;
      try {
        link = await this.#reconciler.ensureNetwork(next);
        if (changed) {
          try {
            await this.#applyAttachments();
          } catch (err) {
            throw withContext(err, `configuring VLAN ${spec.vlan} (${spec.subnet})`);
          }
        }
      } catch (err) {
        await this.#rollbackNetwork(spec.vlan, prev);
        throw err;
      }
      if (changed) {
        this.#log.info(
          {
            vlan: spec.vlan,
            interface: link.name,
            subnet: spec.subnet,
            gateway: spec.gateway,
            mtu: link.mtu,
            nat: spec.nat,
            internal: spec.internal,
          },
          'network configured',
        );
      }
      return { interfaceName: link.name, macAddress: link.mac };
    });
  }

  /**
   * Deletes a network with its port mappings and DNS. Once the deletion is
   * committed the call succeeds: a link that cannot be removed now is
   * undesired and ours, so the resync its failure kicks removes it.
   */
  async deleteNetwork(vlan: number): Promise<void> {
    validateVlanId(vlan);
    return this.#serially(async () => {
      const network = this.#networks.get(vlan);
      const existed = network !== undefined;
      const ports = this.#networkPorts(vlan);
      if (!existed && ports.length === 0) return;
      const retired = this.#retiring(existed ? [network] : []);
      this.#store.update((tx) => {
        for (const m of ports) tx.deletePortMapping(m);
        tx.deleteNetwork(vlan);
        for (const subnet of retired) tx.putRetiredSubnet(subnet);
      });
      this.#networks.delete(vlan);
      this.#retire(retired);
      for (const m of ports) this.#ports.delete(m);
      this.#log.info({ vlan, portMappingsRemoved: ports.length }, 'network deleted');
      // Teardown in reverse order of setup: what uses the link goes first.
      try {
        await this.#applyAttachments();
      } catch (err) {
        this.#log.warn({ vlan, err: errorMessage(err) }, 'removing the network from firewall and DNS failed; resync retries');
      }
      if (!existed) return;
      try {
        await this.#reconciler.removeNetwork(vlan);
      } catch (err) {
        this.#log.warn({ vlan, err: errorMessage(err) }, 'removing the link failed; resync retries');
      }
    });
  }

  async configureNat(vlan: number, sourceSubnet: string): Promise<void> {
    const source = parseNatSource(sourceSubnet);
    return this.#updateNetwork(vlan, true, { doing: 'configuring NAT', done: 'NAT configured' }, (n) => {
      if (n.internal) {
        throw precondition(`VLAN ${n.vlan} is internal: it has no route to the outside to masquerade onto`);
      }
      return withNat(n, source);
    });
  }

  async removeNat(vlan: number, sourceSubnet: string): Promise<void> {
    const source = parseNatSource(sourceSubnet);
    return this.#updateNetwork(vlan, false, { doing: 'removing NAT', done: 'NAT removed' }, (n) => withoutNat(n, source));
  }

  async configureDns(req: ConfigureDnsRequest): Promise<void> {
    validateVlanId(req.vlan);
    validateDnsRequest(req);
    return this.#updateNetwork(req.vlan, true, { doing: 'configuring DNS', done: 'DNS configured' }, (n) => withDns(n, req));
  }

  async removeDnsHosts(vlan: number, names: readonly string[]): Promise<void> {
    validateDnsNames(names);
    return this.#updateNetwork(vlan, false, { doing: 'removing DNS names', done: 'DNS names removed' }, (n) => withoutDnsHosts(n, names));
  }

  /**
   * Publishes host ports, one or a range, to a container. An identical
   * repeat succeeds and changes nothing; overlapping another mapping is
   * AlreadyExists.
   */
  async addPortMapping(req: AddPortMappingRequest): Promise<void> {
    if (req.vlan !== 0) validateVlanId(req.vlan);
    const draft = parsePortRequest(req);
    return this.#portCall({ kind: 'add', draft, vlan: req.vlan });
  }

  /** Unpublishes the mapping that starts at the request's host port; absent is success. */
  async removePortMapping(req: RemovePortMappingRequest): Promise<void> {
    const removal = parsePortRemoval(req);
    return this.#portCall({ kind: 'remove', removal });
  }

  /** The networks, merged with their live links; 0 lists all, an unknown id none. */
  async listNetworks(vlan: number): Promise<NetworkView[]> {
    if (vlan !== 0) validateVlanId(vlan);
    return this.#serially(async () => {
      const networks = this.#selectNetworks(vlan);
      const links = await this.#liveLinks(networks);
      return networks.map((n) => networkView(n, this.#reconciler.interfaceName(n.vlan), links.get(n.vlan)));
    });
  }

  /** The whole desired state of one network (0: all) with its live links. */
  async getState(vlan: number): Promise<StateView> {
    if (vlan !== 0) validateVlanId(vlan);
    return this.#serially(async () => {
      const selected = this.#selectNetworks(vlan);
      const links = await this.#liveLinks(selected);
      const networks: NetworkStateView[] = selected.map((n) => ({
        network: networkView(n, this.#reconciler.interfaceName(n.vlan), links.get(n.vlan)),
        natSources: [...n.natSources],
        dns: n.dns === null ? null : structuredClone(n.dns),
      }));
      const portMappings = this.#ports
        .select((m) => vlan === 0 || m.vlan === vlan)
        .map((m) => ({ ...m, sources: [...m.sources] }));
      return { networks, portMappings };
    });
  }

  /** Whether the last reconcile succeeded: what a health probe asks, answered without waiting for the queue. */
  health(): HealthView {
    const h = this.#reconciler.health();
    return {
      healthy: h.ok,
      status: h.ok ? 'ok' : `reconcile failed: ${h.error}`,
      activeNetworks: this.#networks.size,
      uptimeSeconds: Math.max(0, Math.floor((this.#clock() - this.#startedAt) / 1000)),
    };
  }

  /**
   * The health with the backends and, when asked, whether the kernel's
   * firewall matches the desired state. The comparison waits its turn in
   * the queue, so it never sees a change half applied. Drift does not make
   * the router unhealthy (health says whether reconciling works); found
   * while healthy, it asks for a resync, which repairs it.
   */
  async status(options: StatusOptions): Promise<StatusView> {
    const backends = { firewallBackend: this.#reconciler.firewallName, dnsBackend: this.#reconciler.dnsName };
    if (!options.checkKernel) return { ...this.health(), ...backends, kernelChecked: false, kernelInSync: false, kernelDrift: '' };
    const drift = await this.#serially(async () => {
      try {
        return await this.#reconciler.firewallDrift(this.#state());
      } catch (err) {
        return `cannot compare: ${errorMessage(err)}`;
      }
    });
    const health = this.health();
    // While reconciling fails the loop is already retrying, with backoff
    // that a client polling the status must not defeat.
    if (drift !== '' && health.healthy) {
      this.#log.warn({ drift }, 'the kernel differs from the desired state; resyncing');
      this.#loop.kick();
    }
    return { ...health, ...backends, kernelChecked: true, kernelInSync: drift === '', kernelDrift: drift };
  }

  #serially<T>(task: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(unavailable('the router is closed'));
    // Port calls made after this one must not join a batch queued before it.
    this.#openPortBatch = undefined;
    return this.#queue.run(task);
  }

  #state(): DesiredState {
    return { networks: this.#selectNetworks(0), portMappings: this.#ports.select() };
  }

  #selectNetworks(vlan: number): Network[] {
    if (vlan !== 0) {
      const n = this.#networks.get(vlan);
      return n === undefined ? [] : [n];
    }
    return [...this.#networks.values()].sort((a, b) => a.vlan - b.vlan);
  }

  #networkPorts(vlan: number): PortMapping[] {
    return this.#ports.select((m) => m.vlan === vlan);
  }

  /**
   * The live links of the networks by VLAN id. Many networks are read with
   * one listing of our links; only those missing from it (drift) are looked
   * up one by one, so a foreign link in a network's place still shows.
   */
  async #liveLinks(networks: readonly Network[]): Promise<Map<number, LinkStatus>> {
    const links = new Map<number, LinkStatus>();
    if (networks.length > 1) {
      const owned = new Map((await this.#reconciler.ownedLinks()).map((l) => [l.name, l]));
      for (const n of networks) {
        const link = owned.get(this.#reconciler.interfaceName(n.vlan));
        if (link !== undefined) links.set(n.vlan, link);
      }
    }
    for (const n of networks) {
      if (links.has(n.vlan)) continue;
      const link = await this.#reconciler.status(n.vlan);
      if (link !== undefined) links.set(n.vlan, link);
    }
    return links;
  }

  /**
   * Queues a port mutation. It joins the batch at the tail of the queue when
   * there is one, so that mutations arriving while another is applied share
   * one turn; anything else queued closes that batch (see #serially), so no
   * call overtakes one queued before it.
   */
  #portCall(op: PortOp): Promise<void> {
    if (this.#closed) return Promise.reject(unavailable('the router is closed'));
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const call: PortCall = { op, resolve, reject };
    if (this.#openPortBatch !== undefined) {
      this.#openPortBatch.push(call);
      return promise;
    }
    const batch = [call];
    this.#openPortBatch = batch;
    this.#queue
      .run(async () => {
        // Calls that arrive in the same turn of the event loop (several
        // clients' requests read from their sockets together) join before
        // the batch closes, rather than waiting for the next one.
        await nextTurn();
        if (this.#openPortBatch === batch) this.#openPortBatch = undefined;
        return this.#commitPortBatch(batch);
      })
      // #commitPortBatch settles every call; this only keeps a bug from leaving callers waiting.
      .catch((err: unknown) => {
        for (const c of batch) c.reject(err);
      });
    return promise;
  }

  /**
   * Commits a batch of port mutations in one turn. Each is checked against
   * the state as the ones before it leave it, so a refused one fails only
   * its caller; the accepted ones are stored in one transaction and applied
   * to the kernel once. If that fails, the batch is undone and its
   * mutations are committed one at a time, so that only one the kernel
   * refuses fails, with an error naming its mapping.
   */
  async #commitPortBatch(batch: readonly PortCall[]): Promise<void> {
    const [only] = batch;
    if (only !== undefined && batch.length === 1) return settle(only, this.#commitPortCall(only.op));
    const changes: PortChange[] = [];
    const changeOf = new Map<PortCall, PortChange>();
    const refused = new Map<PortCall, unknown>();
    for (const call of batch) {
      try {
        const change = this.#planPortChange(call.op);
        if (change === undefined) continue;
        this.#changePorts(change);
        changes.push(change);
        changeOf.set(call, change);
      } catch (err) {
        refused.set(call, err);
      }
    }
    if (changes.length > 0) {
      try {
        await this.#storeAndApply(changes);
      } catch (err) {
        if (!changes.every((c) => this.#undone(c))) {
          // Their undoing could not be stored, so they stand, and committed one at a time each would find itself done.
          for (const call of batch) {
            const change = changeOf.get(call);
            if (refused.has(call)) call.reject(refused.get(call));
            else if (change !== undefined) call.reject(portChangeFailure(change, err));
            else call.resolve();
          }
          return;
        }
        this.#log.warn({ portChanges: changes.length, err: errorMessage(err) }, 'port changes refused together; committing them one at a time');
        for (const call of batch) await settle(call, this.#commitPortCall(call.op));
        return;
      }
    }
    for (const c of changes) this.#logPortChange(c);
    for (const call of batch) {
      if (refused.has(call)) call.reject(refused.get(call));
      else call.resolve();
    }
  }

  /** Commits one port mutation: stored, applied, and undone if either fails. */
  async #commitPortCall(op: PortOp): Promise<void> {
    const change = this.#planPortChange(op);
    if (change === undefined) return;
    this.#changePorts(change);
    try {
      await this.#storeAndApply([change]);
    } catch (err) {
      throw portChangeFailure(change, err);
    }
    this.#logPortChange(change);
  }

  /** What op changes in the current state: undefined when nothing (an identical repeat, an absent removal). Throws if refused. */
  #planPortChange(op: PortOp): PortChange | undefined {
    if (op.kind === 'remove') {
      const mapping = findPortRemoval(this.#ports, op.removal);
      return mapping === undefined ? undefined : { kind: 'remove', mapping };
    }
    const mapping = placePortMapping(op.draft, this.#portNetwork(op.vlan, op.draft.containerIp));
    checkPortConflict(mapping, this.#ports.overlapping(mapping));
    // Past the conflict check, a mapping with the same key can only be identical.
    return this.#ports.get(mapping) === undefined ? { kind: 'add', mapping } : undefined;
  }

  /** Whether the state in memory is as it was before `c`. */
  #undone(c: PortChange): boolean {
    return (this.#ports.get(c.mapping) === undefined) === (c.kind === 'add');
  }

  /** Applies a port change to the state in memory. */
  #changePorts(c: PortChange): void {
    if (c.kind === 'add') this.#ports.put(c.mapping);
    else this.#ports.delete(c.mapping);
  }

  /**
   * Stores port changes already made in memory and applies them to the
   * kernel; a reply of success waits for both. Changes that only add hand
   * the backends their transaction first and commit the store (an fsync)
   * while the kernel applies it. A removal commits the store first, as its
   * transaction also ends the removed mappings' tracked connections, which
   * no undoing brings back. If either fails, the changes are undone in
   * memory, in the store and in the kernel, and the failure is thrown. A
   * crash in between leaves the kernel and the store apart until the
   * reconciler converges the kernel to the store at start, as it does
   * after any crash.
   */
  async #storeAndApply(changes: readonly PortChange[]): Promise<void> {
    const onlyAdds = changes.every((c) => c.kind === 'add');
    const commit = (): Failure | undefined => {
      try {
        this.#store.update((tx) => {
          for (const c of changes) storePortChange(tx, c);
        });
        return undefined;
      } catch (err) {
        return { err };
      }
    };
    let storeFailure = onlyAdds ? undefined : commit();
    if (storeFailure !== undefined) {
      this.#undoPortChanges(changes, false);
      throw storeFailure.err;
    }
    const applied = this.#applyAttachments().then(
      () => undefined,
      (err: unknown): Failure => ({ err }),
    );
    if (onlyAdds) {
      // One turn lets the backends hand an incremental transaction to the
      // kernel before the commit holds this thread (a full sync reads the
      // kernel first, and so starts after it).
      await nextTurn();
      storeFailure = commit();
    }
    const applyFailure = await applied;
    const failure = storeFailure ?? applyFailure;
    if (failure === undefined) return;
    if (storeFailure !== undefined && applyFailure !== undefined) {
      this.#log.warn({ err: errorMessage(applyFailure.err) }, 'the kernel refused the port changes too');
    }
    await this.#undoAndReapply(() => this.#undoPortChanges(changes, storeFailure === undefined));
    throw failure.err;
  }

  /**
   * Reverts changes, when they were stored, in the store, then in memory.
   * If the store cannot take the reversal, it throws before memory is
   * touched: memory keeps holding what the store holds, which is what a
   * resync applies and what a restart would load.
   */
  #undoPortChanges(changes: readonly PortChange[], stored: boolean): void {
    const undo = changes.toReversed().map(invertPortChange);
    if (stored) {
      this.#store.update((tx) => {
        for (const c of undo) storePortChange(tx, c);
      });
    }
    for (const c of undo) this.#changePorts(c);
  }

  #logPortChange(c: PortChange): void {
    const m = c.mapping;
    this.#log.info(
      { host: formatPortKey(m), target: portTarget(m), sources: m.sources },
      c.kind === 'add' ? 'port mapping added' : 'port mapping removed',
    );
  }

  /** The network a mapping targets: by VLAN id, or for vlan 0 the one whose subnet holds the container address. */
  #portNetwork(vlan: number, ip: ParsedAddress): Network {
    if (vlan !== 0) {
      const n = this.#networks.get(vlan);
      if (n === undefined) throw notFound(`VLAN ${vlan} does not exist: create it with CreateVLAN first`);
      return n;
    }
    if (ip.family === 4) {
      for (const n of this.#networks.values()) {
        if (contains(mustParseIPv4Prefix(n.subnet), ip.address)) return n;
      }
    }
    throw notFound(
      `no network's subnet contains container_ip ${formatAddress(ip)}: pass vlan_id or create the network first`,
    );
  }

  /**
   * Applies change to the network on VLAN vlan and stores the result if it
   * differs. A missing network is NotFound when mustExist; otherwise there
   * is nothing to do, as removals of absent things succeed.
   */
  async #updateNetwork(
    vlan: number,
    mustExist: boolean,
    what: { doing: string; done: string },
    change: (n: Network) => Network,
  ): Promise<void> {
    validateVlanId(vlan);
    return this.#serially(async () => {
      const n = this.#networks.get(vlan);
      if (n === undefined) {
        if (mustExist) throw notFound(`VLAN ${vlan} does not exist: create it with CreateVLAN first`);
        return;
      }
      const next = change(n);
      if (networksEqual(next, n)) return;
      this.#store.update((tx) => tx.putNetwork(next));
      this.#networks.set(vlan, next);
      try {
        await this.#applyAttachmentsOrRevert(() => {
          this.#store.update((tx) => tx.putNetwork(n));
          this.#networks.set(vlan, n);
        });
      } catch (err) {
        throw withContext(err, `${what.doing} on VLAN ${vlan}`);
      }
      this.#log.info(
        { vlan, nat: natEnabled(next), natSources: next.natSources, dns: next.dns !== null },
        what.done,
      );
    });
  }

  async #applyAttachments(): Promise<void> {
    if (!this.#reconciler.managesAttachments) return;
    await this.#reconciler.applyAttachments(this.#state());
    this.#settleRetiredSubnets();
  }

  /**
   * The subnets of `networks` to record as retired along with their
   * removal: those whose flows a crash before the forget would leave
   * alive, when firewall changes forget flows at all.
   */
  #retiring(networks: readonly Network[]): string[] {
    return this.#reconciler.forgetsFlows ? networks.map((n) => n.subnet) : [];
  }

  /** Notes stored retired subnets, and owes the forgetting of their flows. */
  #retire(subnets: readonly string[]): void {
    for (const subnet of subnets) this.#retiredSubnets.add(subnet);
    this.#reconciler.oweSubnets(subnets);
  }

  /**
   * After a reconcile that succeeded, removes from the store the retired
   * subnets the reconciler no longer owes: their flows were forgotten, or
   * a network has the subnet again. A store failure is logged; the next
   * reconcile tries again.
   */
  #settleRetiredSubnets(): void {
    if (this.#retiredSubnets.size === 0) return;
    const owed = new Set(this.#reconciler.owedSubnets);
    const settled = [...this.#retiredSubnets].filter((subnet) => !owed.has(subnet));
    if (settled.length === 0) return;
    try {
      this.#store.update((tx) => {
        for (const subnet of settled) tx.deleteRetiredSubnet(subnet);
      });
      for (const subnet of settled) this.#retiredSubnets.delete(subnet);
    } catch (err) {
      this.#log.warn({ subnets: settled, err: errorMessage(err) }, 'recording forgotten subnets failed; the next reconcile tries again');
    }
  }

  /** Applies the attachments; if the backends refuse, restores the previous state and rethrows. */
  async #applyAttachmentsOrRevert(revert: () => void): Promise<void> {
    try {
      await this.#applyAttachments();
    } catch (err) {
      await this.#undoAndReapply(revert);
      throw err;
    }
  }

  /**
   * Undoes a failed change in the desired state and applies the attachments
   * again. A failure is logged, not thrown: the caller reports the change's
   * own failure, and the resync that any backend failure kicks retries.
   */
  async #undoAndReapply(undo: () => void): Promise<void> {
    try {
      undo();
      await this.#applyAttachments();
    } catch (rollbackErr) {
      this.#log.error({ err: errorMessage(rollbackErr) }, 'rolling back failed change; the next resync retries');
    }
  }

  /** Restores the previous desired state of a network whose change could not be applied. */
  async #rollbackNetwork(vlan: number, prev: Network | undefined): Promise<void> {
    try {
      if (prev !== undefined) {
        this.#store.update((tx) => tx.putNetwork(prev));
        this.#networks.set(vlan, prev);
        await this.#reconciler.ensureNetwork(prev);
      } else {
        this.#store.update((tx) => tx.deleteNetwork(vlan));
        this.#networks.delete(vlan);
        await this.#reconciler.removeNetwork(vlan);
      }
      await this.#applyAttachments();
    } catch (err) {
      this.#log.error({ vlan, err: errorMessage(err) }, 'rolling back failed change; the next resync retries');
    }
  }
}

/** A port change's failure, naming the mapping. */
function portChangeFailure(change: PortChange, err: unknown): RouterError {
  return withContext(err, `${change.kind === 'add' ? 'publishing' : 'unpublishing'} ${describePortMapping(change.mapping)}`);
}

/** The error with what was being done put in front of its message, keeping its kind. */
function withContext(err: unknown, doing: string): RouterError {
  return new RouterError(errorKind(err), `${doing}: ${errorMessage(err)}`, { cause: err });
}
