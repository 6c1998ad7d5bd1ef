// A router with two networks and an uplink, wired from throwaway network
// namespaces, with a fake upstream resolver outside:
//
//   outside eth0 192.168.64.1/24 (fake upstream, UDP+TCP 53) ── eth0 router 192.168.64.2/24
//   c100 eth0 172.18.0.2/16 ────── eth0.100 router 172.18.0.1/16
//   c200 eth0 172.19.16.2/20 ───── eth0.200 router 172.19.16.1/20
//
// The network links are veth pairs named as the VLAN links they stand for.
// dnsmasq runs in the router namespace and asks the upstream from there,
// over the router's own link: nothing needs forwarding or NAT.
import { FakeUpstream, Netns, queryDnsIn, vethArgs, type DnsQuestionSpec, type DnsResult } from '@router-service/test-support';
import type { DnsNetworkSpec } from './fixtures.js';

export const ROUTER_UPLINK_IP = '192.168.64.2';
export const UPSTREAM_IP = '192.168.64.1';

/** Names the fake upstream answers; any other name is NXDOMAIN there. */
export const UPSTREAM_RECORDS: Readonly<Record<string, readonly string[]>> = {
  'outside.example': ['198.51.100.7'],
  'multi.example': ['198.51.100.8', '198.51.100.9'],
  'tcp.example': ['198.51.100.10'],
  'resolv.example': ['198.51.100.11'],
  'internal-probe.example': ['198.51.100.12'],
};

/** A network of the topology: its DNS and its container's address. */
export interface TopologyNetwork extends DnsNetworkSpec {
  readonly prefixLength: number;
  readonly container: string;
}

export const NET100: TopologyNetwork = {
  vlan: 100,
  subnet: '172.18.0.0/16',
  prefixLength: 16,
  gateway: '172.18.0.1',
  container: '172.18.0.2',
  domain: 'net100.test',
  hosts: { web: '172.18.0.10', www: '172.18.0.10', alias: '172.18.0.10', rr: ['172.18.0.11', '172.18.0.12', '172.18.0.13'], db: '172.18.0.20' },
};

/** A /20: its reverse lookups span sixteen zones. */
export const NET200: TopologyNetwork = {
  vlan: 200,
  subnet: '172.19.16.0/20',
  prefixLength: 20,
  gateway: '172.19.16.1',
  container: '172.19.16.2',
  domain: 'net200.test',
  hosts: { api: '172.19.16.10', other: '172.19.20.5' },
};

export class DnsTopology {
  readonly router: Netns;
  readonly outside: Netns;
  readonly containers: ReadonlyMap<number, Netns>;
  upstream: FakeUpstream | undefined;

  private constructor(router: Netns, outside: Netns, containers: ReadonlyMap<number, Netns>) {
    this.router = router;
    this.outside = outside;
    this.containers = containers;
  }

  /** Builds the namespaces of `networks` and starts the fake upstream when `withUpstream`. */
  static async create(networks: readonly TopologyNetwork[], withUpstream: boolean): Promise<DnsTopology> {
    const created: Netns[] = [];
    try {
      const router = await Netns.create();
      created.push(router);
      const outside = await Netns.create();
      created.push(outside);
      const containers = new Map<number, Netns>();
      for (const net of networks) {
        const container = await Netns.create();
        created.push(container);
        containers.set(net.vlan, container);
      }
      const topology = new DnsTopology(router, outside, containers);
      await topology.#wire(networks);
      if (withUpstream) topology.upstream = await FakeUpstream.start(outside.name, UPSTREAM_IP, 53, UPSTREAM_RECORDS);
      return topology;
    } catch (error) {
      for (const ns of created) await ns.delete().catch(() => undefined);
      throw error;
    }
  }

  async #wire(networks: readonly TopologyNetwork[]): Promise<void> {
    const { router, outside } = this;
    await router.ip(...vethArgs({ name: 'eth0' }, { name: 'eth0', netns: outside.name }));
    await router.ip('address', 'add', `${ROUTER_UPLINK_IP}/24`, 'dev', 'eth0');
    await outside.ip('address', 'add', `${UPSTREAM_IP}/24`, 'dev', 'eth0');
    for (const ns of [router, outside]) {
      await ns.ip('link', 'set', 'eth0', 'up');
      await ns.ip('link', 'set', 'lo', 'up');
    }
    for (const net of networks) {
      const container = this.container(net.vlan);
      const link = `eth0.${net.vlan}`;
      await router.ip(...vethArgs({ name: link }, { name: 'eth0', netns: container.name }));
      await router.ip('address', 'add', `${net.gateway}/${net.prefixLength}`, 'dev', link);
      await router.ip('link', 'set', link, 'up');
      await container.ip('address', 'add', `${net.container}/${net.prefixLength}`, 'dev', 'eth0');
      await container.ip('link', 'set', 'eth0', 'up');
      await container.ip('link', 'set', 'lo', 'up');
      await container.ip('route', 'add', 'default', 'via', net.gateway);
    }
  }

  container(vlan: number): Netns {
    const ns = this.containers.get(vlan);
    if (ns === undefined) throw new Error(`no container on VLAN ${vlan}`);
    return ns;
  }

  /** Asks the network's gateway each question from the network's container. */
  ask(net: TopologyNetwork, ...questions: DnsQuestionSpec[]): Promise<DnsResult[]> {
    return queryDnsIn(this.container(net.vlan).name, net.gateway, questions);
  }

  /** Stops the upstream and deletes every namespace, even when some step fails. */
  async destroy(): Promise<void> {
    const errors: unknown[] = [];
    await this.upstream?.stop().catch((e: unknown) => errors.push(e));
    for (const ns of [this.router, this.outside, ...this.containers.values()]) await ns.delete().catch((e: unknown) => errors.push(e));
    if (errors.length > 0) throw new AggregateError(errors, 'tearing down the DNS test topology');
  }
}
