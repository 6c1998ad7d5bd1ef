import type { VlanBackend } from './backends.js';
import type { Logger } from './logger.js';
import { Reconciler } from './reconciler.js';
import type { Store } from './store.js';

/**
 * Picks the parent interface: the one asked for, else the one the stored
 * networks were built on, else the interface of the default route. Keeping
 * the recorded one means a default route that moves to another NIC after a
 * reboot cannot move (and so sweep away) every network.
 */
export async function resolveParent(
  options: { store: Store; vlan: VlanBackend; parent?: string | undefined },
  log: Logger,
): Promise<string> {
  const recorded = options.store.parent();
  const uplink = await Reconciler.findUplink(options.vlan, options.parent || recorded);
  if (uplink.name !== recorded) {
    if (recorded !== '') {
      log.warn({ from: recorded, to: uplink.name }, 'parent interface changed: networks move to the new parent');
    }
    options.store.setParent(uplink.name);
  }
  return uplink.name;
}
