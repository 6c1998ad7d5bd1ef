/**
 * The firewall backend of router-service on iptables: chains of its own,
 * all named `RS-...`, in the raw, nat and filter tables, entered by one
 * jump (commented `router-service`) from each built-in chain it hooks, and
 * changed by `iptables-restore --noflush` so that nothing else is flushed.
 * Works with Debian's iptables-nft and with iptables-legacy.
 */
import { silentLogger, type FirewallBackend, type Logger } from '@router-service/core';
import { BACKEND_NAME, IptablesFirewallBackend } from './backend.js';
import { execaIptablesRunner, type IptablesVariant } from './runner.js';

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
export { parseSave } from './save.js';

/** Options of `createIptablesFirewallBackend`. */
export interface IptablesFirewallBackendOptions {
  /** Which iptables programs to run. Default `auto`: /usr/sbin/iptables-restore and -save, as the alternatives system set them. */
  variant?: IptablesVariant;
  /** Run iptables in this named network namespace (`ip netns exec NS ...`, with /usr/sbin/ip). */
  netns?: string;
  log?: Logger;
}

/** A FirewallBackend that drives iptables-restore and iptables-save. */
export function createIptablesFirewallBackend(options: IptablesFirewallBackendOptions = {}): FirewallBackend {
  const run = execaIptablesRunner({ variant: options.variant ?? 'auto', netns: options.netns, ipPath: '/usr/sbin/ip' });
  return new IptablesFirewallBackend(run, options.log ?? silentLogger);
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
