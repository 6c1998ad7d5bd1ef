/**
 * Reading what is ours out of `iptables-save -t <table>`: our chains
 * (isOwnedChain) with their rules, and the rules carrying our comment in
 * chains that are not ours, noting those that a rule not ours precedes.
 * Everything else is skipped unread.
 */
import { isOwnedChain, isOwnedRule, type JumpRule, type OwnedTable } from './ruleset.js';

const CHAIN_LINE = /^:(\S+) /;
const RULE_LINE = /^-A (\S+) (.*)$/;

/** Our objects in the iptables-save output of one table. */
export function parseSave(output: string): OwnedTable {
  const chains = new Map<string, string[]>();
  const jumps: JumpRule[] = [];
  const buried: JumpRule[] = [];
  /** The chains not ours in which a rule not ours has come. */
  const overtaken = new Set<string>();
  for (const line of output.split('\n')) {
    const declared = CHAIN_LINE.exec(line);
    if (declared !== null) {
      const name = declared[1] ?? '';
      if (isOwnedChain(name)) chains.set(name, []);
      continue;
    }
    const appended = RULE_LINE.exec(line);
    if (appended === null) continue;
    const [, chain = '', rule = ''] = appended;
    if (isOwnedChain(chain)) chains.get(chain)?.push(rule);
    else if (!isOwnedRule(rule)) overtaken.add(chain);
    else {
      jumps.push({ chain, rule });
      if (overtaken.has(chain)) buried.push({ chain, rule });
    }
  }
  return { chains, jumps, buried };
}
