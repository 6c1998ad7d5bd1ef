/**
 * The plugin contract: what the reconciler asks of the kernel. Backends speak
 * intent (a VLAN link, the firewall for a set of networks, the names a
 * gateway answers), never rendered rules, so that nftables and iptables, or
 * dnsmasq and another resolver, can stand behind the same interface.
 *
 * Only the Reconciler calls backends. Every method converges: calling it
 * again with the same input changes nothing. Backends touch only objects they
 * own (tagged as ours) and never anyone else's.
 */
import type { Network, PortMapping } from './model.js';

/** The parent (trunk) interface the VLAN links are created on. */
export interface Uplink {
  name: string;
  mtu: number;
  /** The uplink's own IPv4 networks, canonical CIDR ("10.0.2.0/24"). */
  prefixes: string[];
}

/** The desired kernel state of one VLAN link. */
export interface VlanLink {
  parent: string;
  vlan: number;
  /** 0 keeps the parent's MTU. */
  mtu: number;
  /** The gateway with the subnet's prefix length, e.g. "172.18.0.1/16". */
  address: string;
}

/** The live kernel state of a link. */
export interface LinkStatus {
  name: string;
  index: number;
  /** 0 for links that are not 802.1Q VLANs. */
  vlan: number;
  /** Lower-case colon-separated MAC, e.g. "52:54:00:12:34:56". */
  mac: string;
  mtu: number;
  up: boolean;
  /** Tagged as created by router-service. */
  owned: boolean;
  /** Global IPv4 addresses with prefix length, e.g. ["172.18.0.1/16"]. */
  addresses: string[];
}

/** VLAN links and their addresses. */
export interface VlanBackend {
  readonly name: string;
  /** The interface holding the IPv4 default route; precondition error if none. */
  defaultRouteInterface(): Promise<string>;
  /** The named parent interface; precondition error if it does not exist. */
  uplink(name: string): Promise<Uplink>;
  /**
   * Converges `<parent>.<vlan>` to `link`: an 802.1Q link tagged as ours,
   * isolated (see `isolate`) before it gets its address, with `address` as
   * its only IPv4 address (added before stale ones are removed), the MTU, up.
   * A link of that name that is not ours is a precondition error and is left
   * alone; an owned one that is not the right VLAN is replaced.
   */
  ensureVlan(link: VlanLink): Promise<LinkStatus>;
  /** Removes the named link if it exists and is ours; absent is success. */
  deleteVlan(name: string): Promise<void>;
  /** The live state of the named link, or undefined if it does not exist. */
  status(name: string): Promise<LinkStatus | undefined>;
  /** Every link tagged as ours. */
  owned(): Promise<LinkStatus[]>;
  /**
   * Hardens an interface so that it answers ARP only for its own addresses
   * and drops sources that would not route back through it. A network link
   * also gets route_localnet, so that the router's own connections to a
   * port published on 127.0.0.1 can be DNATed onto it; the firewall drops
   * loopback destinations arriving from networks.
   */
  isolate(name: string): Promise<void>;
  /** Turns on IPv4 forwarding. */
  enableForwarding(): Promise<void>;
}

/** Everything the firewall acts on, derived from the desired state. */
export interface FirewallState {
  uplink: string;
  networks: ReadonlyArray<{ network: Network; interfaceName: string }>;
  portMappings: readonly PortMapping[];
}

/** NAT, isolation, router self-protection and port publishing. */
export interface FirewallBackend {
  readonly name: string;
  /**
   * Converges everything the backend owns to `state` in one transaction,
   * whatever the kernel holds now: objects of ours that `state` does not ask
   * for are removed, missing ones created, nothing of anyone else touched.
   */
  sync(state: FirewallState): Promise<void>;
  /**
   * Changes the kernel from `previous` (what the last successful sync or
   * update applied) to `next` in one transaction that touches only what
   * differs (set and map elements where it can), so that its cost does not
   * grow with the size of the state. The caller falls back to `sync` when
   * this fails or when it is unsure what the kernel holds.
   */
  update(previous: FirewallState, next: FirewallState): Promise<void>;
  /**
   * Compares what the kernel holds of ours with the rendering of `state`,
   * changing nothing: "" when they are equal, else a short account of the
   * difference for a person ("table inet router_service missing", "set
   * published_any_tcp_addr: 3 elements differ").
   */
  drift(state: FirewallState): Promise<string>;
  /** Removes everything the backend owns; absent is success. */
  teardown(): Promise<void>;
  /**
   * The daemon is stopping: ends the processes the backend keeps running
   * (nft's long-lived session), leaving the kernel's rules in place. No
   * method is called after it. Optional: a backend that keeps no processes
   * has nothing to do.
   */
  close?(): Promise<void>;
}

/** What tracked connections to forget after a firewall change. */
export interface ConnectionRemovals {
  /** Published ports that no longer exist (or now point elsewhere): the flows they DNATed. */
  portMappings: readonly PortMapping[];
  /** Subnets of deleted networks, canonical CIDR. */
  subnets: readonly string[];
  /**
   * UDP ports just published (after a full sync, every published UDP
   * port): the flows their rules would DNAT (to the router's addresses, or
   * the host address, on a host port, from a source they let in) that no
   * NAT changed and nothing answered. A UDP sender that began before its
   * port was published keeps its flow, and the kernel keeps delivering it
   * to the router untranslated, so the mapping would never take effect for
   * it. Forgetting such an entry
   * changes nothing else: the next packet is matched afresh. TCP and SCTP
   * start each connection with a handshake, which the new rules see.
   */
  published: readonly PortMapping[];
  /**
   * Set by the first firewall sync of a start: the flows to the router
   * DNATed into our networks that no published mapping explains are
   * forgotten too. Only a mapping removed while nothing could forget its
   * flows leaves those behind: the service stopped between storing the
   * removal and applying it.
   */
  strays: StrayFlows | undefined;
}

/** What the DNATed flows into our networks may come from: a flow DNATed into one of `subnets` that none of `portMappings` made is a stray. */
export interface StrayFlows {
  /** The subnets of our networks, canonical CIDR. */
  subnets: readonly string[];
  /** Every published mapping. */
  portMappings: readonly PortMapping[];
}

/**
 * The kernel's connection tracking: ends established flows to what was
 * removed, so that a flow to an unpublished port or a deleted network stops
 * at once instead of living on through its conntrack entry, and lets a
 * newly published UDP port take over the flows that reached the router
 * before it.
 */
export interface ConnectionTracker {
  readonly name: string;
  /** Deletes the conntrack entries `removals` describes; none is success. */
  forget(removals: ConnectionRemovals): Promise<void>;
}

/** The names one network's gateway answers. */
export interface DnsNetworkState {
  network: Network;
  interfaceName: string;
}

/** Container-name DNS on each gateway. */
export interface DnsBackend {
  readonly name: string;
  /**
   * Converges the resolvers to exactly these networks' DNS configuration:
   * starts and stops resolvers, rewrites only what changed. Called with
   * every DNS-enabled network on each change and each resync, so a call
   * that changes nothing must be cheap.
   */
  sync(networks: readonly DnsNetworkState[]): Promise<void>;
  /** Stops every resolver the backend owns and removes its files. */
  teardown(): Promise<void>;
  /**
   * The service is stopping: stop supervising and stop the processes the
   * backend started, keeping its files, so that the next start's sync
   * converges again. Called once, after the last sync has finished; no
   * method is called after it. Optional: a backend that starts no
   * processes has nothing to do.
   */
  close?(): Promise<void>;
}
