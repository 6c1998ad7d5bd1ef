/**
 * The kernel against the stored state, checked from outside the daemon
 * while none runs: the state directory's store opened with core, the
 * FirewallState the reconciler builds from it, and the backend library's
 * own drift, plus counts of our objects and links.
 */
import { interfaceName, openSqliteStore, type DesiredState, type FirewallState } from '@router-service/core';
import { IP, runProcess, type Netns } from '@router-service/test-support';
import { createIproute2VlanBackend } from '@router-service/vlan-iproute2';
import type { FirewallUnderTest } from './firewall-under-test.js';

export interface StoredState {
  readonly desired: DesiredState;
  /** The parent interface the store records. */
  readonly parent: string;
  /** What the reconciler hands the firewall for this state. */
  readonly firewall: FirewallState;
}

/** Reads the store of stateDir; no daemon may have it open. */
export function readStoredState(stateDir: string): StoredState {
  const store = openSqliteStore(stateDir);
  try {
    const desired = store.load();
    const parent = store.parent();
    return {
      desired,
      parent,
      firewall: {
        uplink: parent,
        networks: desired.networks.map((network) => ({ network, interfaceName: interfaceName(parent, network.vlan) })),
        portMappings: desired.portMappings,
      },
    };
  } finally {
    store.close();
  }
}

/** The backend library's drift of ns from `state`; "" when the kernel equals its rendering. */
export async function driftOf(firewall: FirewallUnderTest, ns: Netns, state: FirewallState): Promise<string> {
  const library = firewall.library(ns.name);
  if (typeof library.drift !== 'function') throw new Error(`the ${firewall.name} backend library has no drift(state)`);
  try {
    return await library.drift(state);
  } finally {
    await library.close?.();
  }
}

/** Names of the links tagged as ours in ns, sorted. */
export async function ownedLinks(ns: Netns): Promise<string[]> {
  const links = await createIproute2VlanBackend({ netns: ns.name }).owned();
  return links.map((link) => link.name).sort();
}

/** Whether `text` holds `name` as a whole interface name (eth0.1 is not in eth0.12). */
function namesInterface(text: string, name: string): boolean {
  return text.split(/[^0-9A-Za-z._-]+/).includes(name);
}

/** Whether `text` holds an address starting with `prefix` ("10.11.0."), not merely ending with it. */
function namesAddressIn(text: string, prefix: string): boolean {
  return text.split(/[^0-9.]+/).some((word) => word.startsWith(prefix));
}

/**
 * Everything wrong with the kernel of ns for the stored state: drift, our
 * objects more than once, owned links other than the stored networks', and
 * any trace of the networks in `gone` that the store does not hold: its
 * link, or its interface or an address of its subnet in our rules. `gone`
 * maps VLAN ids to the prefix every address of the network starts with
 * ("10.11.0."). [] when all is well.
 */
export async function kernelProblems(
  ns: Netns,
  firewall: FirewallUnderTest,
  stored: StoredState,
  gone: ReadonlyMap<number, string>,
): Promise<string[]> {
  const problems: string[] = [];
  const drift = await driftOf(firewall, ns, stored.firewall);
  if (drift !== '') problems.push(`${firewall.name} drift from the stored state: ${drift}`);
  problems.push(...(await firewall.copies(ns)));
  const links = await ownedLinks(ns);
  const wanted = stored.firewall.networks.map((n) => n.interfaceName).sort();
  if (links.join(' ') !== wanted.join(' ')) problems.push(`owned links [${links.join(' ')}], the store has [${wanted.join(' ')}]`);
  const dump = await firewall.dump(ns);
  const storedVlans = new Set(stored.desired.networks.map((n) => n.vlan));
  for (const [vlan, addressPrefix] of gone) {
    if (storedVlans.has(vlan)) continue;
    const name = interfaceName(stored.parent, vlan);
    if (namesInterface(dump, name)) problems.push(`the ${firewall.name} rules still name ${name}, whose network is gone`);
    if (namesAddressIn(dump, addressPrefix)) problems.push(`the ${firewall.name} rules still name an address ${addressPrefix}* of gone VLAN ${vlan}`);
    const link = await runProcess(IP, ['-n', ns.name, 'link', 'show', 'dev', name]);
    if (link.code === 0) problems.push(`link ${name} exists, but its network is gone`);
  }
  return problems;
}
