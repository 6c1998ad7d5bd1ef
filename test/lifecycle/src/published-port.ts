/**
 * Networks 100 and 200 of the firewall suite's topology, made by the daemon,
 * with one port published from the uplink to a container on network 200,
 * and the one real TCP connection that tells whether it answers.
 */
import { NET100, NET200, ROUTER_UPLINK_IP, Topology } from '@router-service/firewall-suite';
import type { RouterClient, RouterMethods } from '@router-service/integration-tests/router-client';

export const PUBLISHED_PORT = 8080;
const CONTAINER_PORT = 80;

/**
 * The suite's topology, whose network links the veth stand-in adopts when
 * their networks are created, with an echo server behind the published port.
 */
export async function createPublishingTopology(): Promise<Topology> {
  const topology = await Topology.create();
  try {
    await topology.serve(topology.c200, 'tcp', '0.0.0.0', CONTAINER_PORT);
    return topology;
  } catch (error) {
    await topology.destroy();
    throw error;
  }
}

/** A range with allowed sources, so that restarts and switches carry every kind of mapping. */
const RANGE_WITH_SOURCES: RouterMethods['AddPortMapping'][0] = {
  protocol: 'udp',
  host_port: 9000,
  host_port_end: 9003,
  container_ip: NET100.container,
  container_port: 5000,
  vlan_id: NET100.vlan,
  allowed_sources: ['203.0.113.0/24', '198.51.100.7'],
};

/**
 * Creates both networks (100 with NAT and one more NAT source, 200
 * without), publishes PUBLISHED_PORT to the container on 200 and a udp
 * range with allowed sources to the one on 100.
 */
export async function createNetworksAndPublish(client: RouterClient): Promise<void> {
  await client.call('CreateVLAN', { vlan_id: NET100.vlan, subnet: NET100.subnet, gateway: NET100.gateway, enable_nat: true });
  await client.call('CreateVLAN', { vlan_id: NET200.vlan, subnet: NET200.subnet, gateway: NET200.gateway, enable_nat: false });
  await client.call('ConfigureNAT', { vlan_id: NET100.vlan, source_subnet: '10.100.0.0/24' });
  await client.call('AddPortMapping', {
    protocol: 'tcp',
    host_port: PUBLISHED_PORT,
    container_ip: NET200.container,
    container_port: CONTAINER_PORT,
    vlan_id: NET200.vlan,
  });
  await client.call('AddPortMapping', RANGE_WITH_SOURCES);
}

/** Whether a TCP connection from the outside host to the published port reaches the container. */
export async function publishedPortAnswers(topology: Topology): Promise<boolean> {
  return (await topology.connect(topology.outside, 'tcp', ROUTER_UPLINK_IP, PUBLISHED_PORT)) !== undefined;
}
