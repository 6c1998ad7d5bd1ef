/**
 * Desired states every backend renders in its golden tests, so that the
 * renderings of all backends describe the same states side by side. Each
 * backend keeps one golden file per name.
 */
import type { FirewallState, Network, PortMapping, Protocol } from '@router-service/core';

/** A network for a desired state: NAT on, not internal, no NAT sources or DNS unless `extra` says so. */
export function network(vlan: number, subnet: string, gateway: string, extra: Partial<Network> = {}): Network {
  return { vlan, name: `net${vlan}`, subnet, gateway, mtu: 0, nat: true, internal: false, natSources: [], dns: null, ...extra };
}

/** A single-port mapping open to every source unless `extra` says otherwise. */
export function mapping(
  protocol: Protocol,
  hostIp: string,
  hostPort: number,
  containerIp: string,
  containerPort: number,
  vlan: number,
  extra: Partial<PortMapping> = {},
): PortMapping {
  return { protocol, hostIp, hostPort, hostPortEnd: hostPort, containerIp, containerPort, vlan, sources: [], ...extra };
}

/** Name -> state: no network; one network; three networks of each kind with every sort of published port. */
export const goldenStates: Readonly<Record<string, FirewallState>> = {
  empty: { uplink: 'eth0', networks: [], portMappings: [] },
  'one-network': {
    uplink: 'eth0',
    networks: [{ network: network(100, '172.18.0.0/16', '172.18.0.1'), interfaceName: 'eth0.100' }],
    portMappings: [],
  },
  full: {
    uplink: 'ens3',
    // Deliberately out of order: renderings sort.
    networks: [
      {
        network: network(300, '10.30.0.0/24', '10.30.0.1', { nat: false, internal: true }),
        interfaceName: 'ens3.300',
      },
      {
        network: network(100, '172.18.0.0/16', '172.18.0.1', { natSources: ['10.8.0.0/16', '10.8.1.0/24', '192.168.200.0/24'] }),
        interfaceName: 'ens3.100',
      },
      { network: network(200, '172.19.0.0/16', '172.19.0.1', { nat: false }), interfaceName: 'ens3.200' },
    ],
    portMappings: [
      mapping('udp', '', 5353, '172.19.0.2', 53, 200),
      mapping('tcp', '', 8080, '172.18.0.2', 80, 100),
      mapping('tcp', '192.168.64.3', 8443, '172.19.0.3', 443, 200),
      mapping('udp', '192.168.64.2', 9000, '172.18.0.5', 9001, 100),
      // A range, mapped one-to-one onto 6000..6003.
      mapping('tcp', '', 7000, '172.18.0.6', 6000, 100, { hostPortEnd: 7003 }),
      mapping('sctp', '', 3868, '172.19.0.4', 3868, 200),
      // Only some sources, on every address and on one address (a range).
      mapping('tcp', '', 2222, '172.18.0.7', 22, 100, { sources: ['10.0.0.0/8', '192.168.64.10/32'] }),
      mapping('udp', '192.168.64.2', 5000, '172.19.0.5', 5000, 200, { hostPortEnd: 5001, sources: ['192.168.64.0/28'] }),
      // Published for the router itself only.
      mapping('tcp', '127.0.0.1', 5432, '172.18.0.8', 5432, 100),
    ],
  },
};
