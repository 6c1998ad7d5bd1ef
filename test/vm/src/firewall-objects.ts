/**
 * What each firewall backend owns in the kernel, read with the real tools:
 * nft's table, and the RS- chains (with the jumps into them) of iptables,
 * in both of Debian's iptables variants.
 */
import { run } from './command.js';

/** The firewall backends the daemon offers, by their configuration names. */
export type FirewallName = 'nft' | 'iptables';

const nftBin = '/usr/sbin/nft';
const ownTable = 'table inet router_service';
/** Both variants: the backend may use either, and a switch must leave neither behind. */
const iptablesSaveBins = ['/usr/sbin/iptables-nft-save', '/usr/sbin/iptables-legacy-save'] as const;

/** nftObjects lists the nft table of ours, if the kernel holds it. */
async function nftObjects(): Promise<string[]> {
  const tables = (await run(nftBin, ['list', 'tables'])).split('\n').map((line) => line.trim());
  return tables.includes(ownTable) ? [ownTable] : [];
}

/** iptablesObjects lists, per variant, the lines of iptables-save that declare or jump to an RS- chain. */
async function iptablesObjects(): Promise<string[]> {
  const found: string[] = [];
  for (const save of iptablesSaveBins) {
    const variant = save.slice(save.lastIndexOf('/') + 1).replace(/-save$/, '');
    for (const line of (await run(save, [])).split('\n')) {
      if (/(^:| )RS-/.test(line)) {
        found.push(`${variant}: ${line.trim()}`);
      }
    }
  }
  return found;
}

/** ownedObjects lists what the kernel holds of the named backend's objects: [] when none. */
export function ownedObjects(backend: FirewallName): Promise<string[]> {
  return backend === 'nft' ? nftObjects() : iptablesObjects();
}
