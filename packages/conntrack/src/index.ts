/**
 * The ConnectionTracker of router-service on conntrack-tools: after a port
 * mapping is unpublished or a network deleted, it deletes their conntrack
 * entries, so that established flows stop instead of living on through
 * the NAT the entry remembers; after a UDP port is published, it deletes
 * the untranslated, unanswered entries to it, so that a sender that began
 * before reaches the container too.
 */
import { silentLogger, type ConnectionTracker, type Logger } from '@router-service/core';
import { execaConntrackRunner } from './conntrack-runner.js';
import { iproute2LocalAddresses } from './local-addresses.js';
import { ConntrackTracker } from './tracker.js';

export { ConntrackTracker, TRACKER_NAME } from './tracker.js';
export {
  DIRECT_DELETE_LIMIT,
  batchText,
  deleteMappingCommands,
  deletePortCommand,
  deleteDnatedCommand,
  deleteFlowCommand,
  deleteSubnetCommands,
  deleteUntranslatedCommand,
  listCommand,
  listNatCommand,
  type ConntrackCommand,
} from './commands.js';
export { allows, dnatedBy, explains, parseEntries, shadows, untranslated, type ConntrackEntry, type FlowTuple } from './entries.js';
export { iproute2LocalAddresses, parseLocalRoutes, type LocalAddresses, type LocalAddressesOptions } from './local-addresses.js';
export { execaConntrackRunner, type ConntrackResult, type ConntrackRunner, type ConntrackRunnerOptions } from './conntrack-runner.js';

/** The conntrack binary of Debian's conntrack package. */
export const DEFAULT_CONNTRACK_PATH = '/usr/sbin/conntrack';

/** Options of `createConntrackTracker`. */
export interface ConntrackTrackerOptions {
  /** The conntrack binary. Default /usr/sbin/conntrack. */
  conntrackPath?: string;
  /** Run conntrack (and read the local addresses) in this named network namespace (`ip netns exec NS conntrack`, with /usr/sbin/ip). */
  netns?: string;
  log?: Logger;
}

/** A ConnectionTracker that drives conntrack. */
export function createConntrackTracker(options: ConntrackTrackerOptions = {}): ConnectionTracker {
  const ipPath = '/usr/sbin/ip';
  const run = execaConntrackRunner({ conntrackPath: options.conntrackPath ?? DEFAULT_CONNTRACK_PATH, netns: options.netns, ipPath });
  return new ConntrackTracker(run, iproute2LocalAddresses({ ipPath, netns: options.netns }), options.log ?? silentLogger);
}
