/**
 * One iptables rule in the canonical form iptables-save prints (the same
 * for iptables-nft and iptables-legacy 1.8.9): source, destination, input
 * and output interface, protocol, then matches, then the target. Writing
 * rules in that form lets what the kernel holds be compared with a
 * rendering as text.
 */

/** The parts of a rule, each optional but the target. */
export interface RuleSpec {
  /** Source CIDR (`-s`). */
  readonly source?: string;
  /** Source CIDR the packet must NOT come from (`! -s`). */
  readonly notSource?: string;
  /** Destination CIDR (`-d`). */
  readonly destination?: string;
  /** Input interface (`-i`). */
  readonly in?: string;
  /** Output interface (`-o`). */
  readonly out?: string;
  /** Protocol (`-p`). */
  readonly protocol?: string;
  /** Match modules and their options, e.g. `-m conntrack --ctstate DNAT`. */
  readonly matches?: string;
  /** What `-j` names, with its options, e.g. `DNAT --to-destination 172.18.0.2:80`. */
  readonly target: string;
}

/** The rule as iptables-save prints it after `-A <chain> `. */
export function formatRule(spec: RuleSpec): string {
  const parts: string[] = [];
  if (spec.notSource !== undefined) parts.push('!', '-s', spec.notSource);
  if (spec.source !== undefined) parts.push('-s', spec.source);
  if (spec.destination !== undefined) parts.push('-d', spec.destination);
  if (spec.in !== undefined) parts.push('-i', spec.in);
  if (spec.out !== undefined) parts.push('-o', spec.out);
  if (spec.protocol !== undefined) parts.push('-p', spec.protocol);
  if (spec.matches !== undefined) parts.push(spec.matches);
  parts.push('-j', spec.target);
  return parts.join(' ');
}

/** A host address as iptables prints it: with its /32. */
export function host(address: string): string {
  return `${address}/32`;
}

/** `--dport 80` or `--dport 8000:8099`, with the protocol's match module. */
export function dport(protocol: string, first: number, last: number = first): string {
  return `-m ${protocol} --dport ${first === last ? first : `${first}:${last}`}`;
}
