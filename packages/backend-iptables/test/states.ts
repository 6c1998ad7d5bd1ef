// Desired states the golden and check tests render: the ones every
// backend's golden tests share, and one that puts published ports and
// ranges on the edges of DNAT buckets.
import type { FirewallState, PortMapping } from '@router-service/core';
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

/** A small deterministic generator (mulberry32), so that a failure repeats. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random mapping on ports near a few bucket edges, sometimes a range across them, sometimes with sources. */
function randomMapping(next: () => number): PortMapping {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const hostPort = pick([250, 256, 511, 512, 1000, 8191, 8192]) + Math.floor(next() * 8);
  const hostPortEnd = next() < 0.3 ? hostPort + Math.floor(next() * 600) : hostPort;
  return {
    protocol: pick(['tcp', 'udp', 'sctp'] as const),
    hostIp: pick(['', '192.168.64.2', '192.168.64.3']),
    hostPort,
    hostPortEnd,
    containerIp: pick(['172.18.0.2', '172.18.0.3']),
    containerPort: 1000 + Math.floor(next() * 100),
    vlan: 100,
    sources: next() < 0.3 ? ['10.0.0.0/8'] : [],
  };
}

/**
 * `steps` states, each `start`'s successor by one random change of its
 * mappings: one added, one removed, or one retargeted.
 */
export function* randomChanges(start: FirewallState, seed: number, steps: number): Generator<FirewallState> {
  const next = random(seed);
  let state = start;
  for (let step = 0; step < steps; step++) {
    const mappings = [...state.portMappings];
    const roll = next();
    if (roll < 0.45 || mappings.length === 0) mappings.push(randomMapping(next));
    else if (roll < 0.85) mappings.splice(Math.floor(next() * mappings.length), 1);
    else {
      const i = Math.floor(next() * mappings.length);
      mappings[i] = { ...mappings[i]!, containerPort: 1 + Math.floor(next() * 100) };
    }
    state = { ...state, portMappings: mappings };
    yield state;
  }
}
