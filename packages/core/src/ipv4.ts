/**
 * IPv4 addresses and prefixes as unsigned 32-bit numbers, parsed as strictly
 * as Go's net/netip: dotted quads without leading zeros, prefixes with a
 * decimal length. IPv6 is recognised only to be reported as such; an
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d) unmaps to its IPv4 address.
 */

/** An IPv4 network: `address` may hold host bits until masked. */
export interface IPv4Prefix {
  address: number;
  bits: number;
}

/** The result of parsing any IP address, after unmapping. */
export type ParsedAddress =
  | { family: 4; address: number }
  /** `text` is the canonical RFC 5952 form, for messages. */
  | { family: 6; text: string };

/** The result of parsing any CIDR prefix. */
export type ParsedPrefix = { family: 4; prefix: IPv4Prefix } | { family: 6 };

const DOTTED_QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const DECIMAL = /^(0|[1-9]\d{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Parses a dotted quad; undefined unless it is exactly four decimal octets. */
export function parseIPv4(s: string): number | undefined {
  const match = DOTTED_QUAD.exec(s);
  if (match === null) return undefined;
  let value = 0;
  for (const octet of match.slice(1)) {
    if (octet.length > 1 && octet.startsWith('0')) return undefined;
    const n = Number(octet);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  return value;
}

export function formatIPv4(address: number): string {
  return [address >>> 24, (address >>> 16) & 0xff, (address >>> 8) & 0xff, address & 0xff].join('.');
}

/** Parses the eight 16-bit groups of an IPv6 address, without a zone. */
function parseIPv6Groups(s: string): number[] | undefined {
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const parseHalf = (half: string, last: boolean): number[] | undefined => {
    if (half === '') return [];
    const groups: number[] = [];
    const parts = half.split(':');
    for (const [i, part] of parts.entries()) {
      if (last && i === parts.length - 1 && part.includes('.')) {
        const v4 = parseIPv4(part);
        if (v4 === undefined) return undefined;
        groups.push(v4 >>> 16, v4 & 0xffff);
      } else if (HEX_GROUP.test(part)) {
        groups.push(parseInt(part, 16));
      } else {
        return undefined;
      }
    }
    return groups;
  };
  if (halves.length === 1) {
    const groups = parseHalf(s, true);
    return groups?.length === 8 ? groups : undefined;
  }
  const head = parseHalf(halves[0] ?? '', false);
  const tail = parseHalf(halves[1] ?? '', true);
  if (head === undefined || tail === undefined || head.length + tail.length > 7) return undefined;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/** RFC 5952: lower-case hex, the first longest run of two or more zero groups as "::". */
function formatIPv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

function isMappedIPv4(groups: readonly number[]): boolean {
  return groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
}

/** Parses any IP address as Go's netip.ParseAddr followed by Unmap. */
export function parseAddress(s: string): ParsedAddress | undefined {
  const v4 = parseIPv4(s);
  if (v4 !== undefined) return { family: 4, address: v4 };
  const zoneAt = s.indexOf('%');
  if (zoneAt === 0 || zoneAt === s.length - 1) return undefined;
  const groups = parseIPv6Groups(zoneAt < 0 ? s : s.slice(0, zoneAt));
  if (groups === undefined) return undefined;
  if (isMappedIPv4(groups)) {
    return { family: 4, address: (((groups[6] ?? 0) << 16) | (groups[7] ?? 0)) >>> 0 };
  }
  return { family: 6, text: formatIPv6(groups) + (zoneAt < 0 ? '' : s.slice(zoneAt)) };
}

/** The text of a parsed address, as Go prints a netip.Addr. */
export function formatAddress(a: ParsedAddress): string {
  return a.family === 4 ? formatIPv4(a.address) : a.text;
}

/**
 * Parses a CIDR as Go's netip.ParsePrefix: an address without a zone, a
 * slash and a decimal length in range. Mapped IPv6 prefixes stay IPv6.
 */
export function parsePrefix(s: string): ParsedPrefix | undefined {
  const slash = s.lastIndexOf('/');
  if (slash < 0) return undefined;
  const addressText = s.slice(0, slash);
  const bitsText = s.slice(slash + 1);
  if (!DECIMAL.test(bitsText) || addressText.includes('%')) return undefined;
  const bits = Number(bitsText);
  const v4 = parseIPv4(addressText);
  if (v4 !== undefined) return bits <= 32 ? { family: 4, prefix: { address: v4, bits } } : undefined;
  return parseIPv6Groups(addressText) !== undefined && bits <= 128 ? { family: 6 } : undefined;
}

/** The netmask of a prefix length. */
export function mask(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/** The prefix with its host bits cleared. */
export function masked(p: IPv4Prefix): IPv4Prefix {
  return { address: (p.address & mask(p.bits)) >>> 0, bits: p.bits };
}

export function formatPrefix(p: IPv4Prefix): string {
  return `${formatIPv4(p.address)}/${p.bits}`;
}

/** Parses a prefix known to be canonical IPv4, such as one from the desired state. */
export function mustParseIPv4Prefix(s: string): IPv4Prefix {
  const parsed = parsePrefix(s);
  if (parsed?.family !== 4) throw new TypeError(`${s} is not an IPv4 prefix`);
  return parsed.prefix;
}

/** Parses an address known to be canonical IPv4, such as one from the desired state. */
export function mustParseIPv4(s: string): number {
  const parsed = parseIPv4(s);
  if (parsed === undefined) throw new TypeError(`${s} is not an IPv4 address`);
  return parsed;
}

export function contains(p: IPv4Prefix, address: number): boolean {
  return ((address & mask(p.bits)) >>> 0) === masked(p).address;
}

export function overlaps(a: IPv4Prefix, b: IPv4Prefix): boolean {
  const m = mask(Math.min(a.bits, b.bits));
  return ((a.address & m) >>> 0) === ((b.address & m) >>> 0);
}

/** The last address of the prefix. */
export function broadcast(p: IPv4Prefix): number {
  return (masked(p).address | ~mask(p.bits)) >>> 0;
}

/** The address after `address`; undefined past the top of the space, where Go's Next gives the zero address. */
export function nextAddress(address: number): number | undefined {
  return address === 0xffffffff ? undefined : address + 1;
}

/** Orders prefixes by address, then by length, as the desired state keeps them. */
export function comparePrefixes(a: IPv4Prefix, b: IPv4Prefix): number {
  return a.address - b.address || a.bits - b.bits;
}

/** Orders canonical IPv4 address strings numerically, the empty string (no address) first. */
export function compareAddresses(a: string, b: string): number {
  if (a === '' || b === '') return (a === '' ? 0 : 1) - (b === '' ? 0 : 1);
  return mustParseIPv4(a) - mustParseIPv4(b);
}
