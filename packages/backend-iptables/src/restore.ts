/**
 * The iptables-restore input that turns one set of our objects into
 * another, touching only what differs. It is run with `--noflush`, so that
 * nothing else in a table is flushed, and within a table it applies as one
 * commit: packets see either the old chains or the new ones.
 *
 * A chain whose rules changed is rewritten: declared, which with
 * --noflush flushes it, and filled again. When the plan starts from a
 * rendering of ours (an update, from what it applied last), such a chain is
 * edited in place instead, if its old rules and its new ones keep their
 * common rules in the same order and hold no rule twice (an update's usual
 * case: a mapping added to or removed from its bucket): the rules that go
 * are deleted by their text, and the new ones inserted at their places.
 * Editing matters for adds: a restore that deletes rules takes 10-20 ms
 * longer than one that only adds (the kernel waits before it frees the old
 * rules), and a flush deletes every rule of the chain, where an insertion
 * deletes none. A new rule after every kept one is appended rather than
 * inserted: iptables-nft reads the chain's rules to find an insertion's
 * place, and an append needs none of them.
 *
 * Per table, in this order:
 *   1. `:RS-X - [0:0]` for each chain that is new or rewritten: with
 *      --noflush this creates the chain, or flushes it if it exists;
 *   2. the same for each chain to remove, so that it is empty;
 *   3. `-D <chain> <rule>` for each rule that goes from an edited chain,
 *      before any chain it jumps to is removed;
 *   4. `-D` for each jump (or surplus copy of one) to remove, so that
 *      nothing refers to the chains to remove, and for every copy of a jump
 *      that a rule not ours comes before;
 *   5. `-X` for each chain to remove;
 *   6. `-A` for the rules of each chain of step 1, and for each rule new in
 *      an edited chain, in the order of its place, `-I <chain> <n>`, or
 *      `-A <chain>` when no kept rule follows it;
 *   7. `-I <chain> 1` for each missing jump, and for each of step 4 that
 *      is still wanted: ours come first, and what they let through goes on
 *      to the rules that are not ours.
 * A table with nothing to change is left out.
 */
import { sameItems, type FirewallState } from '@router-service/core';
import { render } from './render.js';
import { NOTHING, TABLES, countJumps, jumpKey, type JumpRule, type OwnedRuleset, type OwnedTable, type TableName } from './ruleset.js';

/** The restore commands of one table. */
export interface TableChanges {
  readonly table: TableName;
  readonly lines: readonly string[];
}

/** The copies of jumps that `a` holds beyond those of `b`. */
function jumpsBeyond(a: readonly JumpRule[], b: readonly JumpRule[]): JumpRule[] {
  const inB = countJumps(b);
  return [...countJumps(a)].flatMap(([key, { jump, copies }]) => Array<JumpRule>(Math.max(0, copies - (inB.get(key)?.copies ?? 0))).fill(jump));
}

/** How to turn a chain's rules `from` into `to` by deletions and insertions, or undefined when it must be rewritten. */
interface ChainEdit {
  /** Rules of `from` that are not in `to`. */
  readonly deleted: readonly string[];
  /**
   * Rules of `to` that are not in `from`, with their 1-based places in `to`,
   * ascending; `at` is 'end' for those that no kept rule follows.
   */
  readonly inserted: ReadonlyArray<{ readonly at: number | 'end'; readonly rule: string }>;
}

/**
 * The edit from `from` to `to`, when both hold each rule once and their
 * common rules come in the same order: then deleting the rules that go
 * leaves the common ones, and inserting each new rule at its place in `to`,
 * in ascending order, makes `to`.
 */
function chainEdit(from: readonly string[], to: readonly string[]): ChainEdit | undefined {
  const fromSet = new Set(from);
  const toSet = new Set(to);
  if (fromSet.size !== from.length || toSet.size !== to.length) return undefined;
  const kept = from.filter((rule) => toSet.has(rule));
  let next = 0;
  const inserted: Array<{ at: number | 'end'; rule: string }> = [];
  for (const [i, rule] of to.entries()) {
    // Once every kept rule is in place, the chain ends where this rule goes.
    if (!fromSet.has(rule)) inserted.push({ at: next === kept.length ? 'end' : i + 1, rule });
    else if (kept[next++] !== rule) return undefined;
  }
  return { deleted: from.filter((rule) => !toSet.has(rule)), inserted };
}

function tableChanges(from: OwnedTable, to: OwnedTable, how: ChainChanges): string[] {
  const changed = [...to.chains].filter(([name, rules]) => {
    const held = from.chains.get(name);
    return held === undefined || !sameItems(held, rules);
  });
  const edits = new Map<string, ChainEdit>();
  for (const [name, rules] of how === 'edit' ? changed : []) {
    const held = from.chains.get(name);
    const edit = held === undefined ? undefined : chainEdit(held, rules);
    if (edit !== undefined) edits.set(name, edit);
  }
  const rewritten = changed.filter(([name]) => !edits.has(name));
  const edited = [...edits];
  const removed = [...from.chains.keys()].filter((name) => !to.chains.has(name));
  // A jump that a rule not ours precedes is put first again: every copy of
  // it goes, and the copies wanted come back at the top.
  const reseated = new Set(from.buried.map(jumpKey));
  const settled = from.jumps.filter((j) => !reseated.has(jumpKey(j)));
  const surplus = [...jumpsBeyond(settled, to.jumps), ...from.jumps.filter((j) => reseated.has(jumpKey(j)))];
  const missing = jumpsBeyond(to.jumps, settled);
  return [
    ...rewritten.map(([name]) => `:${name} - [0:0]`),
    ...removed.map((name) => `:${name} - [0:0]`),
    ...edited.flatMap(([name, edit]) => edit.deleted.map((rule) => `-D ${name} ${rule}`)),
    ...surplus.map((j) => `-D ${j.chain} ${j.rule}`),
    ...removed.map((name) => `-X ${name}`),
    ...rewritten.flatMap(([name, rules]) => rules.map((rule) => `-A ${name} ${rule}`)),
    ...edited.flatMap(([name, edit]) => edit.inserted.map(({ at, rule }) => (at === 'end' ? `-A ${name} ${rule}` : `-I ${name} ${at} ${rule}`))),
    ...missing.map((j) => `-I ${j.chain} 1 ${j.rule}`),
  ];
}

/**
 * How a plan changes a chain whose rules changed: `edit` in place where it
 * can, for a plan from a rendering of ours; `rewrite` it, for a plan from
 * what the kernel holds, where a chain of ours may hold a rule someone else
 * put there, which iptables-save may print in a form iptables-restore
 * cannot take back (a rule iptables-nft cannot translate): a rewrite never
 * names the old rules.
 */
export type ChainChanges = 'edit' | 'rewrite';

/** The changes from `from` to `to`, per table; tables with nothing to change are left out. */
export function planChanges(from: OwnedRuleset, to: OwnedRuleset, how: ChainChanges = 'rewrite'): TableChanges[] {
  return TABLES.map((table) => ({ table, lines: tableChanges(from[table], to[table], how) })).filter((c) => c.lines.length > 0);
}

/** The iptables-restore input of `changes`: one `*table` ... `COMMIT` block per table. */
export function formatRestore(changes: readonly TableChanges[]): string {
  return changes.map((c) => [`*${c.table}`, ...c.lines, 'COMMIT', ''].join('\n')).join('');
}

/** The restore input `sync` sends to a kernel holding nothing of ours: the whole rendering of `state`. Pure. */
export function renderRestore(state: FirewallState): string {
  return formatRestore(planChanges(NOTHING, render(state)));
}
