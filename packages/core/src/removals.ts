/**
 * What a firewall change took away, for the connection tracker to forget:
 * flows the old rules let in must not outlive the rules, and flows that
 * began before a UDP port was published must not keep it from the mapping.
 */
import { sameItems } from './arrays.js';
import type { ConnectionRemovals, FirewallState, StrayFlows } from './backends.js';
import type { PortMapping } from './model.js';
import { portKeyText } from './store.js';

/** Removals that ask for nothing. */
export const NO_REMOVALS: ConnectionRemovals = { portMappings: [], subnets: [], published: [], strays: undefined };

/** Whether removals ask for nothing. */
export function isEmptyRemovals(removals: ConnectionRemovals): boolean {
  return removals.portMappings.length === 0 && removals.subnets.length === 0 && removals.published.length === 0 && removals.strays === undefined;
}

/**
 * What explains the DNATed flows into the networks of `state`, and into
 * `retired` subnets it no longer has: its mappings.
 */
function strayFlowsOf(state: FirewallState, retired: readonly string[] = []): StrayFlows {
  return { subnets: [...new Set([...subnetsOf(state), ...retired])], portMappings: state.portMappings };
}

/** The mappings whose earlier untranslated flows are forgotten when they are published: UDP (see ConnectionRemovals.published). */
function publishedUdp(mappings: Iterable<PortMapping>): PortMapping[] {
  return [...mappings].filter((m) => m.protocol === 'udp');
}

function sameMapping(a: PortMapping, b: PortMapping): boolean {
  return (
    a.hostPortEnd === b.hostPortEnd &&
    a.containerIp === b.containerIp &&
    a.containerPort === b.containerPort &&
    a.vlan === b.vlan &&
    sameItems(a.sources, b.sources)
  );
}

function subnetsOf(state: FirewallState): Set<string> {
  return new Set(state.networks.map((n) => n.network.subnet));
}

/**
 * The removals that keep only what still applies to `next`: mappings it
 * does not hold identically (gone, or changed in target, range or allowed
 * sources), subnets none of its networks has, published mappings it
 * still holds identically, and strays as `next` explains them, into its
 * subnets and the removed ones (whose mappings may be gone unforgotten).
 */
function stillRemoved(removals: ConnectionRemovals, next: FirewallState): ConnectionRemovals {
  const nextMappings = new Map(next.portMappings.map((m) => [portKeyText(m), m]));
  const holds = (m: PortMapping): boolean => {
    const kept = nextMappings.get(portKeyText(m));
    return kept !== undefined && sameMapping(kept, m);
  };
  const nextSubnets = subnetsOf(next);
  const subnets = removals.subnets.filter((subnet) => !nextSubnets.has(subnet));
  return {
    portMappings: removals.portMappings.filter((m) => !holds(m)),
    subnets,
    published: removals.published.filter(holds),
    strays: removals.strays === undefined ? undefined : strayFlowsOf(next, subnets),
  };
}

/**
 * The parts of two lists that differ: what lies between their longest
 * common prefix and suffix, compared by identity.
 */
function differingMiddles<T>(a: readonly T[], b: readonly T[]): [T[], T[]] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  return [a.slice(start, endA), b.slice(start, endB)];
}

/**
 * What going from `previous` to `next` removed, and which UDP mappings it
 * published. A mapping that changed counts as removed and as published:
 * its old flows followed the old rule, and a flow the new rule still
 * allows is tracked afresh by its next packet.
 *
 * The desired state replaces a mapping rather than changing it in place,
 * and keeps its mappings in one order, so the states of one change share
 * their mapping objects, mostly at the same places: only the stretch where
 * they differ is looked at, which keeps this cheap for large states.
 */
export function connectionRemovals(previous: FirewallState, next: FirewallState): ConnectionRemovals {
  const [before, after] = differingMiddles(previous.portMappings, next.portMappings);
  const kept = new Set(after);
  const held = new Set(before);
  const added = new Map<string, PortMapping>();
  for (const m of after) if (!held.has(m)) added.set(portKeyText(m), m);
  const nextSubnets = subnetsOf(next);
  const portMappings = before.filter((m) => {
    if (kept.has(m)) return false;
    const successor = added.get(portKeyText(m));
    // An equal copy is no change: its flows stand, and nothing new is published.
    if (successor !== undefined && sameMapping(successor, m)) {
      added.delete(portKeyText(m));
      return false;
    }
    return true;
  });
  return {
    portMappings,
    subnets: [...subnetsOf(previous)].filter((subnet) => !nextSubnets.has(subnet)),
    published: publishedUdp(added.values()),
    strays: undefined,
  };
}

/**
 * Removals for a firewall applied whole: what went away since `previous`,
 * and every UDP mapping of `next` as published, since the kernel may have
 * tracked flows to their ports while the rules were missing (before the
 * start, or while someone had flushed them). With no `previous` (the first
 * sync of a start), what went away while the service was down is not
 * known: the strays of `next` stand for it.
 */
export function wholeRemovals(previous: FirewallState | undefined, next: FirewallState): ConnectionRemovals {
  const published = publishedUdp(next.portMappings);
  if (previous === undefined) return { ...NO_REMOVALS, published, strays: strayFlowsOf(next) };
  return { ...connectionRemovals(previous, next), published };
}

/**
 * Removals still owed (a forget that failed earlier) joined with new ones,
 * without what `next` holds again (forgetting a re-added mapping's flows
 * would cut live traffic) and without published mappings `next` no longer
 * holds.
 */
export function pendingRemovals(owed: ConnectionRemovals, added: ConnectionRemovals, next: FirewallState): ConnectionRemovals {
  if (isEmptyRemovals(owed)) return added;
  const distinct = (mappings: readonly PortMapping[]): PortMapping[] => [...new Map(mappings.map((m) => [JSON.stringify(m), m])).values()];
  return stillRemoved(
    {
      portMappings: distinct([...owed.portMappings, ...added.portMappings]),
      subnets: [...new Set([...owed.subnets, ...added.subnets])],
      published: distinct([...owed.published, ...added.published]),
      strays: owed.strays ?? added.strays,
    },
    next,
  );
}
