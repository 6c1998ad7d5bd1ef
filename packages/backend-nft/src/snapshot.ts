/**
 * The table as a value that compares: what `nft -j list table` shows, or
 * what a state renders to, reduced to declarations, rules in order and
 * sorted elements, as canonical JSON, with nft's handles dropped. Drift is
 * the difference of two snapshots; a test's dump is one printed.
 */
import type { FirewallState } from '@router-service/core';
import { CHAINS, chainRules } from './chains.js';
import { canonicalJson, type NftExpr } from './nft-json.js';
import { sets } from './sets.js';

/** A set or map: its declaration and its elements, sorted. */
export interface SetSnapshot {
  readonly declaration: string;
  readonly elements: readonly string[];
}

/** A chain: its declaration (hook, priority, policy) and its rules in order. */
export interface ChainSnapshot {
  readonly declaration: string;
  readonly rules: readonly string[];
}

/** What one table holds. */
export interface TableSnapshot {
  readonly sets: ReadonlyMap<string, SetSnapshot>;
  readonly chains: ReadonlyMap<string, ChainSnapshot>;
  /** Objects of other kinds (flowtables, counters, ...), as `kind name`: the renderer makes none. */
  readonly others: readonly string[];
}

type JsonRecord = { readonly [key: string]: NftExpr };

function setDeclaration(kind: string, type: NftExpr, map: NftExpr | undefined, flags: NftExpr | undefined): string {
  return canonicalJson({ kind, type, map: map ?? null, flags: flags ?? [] });
}

function chainDeclaration(c: JsonRecord): string {
  return canonicalJson({ type: c.type ?? null, hook: c.hook ?? null, prio: c.prio ?? null, policy: c.policy ?? null });
}

const sortedElements = (elem: readonly NftExpr[]): string[] => elem.map(canonicalJson).sort();

/** The snapshot of the table `state` renders to. */
export function snapshotOf(state: FirewallState): TableSnapshot {
  const rules = chainRules(state.uplink);
  return {
    sets: new Map(
      sets(state).map((s) => [
        s.name,
        {
          declaration: setDeclaration(s.map === undefined ? 'set' : 'map', s.type, s.map, s.interval === true ? ['interval'] : undefined),
          elements: sortedElements(s.elem),
        },
      ]),
    ),
    chains: new Map(
      CHAINS.map((c) => [
        c.name,
        { declaration: chainDeclaration({ type: c.type, hook: c.hook, prio: c.prio, policy: 'accept' }), rules: (rules[c.name] ?? []).map(canonicalJson) },
      ]),
    ),
    others: [],
  };
}

function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The snapshot of one table from the stdout of `nft -j list table FAMILY NAME`. */
export function parseListing(stdout: string): TableSnapshot {
  const listing: unknown = JSON.parse(stdout);
  if (!isRecord(listing) || !Array.isArray(listing.nftables)) throw new Error('nft -j list printed no "nftables" array');
  const setsByName = new Map<string, SetSnapshot>();
  const chains = new Map<string, { declaration: string; rules: string[] }>();
  const rules: Array<{ chain: string; expr: NftExpr }> = [];
  const others: string[] = [];
  for (const entry of listing.nftables as readonly unknown[]) {
    if (!isRecord(entry)) continue;
    for (const [kind, body] of Object.entries(entry)) {
      if (kind === 'metainfo' || kind === 'table' || !isRecord(body)) continue;
      const name = String(body.name ?? '');
      if (kind === 'set' || kind === 'map') {
        const elem = Array.isArray(body.elem) ? (body.elem as readonly NftExpr[]) : [];
        setsByName.set(name, { declaration: setDeclaration(kind, body.type ?? null, body.map, body.flags), elements: sortedElements(elem) });
      } else if (kind === 'chain') {
        chains.set(name, { declaration: chainDeclaration(body), rules: [] });
      } else if (kind === 'rule') {
        rules.push({ chain: String(body.chain ?? ''), expr: body.expr ?? [] });
      } else {
        others.push(`${kind} ${name}`);
      }
    }
  }
  // nft lists every chain before any rule.
  for (const rule of rules) chains.get(rule.chain)?.rules.push(canonicalJson(rule.expr));
  return { sets: setsByName, chains, others };
}

function difference(a: readonly string[], b: ReadonlySet<string>): number {
  return a.filter((x) => !b.has(x)).length;
}

/** What `actual` has of kind `what` that `expected` has not, and the reverse, as parts of an account. */
function compareNames(what: string, expected: ReadonlyMap<string, unknown>, actual: ReadonlyMap<string, unknown>): string[] {
  return [
    ...[...expected.keys()].filter((n) => !actual.has(n)).map((n) => `${what} ${n} missing`),
    ...[...actual.keys()].filter((n) => !expected.has(n)).map((n) => `${what} ${n} unexpected`),
  ];
}

/** A short account, for a person, of how `actual` differs from `expected`; "" when it does not. */
export function describeDifference(expected: TableSnapshot, actual: TableSnapshot): string {
  const parts = [...compareNames('chain', expected.chains, actual.chains), ...compareNames('set', expected.sets, actual.sets)];
  for (const [name, want] of expected.chains) {
    const have = actual.chains.get(name);
    if (have === undefined) continue;
    if (have.declaration !== want.declaration) parts.push(`chain ${name} declared differently`);
    if (canonicalJson(have.rules) !== canonicalJson(want.rules)) {
      const counts = have.rules.length === want.rules.length ? '' : ` (${have.rules.length} listed, ${want.rules.length} expected)`;
      parts.push(`chain ${name} rules differ${counts}`);
    }
  }
  for (const [name, want] of expected.sets) {
    const have = actual.sets.get(name);
    if (have === undefined) continue;
    if (have.declaration !== want.declaration) parts.push(`set ${name} declared differently`);
    const missing = difference(want.elements, new Set(have.elements));
    const unexpected = difference(have.elements, new Set(want.elements));
    if (missing > 0 || unexpected > 0) parts.push(`set ${name}: ${missing} missing, ${unexpected} unexpected`);
  }
  parts.push(...actual.others.map((o) => `unexpected ${o}`));
  return parts.join('; ');
}

/** The snapshot as stable text, one declaration, rule or element per line: equal tables print equal. */
export function formatSnapshot(snapshot: TableSnapshot): string {
  const byName = <T>(map: ReadonlyMap<string, T>) => [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const lines: string[] = [];
  for (const [name, s] of byName(snapshot.sets)) lines.push(`set ${name} ${s.declaration}`, ...s.elements.map((e) => `  ${e}`));
  for (const [name, c] of byName(snapshot.chains)) lines.push(`chain ${name} ${c.declaration}`, ...c.rules.map((r) => `  ${r}`));
  lines.push(...[...snapshot.others].sort());
  return lines.join('\n');
}
