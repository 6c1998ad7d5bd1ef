import type { FirewallBackend } from '@router-service/core';

/** What the kernel the suite runs on can do beyond TCP, UDP and ICMP. */
export interface FirewallSuiteCapabilities {
  /**
   * The kernel speaks SCTP (and socat can use it), so SCTP is checked with
   * real packets too. Without it SCTP is checked by rendering and drift only.
   */
  readonly sctpPackets?: boolean;
}

/**
 * What the suite needs of a backend package: the backend, and the ways to
 * look at and disturb what it owns in the kernel that only the package
 * knows. Every member acts on the named network namespace.
 */
export interface FirewallSuiteAdapter {
  /** A backend acting on the namespace. */
  make(netns: string): FirewallBackend;
  /**
   * Everything the backend owns in the kernel, as stable text: equal
   * contents print equal (no handles, counters or hash order), one copy of
   * each object, "" when there is nothing.
   */
  dump(netns: string): Promise<string>;
  /** What an operator's global flush does (`nft flush ruleset`; `iptables -F` and `iptables -t nat -F`). */
  flush(netns: string): Promise<void>;
  /**
   * Leaves the backend's own objects half broken, as a crash between two
   * commands or a hand edit would: something removed and something added
   * that no rendering holds.
   */
  damage(netns: string): Promise<void>;
  /** Creates objects of the backend's kind that are not the backend's (another table, another chain). */
  addForeign(netns: string): Promise<void>;
  /** The objects `addForeign` created, as stable text; "" once they are gone. */
  dumpForeign(netns: string): Promise<string>;
  /**
   * Puts another tool's rules that accept everything forwarded and
   * everything addressed to the router where the kernel judges them before
   * the backend's objects as they are now, as a tool started after the
   * backend does (`iptables -I FORWARD 1 -j ACCEPT`; for nft, a table of
   * its own hooked in earlier). Resolves to what removes them again.
   */
  overtake(netns: string): Promise<() => Promise<void>>;
  readonly capabilities?: FirewallSuiteCapabilities;
}
