/**
 * What one published port costs iptables-nft to add, against how many are
 * published and which hooks reach them. Adding a rule with a target such as
 * DNAT makes the kernel check, at commit, every rule that a base chain of
 * the table reaches, once for each base chain that reaches it; the
 * backend's DNAT rules are reached from nat PREROUTING (traffic arriving)
 * and nat OUTPUT (the router's own connections to its published ports).
 * This times the commit alone, with router-service's own rendering of its
 * ruleset, as is and without the OUTPUT jump.
 */
import { DNAT_BUCKET_PORTS, bucketChain, renderRestore } from '@router-service/backend-iptables';
import type { FirewallState, PortMapping } from '@router-service/core';
import { goldenMapping, goldenStates } from '@router-service/firewall-suite';

/** Which base chains jump to the backend's DNAT rules. */
export type Reach = 'prerouting' | 'prerouting-and-output';

export const REACHES: readonly Reach[] = ['prerouting', 'prerouting-and-output'];

const CONTAINER_IP = '172.18.0.2';
/** Published ports are even, so that each bucket has odd ports free for the timed appends. */
const FIRST_PORT = 20_000;
/** The jump from nat OUTPUT, as the backend renders it. */
const OUTPUT_JUMP = /^-I OUTPUT 1 .*-j RS-OUTPUT$/;

/** The desired state of one network (VLAN 100) with `count` published TCP ports. */
function stateWith(count: number): FirewallState {
  const base = goldenStates['one-network'];
  if (base === undefined) throw new Error('the golden states lack one-network');
  const portMappings: PortMapping[] = Array.from({ length: count }, (_, i) => goldenMapping('tcp', '', FIRST_PORT + 2 * i, CONTAINER_IP, 80, 100));
  return { ...base, portMappings };
}

/** The backend's whole ruleset for `count` published ports as restore input, its DNAT rules reached as `reach` says. */
export function rulesetWith(count: number, reach: Reach): string {
  const lines = renderRestore(stateWith(count)).split('\n');
  if (!lines.some((line) => OUTPUT_JUMP.test(line))) throw new Error('the rendering has no jump from nat OUTPUT');
  return (reach === 'prerouting' ? lines.filter((line) => !OUTPUT_JUMP.test(line)) : lines).join('\n');
}

/**
 * The restore input that adds the `n`th timed port, as the backend adds a
 * mapping: one rule appended to its bucket (the first one, which every
 * size fills), on an odd port no mapping holds.
 */
export function appendInput(n: number): string {
  const port = FIRST_PORT + 1 + 2 * n;
  const first = FIRST_PORT - (FIRST_PORT % DNAT_BUCKET_PORTS);
  const bucket = bucketChain('tcp', first);
  if (port >= first + DNAT_BUCKET_PORTS) throw new Error(`port ${port} is outside bucket ${bucket}`);
  return `*nat\n-A ${bucket} -p tcp -m tcp --dport ${port} -j DNAT --to-destination ${CONTAINER_IP}:80\nCOMMIT\n`;
}
