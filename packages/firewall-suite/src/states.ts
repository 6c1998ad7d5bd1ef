/**
 * The desired states the suite applies to its topology, and the ports they
 * publish.
 */
import type { FirewallState, Network, PortMapping, Protocol } from '@router-service/core';
import { NET100, NET200, ROUTER_SECOND_IP, UPLINK, type TestNetwork } from './topology.js';

export function suiteNetwork(net: TestNetwork, extra: Partial<Network> = {}): Network {
  return {
    vlan: net.vlan,
    name: `net${net.vlan}`,
    subnet: net.subnet,
    gateway: net.gateway,
    mtu: 0,
    nat: true,
    internal: false,
    natSources: [],
    dns: null,
    ...extra,
  };
}

/** A mapping of one port, or of a range with `extra.hostPortEnd`, to the container of `net`. */
export function suiteMapping(
  protocol: Protocol,
  hostIp: string,
  hostPort: number,
  net: TestNetwork,
  containerPort: number,
  extra: Partial<PortMapping> = {},
): PortMapping {
  return { protocol, hostIp, hostPort, hostPortEnd: hostPort, containerIp: net.container, containerPort, vlan: net.vlan, sources: [], ...extra };
}

/** Ports the base state publishes, and where to. */
export const PORTS = {
  /** On every address -> c200:80. */
  anyTcp: 8080,
  /** On every address -> c200:53 (udp). */
  anyUdp: 8053,
  /** On ROUTER_SECOND_IP only -> c200:80. */
  hostIpTcp: 8081,
  /** On every address -> c100:80, for hairpin within one network. */
  anyTcpTo100: 8082,
  /** On 127.0.0.1 only -> c100:80: for the router itself. */
  loopbackTcp: 8083,
  /** On every address, only from RESTRICTED_SOURCES -> c200:80. */
  restrictedAny: 8090,
  /** On ROUTER_SECOND_IP, only from RESTRICTED_SOURCES -> c200:80. */
  restrictedHostIp: 8091,
  /** rangeFirst..rangeLast on every address -> c200:containerRangeFirst.. one-to-one. */
  rangeFirst: 8100,
  rangeLast: 8109,
  containerRangeFirst: 9100,
  /** A port of the router no mapping names, served on the router. */
  routerOther: 9000,
} as const;

/**
 * Sources the restricted ports answer: 192.168.64.0/30 holds OUTSIDE_IP;
 * OUTSIDE_SECOND_IP and the containers are in neither.
 */
export const RESTRICTED_SOURCES = ['10.99.0.0/16', '192.168.64.0/30'];

/** Network 100 with NAT, network 200 without; `internal100` makes network 100 internal. */
export function baseState(options: { internal100?: boolean } = {}): FirewallState {
  return {
    uplink: UPLINK,
    networks: [
      { network: suiteNetwork(NET100, { nat: true, internal: options.internal100 ?? false }), interfaceName: NET100.interfaceName },
      { network: suiteNetwork(NET200, { nat: false }), interfaceName: NET200.interfaceName },
    ],
    portMappings: [
      suiteMapping('tcp', '', PORTS.anyTcp, NET200, 80),
      suiteMapping('udp', '', PORTS.anyUdp, NET200, 53),
      suiteMapping('tcp', ROUTER_SECOND_IP, PORTS.hostIpTcp, NET200, 80),
      suiteMapping('tcp', '', PORTS.anyTcpTo100, NET100, 80),
      suiteMapping('tcp', '127.0.0.1', PORTS.loopbackTcp, NET100, 80),
      suiteMapping('tcp', '', PORTS.restrictedAny, NET200, 80, { sources: RESTRICTED_SOURCES }),
      suiteMapping('tcp', ROUTER_SECOND_IP, PORTS.restrictedHostIp, NET200, 80, { sources: RESTRICTED_SOURCES }),
      suiteMapping('tcp', '', PORTS.rangeFirst, NET200, PORTS.containerRangeFirst, { hostPortEnd: PORTS.rangeLast }),
    ],
  };
}

/** `state` with `change` applied to its mappings. */
export function withMappings(state: FirewallState, change: (mappings: PortMapping[]) => PortMapping[]): FirewallState {
  return { ...state, portMappings: change([...state.portMappings]) };
}
