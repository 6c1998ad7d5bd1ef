/** The nft backend as the lifecycle tests see it: one table, `inet router_service`. */
import { FAMILY, TABLE, createNftFirewallBackend } from '@router-service/backend-nft';
import { execIn, type FirewallUnderTest } from './firewall-under-test.js';

const NFT = '/usr/sbin/nft';

interface NftObject {
  [kind: string]: Record<string, unknown>;
}

/** Handles change whenever objects are recreated, and a hash set lists its elements in no fixed order. */
function normaliseNftObject(object: NftObject): NftObject {
  const [kind, body] = Object.entries(object)[0] ?? ['', {}];
  const { handle: _handle, ...rest } = body;
  const elem = rest['elem'];
  if (Array.isArray(elem)) rest['elem'] = elem.map((e) => JSON.stringify(e)).sort().map((e) => JSON.parse(e) as unknown);
  return { [kind]: rest };
}

const FOREIGN_NFT_TABLE = 'foreign_lifecycle';

export const NFT_FIREWALL: FirewallUnderTest = {
  name: 'nft',
  library(netns) {
    return createNftFirewallBackend({ netns });
  },
  async dump(ns) {
    const result = await ns.exec(NFT, ['-j', 'list', 'table', FAMILY, TABLE]);
    if (result.code !== 0) {
      if (result.stderr.includes('No such file or directory')) return '';
      throw new Error(`nft list table ${FAMILY} ${TABLE} in ${ns.name}: ${result.output.trim()}`);
    }
    const listed = JSON.parse(result.stdout) as { nftables: NftObject[] };
    return listed.nftables
      .filter((object) => !('metainfo' in object))
      .map((object) => JSON.stringify(normaliseNftObject(object)))
      .join('\n');
  },
  async copies(ns) {
    const listed = JSON.parse(await execIn(ns, NFT, ['-j', 'list', 'tables'])) as { nftables: NftObject[] };
    const ours = listed.nftables.filter((object) => object['table']?.['family'] === FAMILY && object['table']?.['name'] === TABLE);
    return ours.length === 1 ? [] : [`${ours.length} tables ${FAMILY} ${TABLE}, not 1`];
  },
  async flush(ns) {
    await execIn(ns, NFT, ['flush', 'ruleset']);
  },
  async addForeign(ns) {
    await execIn(ns, NFT, ['add', 'table', 'inet', FOREIGN_NFT_TABLE]);
    await execIn(ns, NFT, ['add', 'chain', 'inet', FOREIGN_NFT_TABLE, 'input', '{ type filter hook input priority 10; policy accept; }']);
    await execIn(ns, NFT, ['add', 'rule', 'inet', FOREIGN_NFT_TABLE, 'input', 'tcp', 'dport', '4242', 'counter', 'accept']);
  },
  async foreign(ns) {
    const result = await ns.exec(NFT, ['list', 'table', 'inet', FOREIGN_NFT_TABLE]);
    return result.code === 0 ? result.stdout.replace(/packets \d+ bytes \d+/g, '') : '';
  },
};
