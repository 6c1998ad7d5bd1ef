/**
 * The firewall backend of router-service on iptables: chains of its own,
 * all named `RS-...`, in the raw, nat and filter tables, entered by one
 * jump (commented `router-service`) from each built-in chain it hooks, and
 * changed by `iptables-restore --noflush` so that nothing else is flushed.
 * Works with Debian's iptables-nft and with iptables-legacy.
 */
import { silentLogger, type FirewallBackend, type Logger } from '@router-service/core';
import { BACKEND_NAME, IptablesFirewallBackend, RESTORE_ARGS } from './backend.js';
import { RestoreSession } from './restore-session.js';
import { VARIANT_TOOLS, execaIptablesRunner, type IptablesVariant } from './runner.js';

export { BACKEND_NAME, IptablesFirewallBackend, RESTORE_ARGS } from './backend.js';
export { describeDrift } from './drift.js';
export { DNAT_BUCKET_PORTS, DNAT_CHAIN, bucketChain } from './dnat-tree.js';
export { HOOKS, collapsePrefixes, render, renderChange, type Hook } from './render.js';
export { formatRestore, planChanges, renderRestore, type ChainChanges, type TableChanges } from './restore.js';
export {
  COMMENT,
  NOTHING,
  TABLES,
  isOwnedChain,
  isOwnedRule,
  jumpRule,
  type JumpRule,
  type OwnedRuleset,
  type OwnedTable,
  type TableName,
} from './ruleset.js';
export {
  VARIANT_TOOLS,
  execaIptablesRunner,
  type IptablesResult,
  type IptablesRunner,
  type IptablesRunnerOptions,
  type IptablesTool,
  type IptablesVariant,
} from './runner.js';
export { RestoreSession, rebaseLineNumbers, type IptablesRestorer, type RestoreSessionOptions } from './restore-session.js';
export { parseSave } from './save.js';

/** Options of `createIptablesFirewallBackend`. */
export interface IptablesFirewallBackendOptions {
  /** Which iptables programs to run. Default `auto`: /usr/sbin/iptables-restore and -save, as the alternatives system set them. */
  variant?: IptablesVariant;
  /** Run iptables in this named network namespace (`ip netns exec NS ...`, with /usr/sbin/ip). */
  netns?: string;
  log?: Logger;
}

/**
 * A FirewallBackend that drives iptables: one iptables-save per table read,
 * and one long-lived iptables-restore for every change.
 */
export function createIptablesFirewallBackend(options: IptablesFirewallBackendOptions = {}): IptablesFirewallBackend {
  const variant = options.variant ?? 'auto';
  const ipPath = '/usr/sbin/ip';
  const session = new RestoreSession({ restorePath: VARIANT_TOOLS[variant].restore, args: RESTORE_ARGS, netns: options.netns, ipPath });
  const run = execaIptablesRunner({ variant, netns: options.netns, ipPath });
  return new IptablesFirewallBackend(run, options.log ?? silentLogger, session.apply, () => session.close());
}

/** What the daemon hands a plugin's factory; the subset this plugin uses. */
export interface IptablesPluginContext {
  log: Logger;
}

/** The plugin the daemon loads for `firewall: iptables`. */
const plugin = {
  kind: 'firewall' as const,
  name: BACKEND_NAME,
  create(context: IptablesPluginContext): FirewallBackend {
    return createIptablesFirewallBackend({ log: context.log });
  },
};

export default plugin;
