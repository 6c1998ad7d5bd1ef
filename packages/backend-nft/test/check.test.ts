// nft itself, in check mode (`nft -c`: evaluated by the kernel, never
// committed), accepts every golden rendering, in a throwaway namespace.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { IP, Netns } from '@router-service/test-support';
import { goldenStates } from '@router-service/firewall-suite';
import { execaNftRunner, render } from '../src/index.js';

const NFT = '/usr/sbin/nft';

let ns: Netns;
before(async () => {
  ns = await Netns.create();
});
after(async () => {
  await ns?.delete();
});

async function check(json: unknown): Promise<{ code: number; output: string }> {
  const run = execaNftRunner({ nftPath: NFT, netns: ns.name, ipPath: IP });
  const result = await run(['-c', '-j', '-f', '-'], JSON.stringify(json));
  return { code: result.exitCode, output: result.stderr + result.stdout };
}

for (const [name, state] of Object.entries(goldenStates)) {
  test(`nft -c accepts the ${name} rendering`, async () => {
    const result = await check(render(state));
    assert.equal(result.code, 0, result.output);
  });
}

test('nft -c rejects a broken rendering (the check can fail)', async () => {
  const batch = render(goldenStates.full!);
  const broken = { nftables: [...batch.nftables, { add: { rule: { family: 'inet', table: 'router_service', chain: 'no_such_chain', expr: [{ accept: null }] } } }] };
  const result = await check(broken);
  assert.notEqual(result.code, 0);
});
