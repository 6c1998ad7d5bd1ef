/**
 * Each firewall backend as these tests see it from outside the daemon: its
 * library acting on a namespace (for drift), what of ours the kernel holds,
 * how many copies, what an operator runs to wipe it, and a foreign object
 * of the same kind that nothing of ours may touch.
 */
import type { FirewallBackend } from '@router-service/core';
import type { Netns } from '@router-service/test-support';
import type { FirewallName } from './router-daemon.js';

export interface FirewallUnderTest {
  readonly name: FirewallName;
  /** The backend's library acting on the namespace, as the daemon's would. */
  library(netns: string): FirewallBackend;
  /** Everything of ours in the kernel as stable text; "" when there is nothing. Equal dumps mean equal objects. */
  dump(ns: Netns): Promise<string>;
  /** What is there more (or less) than once of what must be there exactly once; [] when all is well. */
  copies(ns: Netns): Promise<string[]>;
  /** What an operator runs to wipe the rules. */
  flush(ns: Netns): Promise<void>;
  /** Adds an object of the same kind that is not ours. */
  addForeign(ns: Netns): Promise<void>;
  /** The foreign object as the kernel shows it; "" once it is gone. */
  foreign(ns: Netns): Promise<string>;
}

/** Runs a program in ns; it must succeed. Returns its stdout. */
export async function execIn(ns: Netns, file: string, args: readonly string[]): Promise<string> {
  const result = await ns.exec(file, args);
  if (result.code !== 0) throw new Error(`${file} ${args.join(' ')} in ${ns.name}: exit ${result.code ?? result.signal}: ${result.output.trim()}`);
  return result.stdout;
}
