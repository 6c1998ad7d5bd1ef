/**
 * The Reconciler converges the kernel to the desired state. It is the only
 * caller of backends; every operation can be repeated with the same result.
 * Any failure is recorded in its health and reported to failure listeners,
 * so that a full resync follows.
 *
 * It remembers the firewall state it last applied, so that a change is
 * applied as the difference from it (`update`) and the flows of what went
 * away are forgotten; a full resync, and any change after a failure, apply
 * the whole state (`sync`) instead. A new reconciler has applied nothing
 * yet, so what was removed while the service was down is not known: its
 * first sync forgets the DNATed flows into our networks that no mapping
 * explains instead (ConnectionRemovals.strays). Flows that began before a
 * UDP port was published are forgotten after it is
 * (ConnectionRemovals.published).
 */
import { sameItems } from './arrays.js';
import type {
  ConnectionRemovals,
  ConnectionTracker,
  DnsBackend,
  FirewallBackend,
  FirewallState,
  LinkStatus,
  Uplink,
  VlanBackend,
} from './backends.js';
import { RouterError, errorKind, errorMessage } from './errors.js';
import type { Logger } from './logger.js';
import type { DesiredState, Network } from './model.js';
import { gatewayPrefix, interfaceName } from './network.js';
import { NO_REMOVALS, connectionRemovals, isEmptyRemovals, pendingRemovals, wholeRemovals } from './removals.js';

export interface ReconcilerOptions {
  vlan: VlanBackend;
  firewall?: FirewallBackend | undefined;
  dns?: DnsBackend | undefined;
  /** Ends the tracked flows of removed mappings and networks, and the stale ones to newly published UDP ports; without one they live until they time out. */
  connectionTracker?: ConnectionTracker | undefined;
  /** The parent interface the VLAN links live on. */
  parent: string;
  /** Subnets no longer desired whose flows a run before this one may have left unforgotten: owed from the start (see oweSubnets). */
  retiredSubnets?: readonly string[];
  log: Logger;
  /** The wall clock, for the time of the health record. */
  now?: () => Date;
}

/** The outcome of the most recent reconcile. */
export interface ReconcileHealth {
  ok: boolean;
  /** Why the last reconcile failed; "" when ok. */
  error: string;
  /** When it was recorded; null before any reconcile. */
  at: Date | null;
}

/** Wraps a backend failure with what was being done, keeping its kind. */
function wrap(err: unknown, doing: string): RouterError {
  return new RouterError(errorKind(err), `${doing}: ${errorMessage(err)}`, { cause: err });
}

export class Reconciler {
  readonly #vlan: VlanBackend;
  readonly #firewall: FirewallBackend | undefined;
  readonly #dns: DnsBackend | undefined;
  readonly #connectionTracker: ConnectionTracker | undefined;
  readonly #parent: string;
  readonly #log: Logger;
  readonly #now: () => Date;
  readonly #failureListeners = new Set<(err: Error) => void>();
  #health: ReconcileHealth = { ok: false, error: 'not reconciled yet', at: null };
  /**
   * The firewall state of the last successful sync or update. Kept across
   * failures, since a refused transaction leaves the kernel as it was: what
   * the next success removes is counted from here.
   */
  #appliedFirewall: FirewallState | undefined;
  /** Whether the kernel is trusted to hold #appliedFirewall, so that a change may be applied as a difference. */
  #firewallKnown = false;
  /** Removals whose forget failed, retried with the next firewall change. */
  #owedRemovals: ConnectionRemovals;
  /**
   * The DNS-enabled networks of the last DNS sync, while it stands
   * (undefined before the first and after a failure). Networks are
   * replaced, never changed in place, so the same objects mean the same
   * DNS: a change that leaves them (a port mapping) skips the DNS backend.
   */
  #syncedDns: readonly Network[] | undefined;

  constructor(options: ReconcilerOptions) {
    this.#vlan = options.vlan;
    this.#firewall = options.firewall;
    this.#dns = options.dns;
    this.#connectionTracker = options.connectionTracker;
    this.#owedRemovals = NO_REMOVALS;
    this.oweSubnets(options.retiredSubnets ?? []);
    this.#parent = options.parent;
    this.#log = options.log;
    this.#now = options.now ?? (() => new Date());
  }

  /** The named parent interface, or for "" the interface of the IPv4 default route. */
  static async findUplink(vlan: VlanBackend, name: string): Promise<Uplink> {
    return vlan.uplink(name === '' ? await vlan.defaultRouteInterface() : name);
  }

  get parent(): string {
    return this.#parent;
  }

  /** The parent interface's live state. */
  uplink(): Promise<Uplink> {
    return this.#vlan.uplink(this.#parent);
  }

  interfaceName(vlan: number): string {
    return interfaceName(this.#parent, vlan);
  }

  /** Converges the link of one network. */
  async ensureNetwork(n: Network): Promise<LinkStatus> {
    try {
      return await this.#ensureLink(n);
    } catch (err) {
      throw this.#fail(err);
    }
  }

  async #ensureLink(n: Network): Promise<LinkStatus> {
    const name = this.interfaceName(n.vlan);
    try {
      return await this.#vlan.ensureVlan({ parent: this.#parent, vlan: n.vlan, mtu: n.mtu, address: gatewayPrefix(n) });
    } catch (err) {
      throw wrap(err, `converging VLAN ${n.vlan} link ${name}`);
    }
  }

  /** Removes the link of the network on VLAN vlan; an absent link is success. */
  async removeNetwork(vlan: number): Promise<void> {
    const name = this.interfaceName(vlan);
    try {
      await this.#vlan.deleteVlan(name);
    } catch (err) {
      throw this.#fail(wrap(err, `removing VLAN ${vlan} link ${name}`));
    }
  }

  /** The live state of the network's link, or undefined if it does not exist. */
  status(vlan: number): Promise<LinkStatus | undefined> {
    return this.#vlan.status(this.interfaceName(vlan));
  }

  /** Every link tagged as ours. */
  ownedLinks(): Promise<LinkStatus[]> {
    return this.#vlan.owned();
  }

  /** Whether a firewall or DNS backend is configured, so that attachments reach the kernel. */
  get managesAttachments(): boolean {
    return this.#firewall !== undefined || this.#dns !== undefined;
  }

  /** Whether firewall changes forget the flows they make stale: with a firewall and a connection tracker. */
  get forgetsFlows(): boolean {
    return this.#firewall !== undefined && this.#connectionTracker !== undefined;
  }

  /**
   * Owes the forgetting of `subnets`' flows (removed from the desired
   * state): the next firewall change forgets them, whatever the reconciler
   * applied before (maybe nothing yet, after a failed first sync).
   */
  oweSubnets(subnets: readonly string[]): void {
    if (!this.forgetsFlows || subnets.length === 0) return;
    const owed = this.#owedRemovals;
    this.#owedRemovals = { ...owed, subnets: [...new Set([...owed.subnets, ...subnets])] };
  }

  /** The removed subnets whose flows are still to be forgotten (a forget failed, or none has run yet). */
  get owedSubnets(): readonly string[] {
    return this.#owedRemovals.subnets;
  }

  /** The firewall backend's name; "none" without one. */
  get firewallName(): string {
    return this.#firewall?.name ?? 'none';
  }

  /** The DNS backend's name; "none" without one. */
  get dnsName(): string {
    return this.#dns?.name ?? 'none';
  }

  /**
   * Converges the firewall and DNS backends, those configured, to `state`
   * after a change: the firewall by the difference from what it last
   * applied while that is trusted and health is ok, else whole; DNS only
   * when its networks changed. A failure
   * to forget removed flows marks health failed, so that a resync retries
   * it, but does not fail the change: the rules are already right.
   */
  async applyAttachments(state: DesiredState): Promise<void> {
    const { errors, forgetError } = await this.#syncAttachments(state, this.#health.ok);
    if (errors.length > 0) throw this.#fail(joinErrors(errors));
    if (forgetError !== undefined) this.#fail(forgetError);
  }

  async #syncAttachments(state: DesiredState, incremental: boolean): Promise<{ errors: Error[]; forgetError?: Error }> {
    const errors: Error[] = [];
    let forgetError: Error | undefined;
    if (this.#firewall !== undefined) {
      try {
        await this.#applyFirewall(this.#firewall, this.#firewallState(state), incremental);
        forgetError = await this.#forgetRemoved();
      } catch (err) {
        errors.push(wrap(err, `applying the ${this.#firewall.name} firewall`));
      }
    }
    const dnsNetworks = state.networks.filter((network) => network.dns !== null);
    if (this.#dns !== undefined && !(incremental && this.#syncedDns !== undefined && sameItems(this.#syncedDns, dnsNetworks))) {
      this.#syncedDns = undefined;
      try {
        await this.#dns.sync(dnsNetworks.map((network) => ({ network, interfaceName: this.interfaceName(network.vlan) })));
        this.#syncedDns = dnsNetworks;
      } catch (err) {
        errors.push(wrap(err, `applying the ${this.#dns.name} DNS`));
      }
    }
    return forgetError === undefined ? { errors } : { errors, forgetError };
  }

  /**
   * Applies `next` as the difference from the last applied state when
   * `incremental` and that state is trusted, else whole. Any failure
   * distrusts it, so that the next change is applied whole.
   */
  async #applyFirewall(firewall: FirewallBackend, next: FirewallState, incremental: boolean): Promise<void> {
    const previous = this.#appliedFirewall;
    const known = this.#firewallKnown;
    // Until this call succeeds, the kernel may hold either state.
    this.#firewallKnown = false;
    const whole = !(incremental && known && previous !== undefined);
    if (whole) await firewall.sync(next);
    else await firewall.update(previous, next);
    if (this.#connectionTracker !== undefined) {
      const removed = whole ? wholeRemovals(previous, next) : connectionRemovals(previous, next);
      this.#owedRemovals = pendingRemovals(this.#owedRemovals, removed, next);
    }
    this.#appliedFirewall = next;
    this.#firewallKnown = true;
  }

  /**
   * Forgets the flows the last firewall change made stale (see
   * ConnectionRemovals), and those an earlier failed forget still owes.
   * Returns the failure, logged, rather than throwing it: the firewall
   * change stands.
   */
  async #forgetRemoved(): Promise<Error | undefined> {
    const removals = this.#owedRemovals;
    if (this.#connectionTracker === undefined || isEmptyRemovals(removals)) {
      this.#owedRemovals = NO_REMOVALS;
      return undefined;
    }
    try {
      await this.#connectionTracker.forget(removals);
      this.#owedRemovals = NO_REMOVALS;
      return undefined;
    } catch (err) {
      const error = wrap(err, `forgetting the flows of changed port mappings and removed networks with ${this.#connectionTracker.name}`);
      this.#log.error(
        {
          portMappings: removals.portMappings.length,
          subnets: removals.subnets,
          published: removals.published.length,
          strays: removals.strays !== undefined,
          err: error.message,
        },
        'forgetting stale flows failed; they live on until a resync retries',
      );
      return error;
    }
  }

  /**
   * What the kernel's firewall differs in from the rendering of `state`: ""
   * when it matches, or when no firewall backend is configured. Changes
   * nothing.
   */
  async firewallDrift(state: DesiredState): Promise<string> {
    if (this.#firewall === undefined) return '';
    try {
      return await this.#firewall.drift(this.#firewallState(state));
    } catch (err) {
      throw wrap(err, `comparing the kernel with the ${this.#firewall.name} firewall`);
    }
  }

  #firewallState(state: DesiredState): FirewallState {
    return {
      uplink: this.#parent,
      networks: state.networks.map((network) => ({ network, interfaceName: this.interfaceName(network.vlan) })),
      portMappings: state.portMappings,
    };
  }

  /**
   * Converges the kernel to exactly the desired state: hardens the parent,
   * creates or repairs each network's link, deletes links tagged as ours
   * that are not desired (foreign links are never touched), then converges
   * firewall and DNS. Errors are collected so that one broken network does
   * not stop the others from converging.
   */
  async sync(state: DesiredState): Promise<void> {
    const errors: Error[] = [];
    // Without forwarding the router routes nothing; enabling it here also
    // repairs someone switching it off.
    try {
      await this.#vlan.enableForwarding();
    } catch (err) {
      errors.push(wrap(err, 'enabling IPv4 forwarding'));
    }
    try {
      await this.#vlan.isolate(this.#parent);
    } catch (err) {
      errors.push(wrap(err, `isolating parent ${this.#parent}`));
    }
    const wanted = new Set<string>();
    for (const n of state.networks) {
      wanted.add(this.interfaceName(n.vlan));
      try {
        await this.#ensureLink(n);
      } catch (err) {
        errors.push(err as Error);
      }
    }
    let owned: LinkStatus[] = [];
    try {
      owned = await this.#vlan.owned();
    } catch (err) {
      errors.push(wrap(err, 'listing owned links'));
    }
    for (const link of owned) {
      if (wanted.has(link.name)) continue;
      try {
        await this.#vlan.deleteVlan(link.name);
        this.#log.info({ interface: link.name }, 'removed undesired link');
      } catch (err) {
        errors.push(wrap(err, `removing undesired link ${link.name}`));
      }
    }
    const attachments = await this.#syncAttachments(state, false);
    errors.push(...attachments.errors);
    if (attachments.forgetError !== undefined) errors.push(attachments.forgetError);
    if (errors.length > 0) throw this.#fail(joinErrors(errors));
    this.#health = { ok: true, error: '', at: this.#now() };
  }

  /**
   * Lets the firewall and DNS backends stop the processes they run, once
   * no reconcile runs any more; what the backends set up in the kernel and on disk
   * stays for the next start to converge. A failure is logged, not thrown:
   * the service stops either way.
   */
  async close(): Promise<void> {
    for (const backend of [this.#firewall, this.#dns]) {
      if (backend?.close === undefined) continue;
      try {
        await backend.close();
      } catch (err) {
        this.#log.warn({ err: errorMessage(err) }, `closing the ${backend.name} backend failed`);
      }
    }
  }

  /** The outcome of the most recent reconcile: a failed targeted change makes it unhealthy until a full sync succeeds. */
  health(): ReconcileHealth {
    return { ...this.#health };
  }

  /** Calls listener after every failure; returns the function that unsubscribes it. */
  onFailure(listener: (err: Error) => void): () => void {
    this.#failureListeners.add(listener);
    return () => void this.#failureListeners.delete(listener);
  }

  /** Records a failure, tells the listeners and returns the error to throw. */
  #fail(err: unknown): Error {
    const error = err instanceof Error ? err : new Error(String(err));
    this.#health = { ok: false, error: error.message, at: this.#now() };
    // Whatever failed, the next change is applied whole.
    this.#firewallKnown = false;
    for (const listener of this.#failureListeners) listener(error);
    return error;
  }
}

/** One error standing for several, its message their messages joined. */
function joinErrors(errors: readonly Error[]): Error {
  if (errors.length === 1 && errors[0] !== undefined) return errors[0];
  return new AggregateError(errors, errors.map((e) => e.message).join('; '));
}
