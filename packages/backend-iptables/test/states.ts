// Desired states the golden and check tests render: the ones every
// backend's golden tests share, and one that puts published ports and
// ranges on the edges of DNAT buckets.
import type { FirewallState } from '@router-service/core';
import { goldenMapping as mapping, goldenNetwork as network, goldenStates } from '@router-service/firewall-suite';

/** Name -> state; each has a golden file test/golden/<name>.rules. */
export const STATES: Record<string, FirewallState> = {
  ...goldenStates,
  // Ranges (one inside a bucket, one across three), source restrictions, SCTP, ports at both ends of the port space.
  buckets: {
    uplink: 'ens3',
    networks: [
      { network: network(200, '172.19.0.0/16', '172.19.0.1', { nat: false }), interfaceName: 'ens3.200' },
      { network: network(100, '172.18.0.0/16', '172.18.0.1'), interfaceName: 'ens3.100' },
    ],
    portMappings: [
      mapping('tcp', '', 8000, '172.18.0.2', 9000, 100, { hostPortEnd: 8009 }),
      mapping('tcp', '', 8200, '172.19.0.2', 8200, 200, { hostPortEnd: 8800 }),
      mapping('tcp', '192.168.64.3', 8100, '172.19.0.3', 443, 200, { sources: ['10.0.0.0/8', '192.168.64.7/32'] }),
      mapping('udp', '', 1, '172.18.0.3', 1, 100),
      mapping('udp', '', 65535, '172.18.0.3', 53, 100, { sources: ['203.0.113.0/24'] }),
      mapping('sctp', '', 3868, '172.19.0.4', 3868, 200),
      mapping('sctp', '192.168.64.2', 2905, '172.19.0.4', 2905, 200, { hostPortEnd: 2906 }),
    ],
  },
};
