/**
 * A short account, for a person, of how what the kernel holds of ours
 * differs from a rendering: "" when they are equal.
 */
import { TABLES, countJumps, jumpKey, type JumpRule, type OwnedRuleset, type OwnedTable, type TableName } from './ruleset.js';

/** At most this many differences are named; the rest are counted. */
const MAX_NAMED = 5;

/** The rules of `a` that `b` lacks, copies counted. */
function missingFrom(a: readonly string[], b: readonly string[]): number {
  const left = new Map<string, number>();
  for (const rule of b) left.set(rule, (left.get(rule) ?? 0) + 1);
  let missing = 0;
  for (const rule of a) {
    const n = left.get(rule) ?? 0;
    if (n === 0) missing++;
    else left.set(rule, n - 1);
  }
  return missing;
}

function ruleCount(n: number): string {
  return n === 1 ? '1 rule' : `${n} rules`;
}

function chainDifference(actual: readonly string[], expected: readonly string[]): string | undefined {
  const lacking = missingFrom(expected, actual);
  const extra = missingFrom(actual, expected);
  if (lacking + extra > 0) return [lacking > 0 ? `${ruleCount(lacking)} missing` : '', extra > 0 ? `${ruleCount(extra)} not rendered` : ''].filter(Boolean).join(', ');
  return actual.every((rule, i) => rule === expected[i]) ? undefined : 'rules out of order';
}

function jumpTarget(jump: JumpRule): string {
  return / -j (\S+)$/.exec(jump.rule)?.[1] ?? jump.rule;
}

function tableDifferences(table: TableName, actual: OwnedTable, expected: OwnedTable): string[] {
  const differences: string[] = [];
  for (const [name, rules] of expected.chains) {
    const held = actual.chains.get(name);
    const difference = held === undefined ? 'missing' : chainDifference(held, rules);
    if (difference !== undefined) differences.push(`${table} chain ${name}: ${difference}`);
  }
  for (const name of actual.chains.keys()) if (!expected.chains.has(name)) differences.push(`${table} chain ${name}: not rendered`);
  const held = countJumps(actual.jumps);
  const wanted = countJumps(expected.jumps);
  const buried = new Set(actual.buried.map(jumpKey));
  for (const [key, { jump }] of new Map([...wanted, ...held])) {
    const have = held.get(key)?.copies ?? 0;
    const want = wanted.get(key)?.copies ?? 0;
    const what = `${table} jump ${jump.chain} -> ${jumpTarget(jump)}`;
    if (have !== want) differences.push(have === 0 ? `${what}: missing` : want === 0 ? `${what}: not rendered` : `${what}: ${have} copies`);
    else if (buried.has(key)) differences.push(`${what}: behind a rule that is not ours`);
  }
  return differences;
}

/** "" when `actual` equals `expected`, else the differences, the first few named. */
export function describeDrift(actual: OwnedRuleset, expected: OwnedRuleset): string {
  const differences = TABLES.flatMap((table) => tableDifferences(table, actual[table], expected[table]));
  const named = differences.slice(0, MAX_NAMED).join('; ');
  return differences.length > MAX_NAMED ? `${named}; and ${differences.length - MAX_NAMED} more` : named;
}
