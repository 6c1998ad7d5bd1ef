// Desired states the golden and check tests render.
import type { FirewallState, Network, PortMapping } from '@router-service/core';

function network(vlan: number, subnet: string, gateway: string, extra: Partial<Network> = {}): Network {
  return { vlan, name: `net${vlan}`, subnet, gateway, mtu: 0, nat: true, internal: false, natSources: [], dns: null, ...extra };
}

function mapping(protocol: 'tcp' | 'udp', hostIp: string, hostPort: number, containerIp: string, containerPort: number, vlan: number): PortMapping {
  return { protocol, hostIp, hostPort, containerIp, containerPort, vlan };
}

/** Name -> state; each has a golden file test/golden/<name>.json. */
export const STATES: Record<string, FirewallState> = {
  empty: { uplink: 'eth0', networks: [], portMappings: [] },
  'one-network': {
    uplink: 'eth0',
    networks: [{ network: network(100, '172.18.0.0/16', '172.18.0.1'), interfaceName: 'eth0.100' }],
    portMappings: [],
  },
  full: {
    uplink: 'ens3',
    // Deliberately out of order: the rendering sorts.
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
    ],
  },
};
