/** Firewall, DNS and connection-tracking backends that record what they were asked to do, and can be told to fail. */
import { isDeepStrictEqual } from 'node:util';
import type {
  ConnectionRemovals,
  ConnectionTracker,
  DnsBackend,
  DnsNetworkState,
  FirewallBackend,
  FirewallState,
} from '../src/backends.js';

/** One call that changed the fake kernel. */
export type FirewallCall =
  | { method: 'sync'; state: FirewallState }
  | { method: 'update'; previous: FirewallState; state: FirewallState };

export class FakeFirewallBackend implements FirewallBackend {
  readonly name = 'fake-firewall';
  /** The state of every sync call, in order. */
  readonly syncs: FirewallState[] = [];
  /** Every successful sync and update, in order. */
  readonly calls: FirewallCall[] = [];
  fail: Error | undefined;
  failDrift: Error | undefined;
  /** When set, sync and update wait for it before changing anything. */
  gate: Promise<void> | undefined;
  /** What the fake kernel holds: the last state applied; a test may change it, as someone editing the ruleset would. */
  kernel: FirewallState | undefined;
  /** How often close was called. */
  closes = 0;

  async sync(state: FirewallState): Promise<void> {
    await this.gate;
    if (this.fail !== undefined) throw this.fail;
    this.syncs.push(structuredClone(state));
    this.#applied({ method: 'sync', state: structuredClone(state) });
  }

  async update(previous: FirewallState, next: FirewallState): Promise<void> {
    await this.gate;
    if (this.fail !== undefined) throw this.fail;
    this.#applied({ method: 'update', previous: structuredClone(previous), state: structuredClone(next) });
  }

  async drift(state: FirewallState): Promise<string> {
    if (this.failDrift !== undefined) throw this.failDrift;
    if (this.kernel === undefined) return 'nothing applied';
    return isDeepStrictEqual(this.kernel, state) ? '' : `${this.kernel.portMappings.length} port mappings, want ${state.portMappings.length}`;
  }

  async teardown(): Promise<void> {
    this.syncs.push({ uplink: '', networks: [], portMappings: [] });
    this.kernel = undefined;
  }

  async close(): Promise<void> {
    this.closes++;
  }

  /** The state of the last successful sync or update. */
  get last(): FirewallState | undefined {
    return this.calls.at(-1)?.state;
  }

  /** The methods called, in order: "sync", "update". */
  get methods(): string[] {
    return this.calls.map((c) => c.method);
  }

  #applied(call: FirewallCall): void {
    this.calls.push(call);
    this.kernel = structuredClone(call.state);
  }
}

export class FakeDnsBackend implements DnsBackend {
  readonly name = 'fake-dns';
  readonly syncs: DnsNetworkState[][] = [];
  /** Every method called, in order: "sync", "teardown", "close". */
  readonly calls: string[] = [];
  fail: Error | undefined;
  failClose: Error | undefined;
  /** When set, sync waits for it before changing anything. */
  gate: Promise<void> | undefined;

  async sync(networks: readonly DnsNetworkState[]): Promise<void> {
    this.calls.push('sync');
    await this.gate;
    if (this.fail !== undefined) throw this.fail;
    this.syncs.push(structuredClone([...networks]));
  }

  async teardown(): Promise<void> {
    this.calls.push('teardown');
    this.syncs.push([]);
  }

  async close(): Promise<void> {
    this.calls.push('close');
    if (this.failClose !== undefined) throw this.failClose;
  }
}

export class FakeConnectionTracker implements ConnectionTracker {
  readonly name = 'fake-conntrack';
  /** The removals of every forget call, failed ones included, in order. */
  readonly forgets: ConnectionRemovals[] = [];
  fail: Error | undefined;

  async forget(removals: ConnectionRemovals): Promise<void> {
    this.forgets.push(structuredClone(removals));
    if (this.fail !== undefined) throw this.fail;
  }
}
