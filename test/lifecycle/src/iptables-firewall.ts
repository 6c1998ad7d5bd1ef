/**
 * The iptables backend as the lifecycle tests see it: chains named RS-...
 * and the jumps into them, read with the iptables-save the alternatives
 * system chose, as the backend's default does.
 */
import { createIptablesFirewallBackend, isOwnedChain } from '@router-service/backend-iptables';
import type { Netns } from '@router-service/test-support';
import { execIn, type FirewallUnderTest } from './firewall-under-test.js';

const IPTABLES = '/usr/sbin/iptables';
const IPTABLES_SAVE = '/usr/sbin/iptables-save';
const FOREIGN_CHAIN = 'FOREIGN-LIFECYCLE';

/** One rule or chain of an iptables-save listing, with its table. */
interface SavedLine {
  readonly table: string;
  readonly text: string;
}

/** iptables-save's lines with their tables, counters dropped (they change with traffic). */
async function iptablesSave(ns: Netns): Promise<SavedLine[]> {
  const lines: SavedLine[] = [];
  let table = '';
  for (const line of (await execIn(ns, IPTABLES_SAVE, [])).split('\n')) {
    if (line.startsWith('*')) table = line.slice(1);
    else if (line.startsWith(':') || line.startsWith('-A ')) lines.push({ table, text: line.replace(/ \[\d+:\d+\]$/, '') });
  }
  return lines;
}

/** The chain a rule is in and the chain it jumps or goes to, if any. */
function ruleChains(text: string): { chain: string; target: string | undefined } {
  const words = text.split(' ');
  const jump = words.findIndex((word) => word === '-j' || word === '-g');
  return { chain: words[1] ?? '', target: jump < 0 ? undefined : words[jump + 1] };
}

function isOurs(line: SavedLine): boolean {
  if (line.text.startsWith(':')) return isOwnedChain(line.text.slice(1));
  const { chain, target } = ruleChains(line.text);
  return isOwnedChain(chain) || (target !== undefined && isOwnedChain(target));
}

export const IPTABLES_FIREWALL: FirewallUnderTest = {
  name: 'iptables',
  library(netns) {
    // The same programs as the daemon's default (`auto`), and as the flush below.
    return createIptablesFirewallBackend({ netns });
  },
  async dump(ns) {
    return (await iptablesSave(ns))
      .filter(isOurs)
      .map((line) => `${line.table} ${line.text}`)
      .join('\n');
  },
  async copies(ns) {
    const jumps = new Map<string, number>();
    for (const line of await iptablesSave(ns)) {
      if (!line.text.startsWith('-A ')) continue;
      const { chain, target } = ruleChains(line.text);
      // Jumps from chains not ours into ours: each one exactly once.
      if (isOwnedChain(chain) || target === undefined || !isOwnedChain(target)) continue;
      const key = `${line.table} ${chain} -> ${target}`;
      jumps.set(key, (jumps.get(key) ?? 0) + 1);
    }
    return [...jumps].filter(([, count]) => count !== 1).map(([key, count]) => `${count} jumps ${key}, not 1`);
  },
  async flush(ns) {
    await execIn(ns, IPTABLES, ['-F']);
    await execIn(ns, IPTABLES, ['-t', 'nat', '-F']);
  },
  async addForeign(ns) {
    await execIn(ns, IPTABLES, ['-N', FOREIGN_CHAIN]);
    await execIn(ns, IPTABLES, ['-A', FOREIGN_CHAIN, '-p', 'tcp', '--dport', '4242', '-j', 'ACCEPT']);
    await execIn(ns, IPTABLES, ['-A', 'INPUT', '-j', FOREIGN_CHAIN]);
  },
  async foreign(ns) {
    return (await iptablesSave(ns))
      .filter((line) => line.text.includes(FOREIGN_CHAIN))
      .map((line) => `${line.table} ${line.text}`)
      .join('\n');
  },
};
