/** Firewall and DNS backends that record what they were asked to converge to, and can be told to fail. */
import type { DnsBackend, DnsNetworkState, FirewallBackend, FirewallState } from '../src/backends.js';

export class FakeFirewallBackend implements FirewallBackend {
  readonly name = 'fake-firewall';
  /** The state of every sync call, in order. */
  readonly syncs: FirewallState[] = [];
  fail: Error | undefined;

  async sync(state: FirewallState): Promise<void> {
    if (this.fail !== undefined) throw this.fail;
    this.syncs.push(structuredClone(state));
  }

  async teardown(): Promise<void> {
    this.syncs.push({ uplink: '', networks: [], portMappings: [] });
  }

  /** The state of the last successful sync. */
  get last(): FirewallState | undefined {
    return this.syncs.at(-1);
  }
}

export class FakeDnsBackend implements DnsBackend {
  readonly name = 'fake-dns';
  readonly syncs: DnsNetworkState[][] = [];
  fail: Error | undefined;

  async sync(networks: readonly DnsNetworkState[]): Promise<void> {
    if (this.fail !== undefined) throw this.fail;
    this.syncs.push(structuredClone([...networks]));
  }

  async teardown(): Promise<void> {
    this.syncs.push([]);
  }
}
