/**
 * What this backend owns in iptables, as plain data: in each table it uses,
 * its chains (named `RS-...`, see isOwnedChain) with their rules, and its jumps
 * (rules in chains that are not ours, the built-in ones, carrying our
 * comment). The same shape holds a rendering of the desired state and what
 * `iptables-save` shows of ours, so that planning a change and telling
 * drift are both comparisons of two values.
 *
 * Every rule is kept exactly as iptables-save prints it after `-A <chain> `:
 * the renderer writes that canonical form, so the comparison is textual.
 */

import { PROTOCOLS } from '@router-service/core';

/** The tables the backend uses, in the order a restore input lists them. */
export const TABLES = ['raw', 'nat', 'filter'] as const;
export type TableName = (typeof TABLES)[number];

/** Every chain of ours is named with this prefix. */
const CHAIN_PREFIX = 'RS-';

/**
 * The names our chains take: the base chains (render.ts), `RS-DNAT` and its
 * buckets (dnat-tree.ts). Another tool's chain that merely starts with the
 * prefix is not ours, so it is never flushed or deleted.
 */
const OWNED_CHAIN = new RegExp(`^${CHAIN_PREFIX}(?:PREROUTING|OUTPUT|POSTROUTING|INPUT|FORWARD|DNAT(?:-(?:${PROTOCOLS.join('|')})-\\d+-\\d+)?)$`);

/** The comment on every rule of ours that lives in a chain that is not ours. */
export const COMMENT = 'router-service';

/** A rule of ours in a chain that is not ours: the jump from a built-in chain into one of our chains. */
export interface JumpRule {
  /** The chain holding the rule: for our jumps, a built-in one such as `PREROUTING`. */
  readonly chain: string;
  /** The rule as iptables-save prints it after `-A <chain> `. */
  readonly rule: string;
}

/** Our objects in one table. */
export interface OwnedTable {
  /** Our chains by name, each with its rules in order (as iptables-save prints them after `-A <chain> `). */
  readonly chains: ReadonlyMap<string, readonly string[]>;
  /** Our rules in chains that are not ours; a kernel reading lists every copy. */
  readonly jumps: readonly JumpRule[];
  /**
   * The copies in `jumps` that come after a rule that is not ours in their
   * chain. The kernel judges that rule first, so whatever it accepts never
   * reaches ours: isolation and the router's protection would not hold for
   * it. A rendering puts every jump first and has none.
   */
  readonly buried: readonly JumpRule[];
}

/** Our objects in every table the backend uses. */
export type OwnedRuleset = { readonly [T in TableName]: OwnedTable };

/** Owns nothing: what teardown converges to, and where a fresh kernel starts. */
export const NOTHING: OwnedRuleset = {
  raw: { chains: new Map(), jumps: [], buried: [] },
  nat: { chains: new Map(), jumps: [], buried: [] },
  filter: { chains: new Map(), jumps: [], buried: [] },
};

/** Whether a chain name is one of ours. */
export function isOwnedChain(name: string): boolean {
  return OWNED_CHAIN.test(name);
}

/** The rule that jumps into `target`, marked as ours. */
export function jumpRule(chain: string, target: string): JumpRule {
  return { chain, rule: `-m comment --comment ${COMMENT} -j ${target}` };
}

const OUR_COMMENT = new RegExp(`(^| )-m comment --comment ${COMMENT}( |$)`);

/** Whether a rule of a chain that is not ours carries our comment, and so is ours. */
export function isOwnedRule(rule: string): boolean {
  return OUR_COMMENT.test(rule);
}

/** A jump's identity, for counting copies. */
export function jumpKey(jump: JumpRule): string {
  return `${jump.chain} ${jump.rule}`;
}

/** Each distinct jump with how many copies of it `jumps` holds. */
export function countJumps(jumps: readonly JumpRule[]): Map<string, { jump: JumpRule; copies: number }> {
  const counts = new Map<string, { jump: JumpRule; copies: number }>();
  for (const jump of jumps) {
    const entry = counts.get(jumpKey(jump));
    if (entry === undefined) counts.set(jumpKey(jump), { jump, copies: 1 });
    else entry.copies++;
  }
  return counts;
}
