/**
 * The namespaces one benchmarked router lives in:
 *
 *   client eth0 192.168.64.1/24 ── eth0 router 192.168.64.2/24
 *   container eth0 172.18.0.2/16 ── eth0.100 router (172.18.0.1/16, the gateway)
 *
 * The network link is a veth pair named as the VLAN link it stands for (the
 * firewall sees the same interface either way). The gateway address is left
 * to whoever owns the network: the daemon through CreateVLAN, or the
 * original approach's setup.
 */
import { Netns, vethArgs } from '@router-service/test-support';

export const UPLINK = 'eth0';
export const ROUTER_IP = '192.168.64.2';
export const CLIENT_IP = '192.168.64.1';
export const VLAN = 100;
export const NETWORK_LINK = `${UPLINK}.${VLAN}`;
export const SUBNET = '172.18.0.0/16';
export const GATEWAY = '172.18.0.1';
export const CONTAINER_IP = '172.18.0.2';

// Writes sysctls with this very node, so that the namespace needs no sysctl binary.
const SYSCTL_SCRIPT = 'for (const [k, v] of process.argv.slice(1).map((a) => a.split("="))) require("node:fs").writeFileSync("/proc/sys/" + k, v)';

/** The router, the client on its uplink, and the container on its one network. */
export class Topology {
  readonly router: Netns;
  readonly client: Netns;
  readonly container: Netns;

  private constructor(router: Netns, client: Netns, container: Netns) {
    this.router = router;
    this.client = client;
    this.container = container;
  }

  static async create(): Promise<Topology> {
    const created: Netns[] = [];
    try {
      for (let i = 0; i < 3; i++) created.push(await Netns.create());
      const [router, client, container] = created as [Netns, Netns, Netns];
      const topology = new Topology(router, client, container);
      await topology.#wire();
      return topology;
    } catch (error) {
      for (const ns of created) await ns.delete().catch(() => undefined);
      throw error;
    }
  }

  async #wire(): Promise<void> {
    const { router, client, container } = this;
    await router.ip(...vethArgs({ name: UPLINK }, { name: 'eth0', netns: client.name }));
    await router.ip('address', 'add', `${ROUTER_IP}/24`, 'dev', UPLINK);
    await client.ip('address', 'add', `${CLIENT_IP}/24`, 'dev', 'eth0');
    await router.ip(...vethArgs({ name: NETWORK_LINK }, { name: 'eth0', netns: container.name }));
    await container.ip('address', 'add', `${CONTAINER_IP}/16`, 'dev', 'eth0');
    for (const ns of [router, client, container]) {
      await ns.ip('link', 'set', 'lo', 'up');
      await ns.ip('link', 'set', 'eth0', 'up');
    }
    await container.ip('route', 'add', 'default', 'via', GATEWAY);
    // Many short connections from one address: reuse ports as soon as the kernel allows.
    await sysctl(client, ['net/ipv4/ip_local_port_range=1024 65000', 'net/ipv4/tcp_tw_reuse=1']);
  }

  /** Gives the router its gateway address and forwarding, as the daemon would (for the original approach). */
  async configureGateway(): Promise<void> {
    await this.router.ip('address', 'add', `${GATEWAY}/16`, 'dev', NETWORK_LINK);
    await this.router.ip('link', 'set', NETWORK_LINK, 'up');
    await sysctl(this.router, ['net/ipv4/ip_forward=1']);
  }

  /** Deletes the three namespaces. */
  async delete(): Promise<void> {
    for (const ns of [this.router, this.client, this.container]) await ns.delete();
  }
}

async function sysctl(ns: Netns, settings: readonly string[]): Promise<void> {
  const result = await ns.exec(process.execPath, ['--eval', SYSCTL_SCRIPT, ...settings]);
  if (result.code !== 0) throw new Error(`setting ${settings.join(', ')} in ${ns.name}: ${result.output}`);
}
