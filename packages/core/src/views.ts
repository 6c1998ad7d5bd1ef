/**
 * What the Router reports: the desired state merged with the live kernel,
 * shaped for API edges (the gRPC server, a CLI) to render as they need.
 */
import type { LinkStatus } from './backends.js';
import type { Network, PortMapping } from './model.js';
import { natEnabled } from './network.js';

/** A network as ListVLANs shows it. */
export interface NetworkView {
  vlan: number;
  interfaceName: string;
  gateway: string;
  subnet: string;
  /** "" when the link is missing. */
  macAddress: string;
  /** The link's MTU, or the desired one (0: the parent's) when the link is missing. */
  mtu: number;
  up: boolean;
  natEnabled: boolean;
  name: string;
  internal: boolean;
}

export interface NetworkStateView {
  network: NetworkView;
  natSources: string[];
  /** Host names map to their addresses, sorted, as the desired state keeps them. */
  dns: { domain: string; hosts: Record<string, string[]> } | null;
}

export interface StateView {
  networks: NetworkStateView[];
  portMappings: PortMapping[];
}

export interface HealthView {
  healthy: boolean;
  /** "ok" or "reconcile failed: <reason>". */
  status: string;
  activeNetworks: number;
  uptimeSeconds: number;
}

/** The health with the backends in use and how the kernel compares with the desired state. */
export interface StatusView extends HealthView {
  /** The firewall backend's name; "none" without one. */
  firewallBackend: string;
  /** The DNS backend's name; "none" without one. */
  dnsBackend: string;
  /** Whether the kernel was compared with the desired state: kernelInSync and kernelDrift mean something only then. */
  kernelChecked: boolean;
  /** Whether the kernel's firewall equals the rendering of the desired state; true without a firewall backend. */
  kernelInSync: boolean;
  /** "" when in sync, else what differs, or why the comparison failed. */
  kernelDrift: string;
}

/** What a status asks for besides the health. */
export interface StatusOptions {
  /**
   * Compare the kernel's firewall with the desired state. It reads our
   * whole firewall, whose size follows the port mappings (about 0.2 s with
   * 10,000), and waits for the changes queued before it.
   */
  readonly checkKernel: boolean;
}

/** Merges a network's desired state with its live link: a missing link shows down, with no MAC and the desired MTU. */
export function networkView(n: Network, interfaceName: string, link: LinkStatus | undefined): NetworkView {
  return {
    vlan: n.vlan,
    interfaceName,
    gateway: n.gateway,
    subnet: n.subnet,
    macAddress: link?.mac ?? '',
    mtu: link?.mtu ?? n.mtu,
    up: link?.up ?? false,
    natEnabled: natEnabled(n),
    name: n.name,
    internal: n.internal,
  };
}
