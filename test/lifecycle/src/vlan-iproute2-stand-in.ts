/**
 * What the daemon gets when it imports @router-service/vlan-iproute2 under
 * the hooks of register-veth-links.ts: the same exports, with VLAN links
 * made of veth pairs (see veth-vlan-backend.ts).
 */
import type { VlanBackend } from '@router-service/core';
import { createVethVlanBackend, type VethVlanBackendOptions } from './veth-vlan-backend.js';

export { OWNER_ALIAS } from '@router-service/vlan-iproute2';

/** Stands in for iproute2's factory; the daemon passes only its logger. */
export function createIproute2VlanBackend(options: VethVlanBackendOptions = {}): VlanBackend {
  return createVethVlanBackend(options);
}
