/**
 * The iptables-restore input that turns one set of our objects into
 * another, touching only what differs. It is run with `--noflush`, so that
 * nothing else in a table is flushed, and within a table it applies as one
 * commit: packets see either the old chains or the new ones.
 *
 * Per table, in this order:
 *   1. `:RS-X - [0:0]` for each chain that is new or whose rules changed:
 *      with --noflush this creates the chain, or flushes it if it exists;
 *   2. the same for each chain to remove, so that it is empty;
 *   3. `-D` for each jump (or surplus copy of one) to remove, so that
 *      nothing refers to the chains to remove;
 *   4. `-X` for each chain to remove;
 *   5. `-A` for the rules of each chain of step 1;
 *   6. `-I <chain> 1` for each missing jump: ours come first, and what they
 *      let through goes on to the rules that are not ours.
 * A table with nothing to change is left out.
 */
import type { FirewallState } from '@router-service/core';
import { render } from './render.js';
import { NOTHING, TABLES, countJumps, type JumpRule, type OwnedRuleset, type OwnedTable, type TableName } from './ruleset.js';

/** The restore commands of one table. */
export interface TableChanges {
  readonly table: TableName;
  readonly lines: readonly string[];
}

function sameRules(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return a !== undefined && a.length === b.length && a.every((rule, i) => rule === b[i]);
}

/** The copies of jumps that `a` holds beyond those of `b`. */
function jumpsBeyond(a: readonly JumpRule[], b: readonly JumpRule[]): JumpRule[] {
  const inB = countJumps(b);
  return [...countJumps(a)].flatMap(([key, { jump, copies }]) => Array<JumpRule>(Math.max(0, copies - (inB.get(key)?.copies ?? 0))).fill(jump));
}

function tableChanges(from: OwnedTable, to: OwnedTable): string[] {
  const rewritten = [...to.chains].filter(([name, rules]) => !sameRules(from.chains.get(name), rules));
  const removed = [...from.chains.keys()].filter((name) => !to.chains.has(name));
  const surplus = jumpsBeyond(from.jumps, to.jumps);
  const missing = jumpsBeyond(to.jumps, from.jumps);
  return [
    ...rewritten.map(([name]) => `:${name} - [0:0]`),
    ...removed.map((name) => `:${name} - [0:0]`),
    ...surplus.map((j) => `-D ${j.chain} ${j.rule}`),
    ...removed.map((name) => `-X ${name}`),
    ...rewritten.flatMap(([name, rules]) => rules.map((rule) => `-A ${name} ${rule}`)),
    ...missing.map((j) => `-I ${j.chain} 1 ${j.rule}`),
  ];
}

/** The changes from `from` to `to`, per table; tables with nothing to change are left out. */
export function planChanges(from: OwnedRuleset, to: OwnedRuleset): TableChanges[] {
  return TABLES.map((table) => ({ table, lines: tableChanges(from[table], to[table]) })).filter((c) => c.lines.length > 0);
}

/** The iptables-restore input of `changes`: one `*table` ... `COMMIT` block per table. */
export function formatRestore(changes: readonly TableChanges[]): string {
  return changes.map((c) => [`*${c.table}`, ...c.lines, 'COMMIT', ''].join('\n')).join('');
}

/** The restore input `sync` sends to a kernel holding nothing of ours: the whole rendering of `state`. Pure. */
export function renderRestore(state: FirewallState): string {
  return formatRestore(planChanges(NOTHING, render(state)));
}
