/**
 * The desired state of the router: what clients asked for, validated and
 * normalised. Addresses are kept as canonical strings ("172.18.0.0/16",
 * "172.18.0.1") so that the state is plain JSON, compares by value and is
 * stored as given. Nothing here touches the kernel or the disk.
 */

/** 802.1Q ids usable for networks; 0 and 4095 are reserved. */
export const MIN_VLAN = 1;
export const MAX_VLAN = 4094;
/** The smallest MTU IPv4 allows on a link (RFC 791). */
export const MIN_MTU = 68;
/** IFNAMSIZ minus the terminating NUL. */
export const MAX_IFNAME_LENGTH = 15;

/** A network as CreateVLAN defines it. */
export interface NetworkSpec {
  vlan: number;
  /** Free-form label, may be empty. */
  name: string;
  /** Canonical IPv4 CIDR without host bits. */
  subnet: string;
  /** A host address of `subnet`. */
  gateway: string;
  /** 0 follows the parent interface's MTU. */
  mtu: number;
  /** Masquerade traffic from `subnet` leaving through the uplink. */
  nat: boolean;
  /** No route to the outside. */
  internal: boolean;
}

/** A network's resolver configuration: the names its gateway answers. */
export interface DnsConfig {
  /** Lower-case domain without a trailing dot; empty for none. */
  domain: string;
  /**
   * Lower-case host name -> its IPv4 addresses, keys sorted. Each name has
   * at least one address; addresses are distinct and sorted numerically.
   * A name with several addresses is answered round robin.
   */
  hosts: Record<string, string[]>;
}

/** The desired state of one network: its spec and what later calls attached. */
export interface Network extends NetworkSpec {
  /** Further source subnets to masquerade (ConfigureNAT), sorted. */
  natSources: string[];
  /** null until ConfigureDNS enables the network's resolver. */
  dns: DnsConfig | null;
}

export type Protocol = 'tcp' | 'udp' | 'sctp';

/** Every protocol a port may be published with, in the order of their names, which is the order port mappings sort in. */
export const PROTOCOLS: readonly Protocol[] = ['sctp', 'tcp', 'udp'];

/**
 * Identifies a published host port, or the first port of a published range.
 * An empty hostIp means every address.
 */
export interface PortKey {
  protocol: Protocol;
  hostIp: string;
  hostPort: number;
}

/**
 * Host ports published to a container address on a network: hostPort ..
 * hostPortEnd map one-to-one onto containerPort .. containerPort +
 * (hostPortEnd - hostPort). A single port has hostPortEnd equal to hostPort.
 */
export interface PortMapping extends PortKey {
  hostPortEnd: number;
  containerIp: string;
  containerPort: number;
  vlan: number;
  /**
   * Canonical IPv4 CIDRs allowed to reach the mapping, sorted, none inside
   * another; empty lets every source in.
   */
  sources: string[];
}

/** The whole desired state. */
export interface DesiredState {
  /** Ordered by VLAN id. */
  networks: Network[];
  /** Ordered by protocol, host port, host address. */
  portMappings: PortMapping[];
}
