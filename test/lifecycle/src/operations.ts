/**
 * Random streams of the calls that change what the firewall renders:
 * networks on a few VLAN ids, extra NAT sources, and port mappings (single
 * ports and ranges, on every address or one, with and without allowed
 * sources) on a small pool of host ports, so that calls collide: repeats,
 * conflicts and removals of what exists all happen.
 */
import { status } from '@grpc/grpc-js';
import { isServiceError, type RouterClient, type RouterMethods } from '@router-service/integration-tests/router-client';
import type { Random } from './random.js';

/** The router's uplink address in createRouterNs, a valid host_ip. */
const UPLINK_ADDRESS = '192.168.64.2';

/** The VLAN ids streams use; network `v` has subnet 10.v.0.0/24. */
export const STREAM_VLANS: readonly number[] = [11, 12, 13];

export function streamSubnet(vlan: number): string {
  return `10.${vlan}.0.0/24`;
}

/** What every address of stream network `vlan` starts with. */
export function streamAddressPrefix(vlan: number): string {
  return `10.${vlan}.0.`;
}

const NAT_SOURCES = ['', '10.201.0.0/24', '10.202.0.0/16'];
const SINGLE_PORTS = [8000, 8001, 8002, 8003, 8004, 8005];
/** First ports of ranges; 8100-8103 and 8102-8105 overlap, so some ranges conflict. */
const RANGE_STARTS = [8100, 8102];
const ALLOWED_SOURCES = ['203.0.113.0/24', '198.51.100.7', '198.51.100.0/25'];
const PROTOCOLS = ['tcp', 'tcp', 'udp', 'sctp'];

/** One call: what it is, for the log of a failing run, and how to send it. */
export interface Operation {
  readonly label: string;
  send(client: RouterClient): Promise<unknown>;
}

function operation<M extends keyof RouterMethods>(method: M, request: RouterMethods[M][0]): Operation {
  return { label: `${method} ${JSON.stringify(request)}`, send: (client) => client.call(method, request) };
}

/** One random call. */
export function randomOperation(random: Random): Operation {
  const vlan = random.pick(STREAM_VLANS);
  const draw = random.next();
  if (draw < 0.18) {
    const internal = random.chance(0.1);
    return operation('CreateVLAN', {
      vlan_id: vlan,
      subnet: streamSubnet(vlan),
      network_name: `net${vlan}`,
      enable_nat: !internal && random.chance(0.8),
      internal,
    });
  }
  if (draw < 0.28) return operation('DeleteVLAN', { vlan_id: vlan });
  if (draw < 0.38) return operation('ConfigureNAT', { vlan_id: vlan, source_subnet: random.pick(NAT_SOURCES) });
  if (draw < 0.45) return operation('RemoveNAT', { vlan_id: vlan, source_subnet: random.pick(NAT_SOURCES) });
  const protocol = random.pick(PROTOCOLS);
  const hostIp = random.chance(0.25) ? UPLINK_ADDRESS : '';
  const isRange = random.chance(0.3);
  const hostPort = isRange ? random.pick(RANGE_STARTS) : random.pick(SINGLE_PORTS);
  if (draw < 0.8) {
    return operation('AddPortMapping', {
      protocol,
      host_ip: hostIp,
      host_port: hostPort,
      host_port_end: isRange ? hostPort + random.int(1, 3) : 0,
      container_ip: `${streamAddressPrefix(vlan)}${random.int(2, 4)}`,
      container_port: random.pick([80, 5000]),
      // 0 finds the network by the container's address.
      vlan_id: random.chance(0.5) ? vlan : 0,
      allowed_sources: random.chance(0.3) ? random.subset(ALLOWED_SOURCES) : [],
    });
  }
  return operation('RemovePortMapping', { protocol, host_ip: hostIp, host_port: hostPort });
}

/**
 * Codes a valid call may get in a random stream: the network is absent, a
 * port is taken, a change does not fit what is attached.
 */
const REFUSALS: ReadonlySet<status> = new Set([status.NOT_FOUND, status.ALREADY_EXISTS, status.FAILED_PRECONDITION]);

/** "" for a success or an expected refusal, else what went wrong. */
export function unexpectedOutcome(outcome: PromiseSettledResult<unknown>): string {
  if (outcome.status === 'fulfilled') return '';
  const error: unknown = outcome.reason;
  if (isServiceError(error) && REFUSALS.has(error.code)) return '';
  return isServiceError(error) ? `${status[error.code] ?? error.code}: ${error.details}` : String(error);
}
