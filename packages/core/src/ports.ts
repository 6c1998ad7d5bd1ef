/**
 * Port mappings: a host port published to a container address. Validation
 * of AddPortMapping/RemovePortMapping requests and the conflict rule.
 */
import { checkContainerAddress } from './addresses.js';
import { alreadyExists, invalid } from './errors.js';
import { compareAddresses, formatAddress, parseAddress } from './ipv4.js';
import type { NetworkSpec, PortKey, PortMapping, Protocol } from './model.js';
import { quote } from './quote.js';

/** An AddPortMapping request as received. vlan 0 finds the network by container address. */
export interface PortRequest {
  containerIp: string;
  containerPort: number;
  hostPort: number;
  protocol: string;
  vlan: number;
  hostIp: string;
}

/** Renders a key as "127.0.0.1:8080/tcp", "*" standing for every address. */
export function formatPortKey(k: PortKey): string {
  return `${k.hostIp === '' ? '*' : k.hostIp}:${k.hostPort}/${k.protocol}`;
}

/** Renders where a mapping forwards to. */
export function portTarget(m: PortMapping): string {
  return `${m.containerIp}:${m.containerPort} (VLAN ${m.vlan})`;
}

export function samePortKey(a: PortKey, b: PortKey): boolean {
  return a.protocol === b.protocol && a.hostIp === b.hostIp && a.hostPort === b.hostPort;
}

export function sameTarget(a: PortMapping, b: PortMapping): boolean {
  return a.containerIp === b.containerIp && a.containerPort === b.containerPort && a.vlan === b.vlan;
}

function checkPort(port: number, what: string): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalid(`${what} ${port} is out of range: use 1 to 65535`);
  }
}

function parseProtocol(protocol: string): Protocol {
  const lower = protocol.toLowerCase();
  if (lower !== 'tcp' && lower !== 'udp') {
    throw invalid(`protocol ${quote(protocol)} is not supported: use tcp or udp`);
  }
  return lower;
}

/** Validates the fields that identify a published port; 0.0.0.0 means every address (""). */
export function parsePortKey(protocol: string, hostPort: number, hostIp: string): PortKey {
  const key: PortKey = { protocol: parseProtocol(protocol), hostIp: '', hostPort };
  checkPort(hostPort, 'host_port');
  if (hostIp !== '') {
    const ip = parseAddress(hostIp);
    if (ip?.family !== 4) throw invalid(`host_ip ${quote(hostIp)} is not an IPv4 address`);
    if (ip.address !== 0) key.hostIp = formatAddress(ip);
  }
  return key;
}

/** Checks everything of a request that does not depend on the state, so that it is invalid whatever the state. */
export function validatePortRequest(req: PortRequest): void {
  parsePortKey(req.protocol, req.hostPort, req.hostIp);
  checkPort(req.containerPort, 'container_port');
  if (parseAddress(req.containerIp) === undefined) {
    throw invalid(`container_ip ${quote(req.containerIp)} is not an IP address`);
  }
}

/** Validates a request against the network it targets. */
export function parsePortMapping(req: PortRequest, n: NetworkSpec): PortMapping {
  const key = parsePortKey(req.protocol, req.hostPort, req.hostIp);
  checkPort(req.containerPort, 'container_port');
  const ip = parseAddress(req.containerIp);
  if (ip === undefined) throw invalid(`container_ip ${quote(req.containerIp)} is not an IP address`);
  checkContainerAddress(n, ip);
  return { ...key, containerIp: formatAddress(ip), containerPort: req.containerPort, vlan: n.vlan };
}

/**
 * Rejects `m` when its host port is already published to a different
 * target, on the same address or where either side listens on every
 * address. `sameSlot` holds the existing mappings of m's protocol and port.
 */
export function checkPortConflict(m: PortMapping, sameSlot: Iterable<PortMapping>): void {
  for (const o of sameSlot) {
    const overlapping = o.hostIp === m.hostIp || o.hostIp === '' || m.hostIp === '';
    if (overlapping && (!samePortKey(o, m) || !sameTarget(o, m))) {
      throw alreadyExists(
        `host port ${formatPortKey(o)} is already published to ${portTarget(o)}: remove that mapping first`,
      );
    }
  }
}

/** Orders mappings by protocol, host port and host address ("" first), as the state lists them. */
export function comparePortMappings(a: PortKey, b: PortKey): number {
  if (a.protocol !== b.protocol) return a.protocol < b.protocol ? -1 : 1;
  return a.hostPort - b.hostPort || compareAddresses(a.hostIp, b.hostIp);
}
