// Networks with DNS, as the reconciler hands them to the backend.
import type { DnsConfig, DnsNetworkState, Network } from '@router-service/core';

/** One network's DNS: hosts map a name to one address or to several (round robin). */
export interface DnsNetworkSpec {
  readonly vlan: number;
  readonly subnet: string;
  readonly gateway: string;
  readonly domain: string;
  readonly internal?: boolean;
  readonly hosts: Readonly<Record<string, string | readonly string[]>>;
}

/** The DnsNetworkState of a spec, its interface named as the VLAN link. */
export function dnsState(spec: DnsNetworkSpec): DnsNetworkState {
  const hosts = Object.fromEntries(Object.entries(spec.hosts).map(([name, value]) => [name, Array.isArray(value) ? [...value] : [value]]));
  const dns: DnsConfig = { domain: spec.domain, hosts };
  const network: Network = {
    vlan: spec.vlan,
    name: '',
    subnet: spec.subnet,
    gateway: spec.gateway,
    mtu: 0,
    nat: true,
    internal: spec.internal ?? false,
    natSources: [],
    dns,
  };
  return { network, interfaceName: `eth0.${spec.vlan}` };
}

/** The same network with DNS off. */
export function dnsOff(spec: DnsNetworkSpec): DnsNetworkState {
  const state = dnsState(spec);
  return { ...state, network: { ...state.network, dns: null } };
}
