/**
 * Networks as CreateVLAN defines them: validation of a request against the
 * uplink, overlap with other networks, and whether a changed spec still
 * fits what later calls attached to the network.
 */
import { sameItems } from './arrays.js';
import { checkContainerAddress, checkHostAddress, parseIPv4Network } from './addresses.js';
import { alreadyExists, invalid, precondition } from './errors.js';
import {
  formatIPv4,
  formatPrefix,
  masked,
  mustParseIPv4Prefix,
  nextAddress,
  overlaps,
  parseAddress,
  type IPv4Prefix,
} from './ipv4.js';
import {
  MAX_IFNAME_LENGTH,
  MAX_VLAN,
  MIN_MTU,
  MIN_VLAN,
  type Network,
  type NetworkSpec,
  type PortMapping,
} from './model.js';
import type { Uplink } from './backends.js';
import { formatPortKey, portTarget } from './ports.js';
import { isPrintable, quote } from './quote.js';
import { dnsConfigsEqual } from './dns.js';

/** The longest free-form network label, in bytes. */
export const MAX_NETWORK_NAME_LENGTH = 128;

/** A CreateVLAN request as received, before validation. */
export interface NetworkRequest {
  vlan: number;
  subnet: string;
  /** Empty: the subnet's first host address. */
  gateway: string;
  name: string;
  /** 0 follows the parent interface's MTU. */
  mtu: number;
  /** Absent means the default: on, unless the network is internal. */
  enableNat?: boolean | undefined;
  internal: boolean;
}

/** Checks that id is a usable 802.1Q VLAN id. */
export function validateVlanId(id: number): void {
  if (!Number.isInteger(id) || id < MIN_VLAN || id > MAX_VLAN) {
    throw invalid(`vlan_id ${id} is out of range: use ${MIN_VLAN} to ${MAX_VLAN}`);
  }
}

/** The kernel name of the network's VLAN link on parent. */
export function interfaceName(parent: string, vlan: number): string {
  return `${parent}.${vlan}`;
}

/** The gateway with the subnet's prefix length, as the link carries it. */
export function gatewayPrefix(n: NetworkSpec): string {
  return `${n.gateway}/${mustParseIPv4Prefix(n.subnet).bits}`;
}

/** Whether any traffic of the network is masqueraded. */
export function natEnabled(n: Network): boolean {
  return n.nat || n.natSources.length > 0;
}

/** Parses an IPv4 CIDR that names a network with room for a gateway and at least one container. */
export function parseSubnet(s: string): IPv4Prefix {
  const p = parseIPv4Network(s, 'subnet');
  if (p.bits > 30) {
    throw invalid(`subnet ${s} is too small: use a prefix of /30 or shorter to fit a gateway and a container`);
  }
  return p;
}

function validateNetworkName(name: string): void {
  const length = Buffer.byteLength(name, 'utf8');
  if (length > MAX_NETWORK_NAME_LENGTH) {
    throw invalid(`network_name is ${length} characters long: the limit is ${MAX_NETWORK_NAME_LENGTH}`);
  }
  if (!isPrintable(name)) {
    throw invalid(`network_name ${quote(name)} contains non-printable characters`);
  }
}

/**
 * Validates everything of a request that does not depend on the uplink or
 * on other networks, and returns the normalised spec.
 */
export function parseNetworkSpec(req: NetworkRequest): NetworkSpec {
  validateVlanId(req.vlan);
  if (req.internal && req.enableNat === true) {
    throw invalid(
      'an internal network has no route to the outside and cannot enable NAT: drop enable_nat or internal',
    );
  }
  validateNetworkName(req.name);
  const subnet = parseSubnet(req.subnet);
  let gateway: string;
  if (req.gateway === '') {
    gateway = formatIPv4(nextAddress(subnet.address) ?? 0);
  } else {
    const gw = parseAddress(req.gateway);
    if (gw === undefined) throw invalid(`gateway ${quote(req.gateway)} is not an IP address`);
    checkHostAddress(subnet, gw, 'gateway');
    gateway = formatIPv4(gw.address);
  }
  if (!Number.isInteger(req.mtu) || req.mtu < 0) {
    throw invalid(`mtu ${req.mtu} is out of range: use ${MIN_MTU} or more, or 0 for the parent's MTU`);
  }
  return {
    vlan: req.vlan,
    name: req.name,
    subnet: formatPrefix(subnet),
    gateway,
    mtu: req.mtu,
    nat: !req.internal && req.enableNat !== false,
    internal: req.internal,
  };
}

/** Checks a spec against the parent interface it will live on. */
export function checkNetworkOnUplink(n: NetworkSpec, up: Uplink): void {
  const name = interfaceName(up.name, n.vlan);
  if (name.length > MAX_IFNAME_LENGTH) {
    throw invalid(
      `interface name ${quote(name)} is longer than the kernel's limit of ${MAX_IFNAME_LENGTH} characters: use a parent interface with a shorter name`,
    );
  }
  if (n.mtu !== 0 && (n.mtu < MIN_MTU || n.mtu > up.mtu)) {
    throw invalid(
      `mtu ${n.mtu} is out of range for parent ${up.name}: use ${MIN_MTU} to ${up.mtu}, or 0 for the parent's MTU`,
    );
  }
  const subnet = mustParseIPv4Prefix(n.subnet);
  for (const uplinkPrefix of up.prefixes) {
    const p = mustParseIPv4Prefix(uplinkPrefix);
    if (overlaps(p, subnet)) {
      throw invalid(
        `subnet ${n.subnet} overlaps the uplink ${up.name} network ${formatPrefix(masked(p))}: choose a subnet outside it`,
      );
    }
  }
}

/**
 * Validates req against the uplink it will live on and returns the
 * normalised spec. Other networks are not checked; see checkOverlap.
 */
export function parseNetwork(req: NetworkRequest, up: Uplink): NetworkSpec {
  const spec = parseNetworkSpec(req);
  checkNetworkOnUplink(spec, up);
  return spec;
}

/**
 * Rejects n when its subnet overlaps the subnet of another network in
 * existing; the network with n's own VLAN id is skipped, as n replaces it.
 */
export function checkOverlap(n: NetworkSpec, existing: Iterable<Network>): void {
  const subnet = mustParseIPv4Prefix(n.subnet);
  for (const o of existing) {
    if (o.vlan !== n.vlan && overlaps(mustParseIPv4Prefix(o.subnet), subnet)) {
      throw alreadyExists(
        `subnet ${n.subnet} overlaps subnet ${o.subnet} of VLAN ${o.vlan}: choose a subnet that no other network uses`,
      );
    }
  }
}

export function specsEqual(a: NetworkSpec, b: NetworkSpec): boolean {
  return (
    a.vlan === b.vlan &&
    a.name === b.name &&
    a.subnet === b.subnet &&
    a.gateway === b.gateway &&
    a.mtu === b.mtu &&
    a.nat === b.nat &&
    a.internal === b.internal
  );
}

/** Whether two networks have the same desired state. */
export function networksEqual(a: Network, b: Network): boolean {
  return (
    specsEqual(a, b) &&
    sameItems(a.natSources, b.natSources) &&
    dnsConfigsEqual(a.dns, b.dns)
  );
}

/** Renders a list of prefixes as Go's %v does: "[192.0.2.0/24 10.0.0.0/8]". */
function formatList(items: readonly string[]): string {
  return `[${items.join(' ')}]`;
}

/**
 * Checks that the network's NAT sources, DNS records and the given port
 * mappings still fit after its spec changes to spec: a subnet change must
 * not strand containers outside it, and an internal network has no NAT.
 */
export function checkAttachmentsFit(n: Network, spec: NetworkSpec, ports: readonly PortMapping[]): void {
  if (spec.internal && n.natSources.length > 0) {
    throw precondition(
      `VLAN ${n.vlan} masquerades ${formatList(n.natSources)}: remove that NAT before making the network internal`,
    );
  }
  for (const m of ports) {
    const ip = parseAddress(m.containerIp);
    try {
      if (ip === undefined) throw invalid(`container_ip ${quote(m.containerIp)} is not an IP address`);
      checkContainerAddress(spec, ip);
    } catch (err) {
      throw precondition(
        `port mapping ${formatPortKey(m)} -> ${portTarget(m)} would not fit the new spec (${(err as Error).message}): remove it first`,
      );
    }
  }
  if (n.dns === null) return;
  const subnet = mustParseIPv4Prefix(spec.subnet);
  const records = Object.entries(n.dns.hosts)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .flatMap(([name, addresses]) => addresses.map((address) => [name, address] as const));
  for (const [name, address] of records) {
    const ip = parseAddress(address);
    try {
      if (ip === undefined) throw invalid(`address ${quote(address)} is not an IP address`);
      checkHostAddress(subnet, ip, 'address');
    } catch (err) {
      throw precondition(
        `DNS name ${name} -> ${address} would not fit the new spec (${(err as Error).message}): remove it first`,
      );
    }
  }
}
