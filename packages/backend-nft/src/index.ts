/**
 * The firewall backend of router-service on nftables: one `inet
 * router_service` table holding NAT, isolation between networks, the
 * router's self-protection and published ports, replaced whole in one
 * `nft -j -f -` transaction on every sync and changed element by element on
 * every update. Nothing outside that table is read or changed.
 */
import { silentLogger, type FirewallBackend, type Logger } from '@router-service/core';
import { BACKEND_NAME, NftFirewallBackend } from './backend.js';
import { execaNftRunner } from './nft-runner.js';
import { NftSession } from './nft-session.js';

export { NftFirewallBackend, BACKEND_NAME, readTable } from './backend.js';
export { CHAINS, type ChainSpec } from './chains.js';
export { FAMILY, TABLE, planUpdate, render, renderTeardown, type UpdatePlan } from './render.js';
export { collapsePrefixes } from './sets.js';
export {
  describeDifference,
  formatSnapshot,
  parseListing,
  snapshotOf,
  type ChainSnapshot,
  type SetSnapshot,
  type TableSnapshot,
} from './snapshot.js';
export type { NftCommand, NftExpr, NftJson } from './nft-json.js';
export { execaNftRunner, type NftResult, type NftRunner, type NftRunnerOptions } from './nft-runner.js';
export { NftSession, type NftSessionOptions, type NftTransactor } from './nft-session.js';

/** Options of `createNftFirewallBackend`. */
export interface NftFirewallBackendOptions {
  /** The nft binary. Default /usr/sbin/nft. */
  nftPath?: string;
  /** Run nft in this named network namespace (`ip netns exec NS nft`, with /usr/sbin/ip). */
  netns?: string;
  log?: Logger;
}

/**
 * A FirewallBackend that drives nft: one `nft -f` per whole-table change
 * and per listing, and one long-lived `nft -i` for the element changes of
 * updates.
 */
export function createNftFirewallBackend(options: NftFirewallBackendOptions = {}): NftFirewallBackend {
  const nft = { nftPath: options.nftPath ?? '/usr/sbin/nft', netns: options.netns, ipPath: '/usr/sbin/ip' };
  const session = new NftSession(nft);
  return new NftFirewallBackend(execaNftRunner(nft), options.log ?? silentLogger, session.apply, () => session.close());
}

/** What the daemon hands a plugin's factory; the subset this plugin uses. */
export interface NftPluginContext {
  log: Logger;
}

/** The plugin the daemon loads for `firewall: @router-service/backend-nft`. */
const plugin = {
  kind: 'firewall' as const,
  name: BACKEND_NAME,
  create(context: NftPluginContext): FirewallBackend {
    return createNftFirewallBackend({ log: context.log });
  },
};

export default plugin;
