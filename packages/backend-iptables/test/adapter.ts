// How the shared behaviour suite looks at and disturbs what this backend
// owns, for one iptables variant: through iptables-save, iptables-restore
// and iptables itself, in the router's namespace.
import type { FirewallSuiteAdapter } from '@router-service/firewall-suite';
import { IP, netnsExecArgv, runChecked } from '@router-service/test-support';
import {
  RESTORE_ARGS,
  TABLES,
  createIptablesFirewallBackend,
  execaIptablesRunner,
  isOwnedChain,
  isOwnedRule,
  parseSave,
  type IptablesTool,
} from '../src/index.js';

export type TestedVariant = 'nft' | 'legacy';

/** Runs iptables-`variant`-save or -restore in `netns`, which must succeed; returns what it printed. */
async function runTool(variant: TestedVariant, netns: string, tool: IptablesTool, args: readonly string[], input?: string): Promise<string> {
  const result = await execaIptablesRunner({ variant, netns, ipPath: IP })(tool, args, input);
  if (result.exitCode !== 0) throw new Error(`iptables-${variant}-${tool} ${args.join(' ')} in ${netns}: ${result.stderr}`);
  return result.stdout;
}

/**
 * Chains and rules that are not ours and that no suite test touches:
 * 203.0.113.0/24 is never a probe's address. RS-LOG is named like ours
 * but is not.
 */
const FOREIGN = `*raw
:FOREIGN-RAW - [0:0]
-A PREROUTING -s 203.0.113.0/24 -j FOREIGN-RAW
-A FOREIGN-RAW -s 203.0.113.0/24 -j ACCEPT
COMMIT
*nat
:FOREIGN - [0:0]
-A PREROUTING -s 203.0.113.0/24 -j FOREIGN
-A POSTROUTING -s 203.0.113.0/24 -o eth0 -j MASQUERADE
-A FOREIGN -s 203.0.113.0/24 -j RETURN
COMMIT
*filter
:FOREIGN - [0:0]
:RS-LOG - [0:0]
-A INPUT -s 203.0.113.0/24 -j FOREIGN
-A INPUT -s 203.0.113.0/24 -j RS-LOG
-A FORWARD -s 203.0.113.0/24 -j FOREIGN
-A OUTPUT -d 203.0.113.0/24 -m comment --comment "not router-service" -j DROP
-A FOREIGN -s 203.0.113.0/24 -j DROP
-A RS-LOG -s 203.0.113.0/24 -j RETURN
COMMIT
`;

/** One jump removed, one copied, a rule of ours dropped, a stray chain of ours (a bucket not in use) with a jump into it. */
const DAMAGE = `*nat
:RS-DNAT-sctp-65280-65535 - [0:0]
-A RS-DNAT-sctp-65280-65535 -j RETURN
-A PREROUTING -m comment --comment router-service -j RS-DNAT-sctp-65280-65535
-A OUTPUT -m comment --comment router-service -j RS-OUTPUT
COMMIT
*filter
-D INPUT -m comment --comment router-service -j RS-INPUT
-D RS-FORWARD 1
COMMIT
`;

/** Another tool's rules that accept everything, put first in (or deleted from) the built-in chains our filter jumps leave from. */
function overtaking(command: '-I' | '-D'): string {
  const at = command === '-I' ? ' 1' : '';
  return `*filter\n${command} INPUT${at} -j ACCEPT\n${command} FORWARD${at} -j ACCEPT\nCOMMIT\n`;
}

/** The suite's adapter for the backend driving iptables-`variant`. */
export function iptablesSuiteAdapter(variant: TestedVariant): FirewallSuiteAdapter {
  const save = (netns: string, table: string) => runTool(variant, netns, 'save', ['-t', table]);
  const restore = (netns: string, input: string) => runTool(variant, netns, 'restore', RESTORE_ARGS, input);
  return {
    make: (netns) => createIptablesFirewallBackend({ variant, netns }),
    // Our chains with their rules and our jumps, every copy, as iptables-save lists them (chains by name).
    async dump(netns) {
      const lines: string[] = [];
      for (const table of TABLES) {
        const owned = parseSave(await save(netns, table));
        for (const jump of owned.jumps) lines.push(`${table} -A ${jump.chain} ${jump.rule}`);
        for (const [chain, rules] of owned.chains) lines.push(`${table} :${chain}`, ...rules.map((rule) => `${table} -A ${chain} ${rule}`));
      }
      return lines.join('\n');
    },
    async flush(netns) {
      for (const table of TABLES) {
        const argv = netnsExecArgv(netns, `/usr/sbin/iptables-${variant}`, ['-w', '-t', table, '-F']);
        await runChecked(argv.file, argv.args);
      }
    },
    damage: (netns) => restore(netns, DAMAGE).then(() => undefined),
    addForeign: (netns) => restore(netns, FOREIGN).then(() => undefined),
    async overtake(netns) {
      await restore(netns, overtaking('-I'));
      return () => restore(netns, overtaking('-D')).then(() => undefined);
    },
    // Everything iptables-save lists that is not ours, but the built-in chains' counters.
    async dumpForeign(netns) {
      const lines: string[] = [];
      for (const table of TABLES) {
        for (const line of (await save(netns, table)).split('\n')) {
          const chain = /^:(\S+) - /.exec(line)?.[1];
          if (chain !== undefined && !isOwnedChain(chain)) lines.push(`${table} ${line}`);
          const rule = /^-A (\S+) (.*)$/.exec(line);
          if (rule !== null && !isOwnedChain(rule[1] ?? '') && !isOwnedRule(rule[2] ?? '')) lines.push(`${table} ${line}`);
        }
      }
      return lines.join('\n');
    },
  };
}
