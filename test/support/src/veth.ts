/** veth pairs, the virtual cables the tests wire namespaces together with. */

/** One end of a veth pair. */
export interface VethEnd {
  readonly name: string;
  /** The namespace this end goes into; without it, the one `ip` runs in. */
  readonly netns?: string;
  readonly mtu?: number;
}

/**
 * The `ip link add` arguments that create a veth pair, for `ip` or `ip -n NS`.
 * Passing a peer's netns creates it there directly, so no half-wired pair
 * is ever visible.
 */
export function vethArgs(end: VethEnd, peer: VethEnd): string[] {
  return ['link', 'add', end.name, ...endOptions(end), 'type', 'veth', 'peer', 'name', peer.name, ...endOptions(peer)];
}

function endOptions(end: VethEnd): string[] {
  return [...(end.netns === undefined ? [] : ['netns', end.netns]), ...(end.mtu === undefined ? [] : ['mtu', String(end.mtu)])];
}
