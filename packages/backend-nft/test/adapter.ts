// How the shared behaviour suite looks at and disturbs what this backend
// owns: through nft, in the router's namespace.
import type { FirewallSuiteAdapter } from '@router-service/firewall-suite';
import { IP, runChecked } from '@router-service/test-support';
import { createNftFirewallBackend, execaNftRunner, formatSnapshot, readTable, type NftRunner } from '../src/index.js';

const NFT = '/usr/sbin/nft';

const runner = (netns: string): NftRunner => execaNftRunner({ nftPath: NFT, netns, ipPath: IP });

/** Runs nft in the namespace with text input, which must succeed. */
async function nft(netns: string, ...args: string[]): Promise<string> {
  return (await runChecked(IP, ['netns', 'exec', netns, NFT, ...args])).stdout;
}

/** The suite's adapter for this backend. */
export const nftSuiteAdapter: FirewallSuiteAdapter = {
  make: (netns) => createNftFirewallBackend({ netns }),
  async dump(netns) {
    const table = await readTable(runner(netns));
    return table === undefined ? '' : formatSnapshot(table);
  },
  async flush(netns) {
    await nft(netns, 'flush', 'ruleset');
  },
  async damage(netns) {
    // A crash half-way through a hand edit: a chain emptied, an element
    // gone, a stray rule and a stray element.
    await nft(netns, 'flush', 'chain', 'inet', 'router_service', 'forward');
    await nft(netns, 'delete', 'element', 'inet', 'router_service', 'networks', '{ "eth0.100" }');
    await nft(netns, 'add', 'rule', 'inet', 'router_service', 'input', 'tcp', 'dport', '22', 'accept');
    await nft(netns, 'add', 'element', 'inet', 'router_service', 'published_any_tcp_port', '{ 1 : 1 }');
  },
  async addForeign(netns) {
    await nft(netns, 'add', 'table', 'ip', 'foreign');
    await nft(netns, 'add', 'chain', 'ip', 'foreign', 'input', '{ type filter hook input priority 10; policy accept; }');
    await nft(netns, 'add', 'rule', 'ip', 'foreign', 'input', 'tcp', 'dport', '9999', 'counter', 'accept');
    await nft(netns, 'add', 'table', 'inet', 'router_service_foreign');
  },
  async overtake(netns) {
    // Hooked in before every priority ours use: an accept there ends only
    // that chain's judgement, and the packet still meets ours.
    await nft(netns, 'add', 'table', 'inet', 'overtaking');
    for (const hook of ['input', 'forward']) {
      await nft(netns, 'add', 'chain', 'inet', 'overtaking', hook, `{ type filter hook ${hook} priority -1000; policy accept; }`);
      await nft(netns, 'add', 'rule', 'inet', 'overtaking', hook, 'accept');
    }
    return () => nft(netns, 'delete', 'table', 'inet', 'overtaking').then(() => undefined);
  },
  async dumpForeign(netns) {
    const listing = await nft(netns, 'list', 'ruleset');
    // Everything but our own table.
    return listing
      .split(/^(?=table )/m)
      .filter((table) => !table.startsWith('table inet router_service {'))
      .join('');
  },
};
