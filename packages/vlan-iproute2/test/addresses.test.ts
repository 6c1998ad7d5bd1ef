import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { Netns } from '@router-service/test-support';
import { realBackend } from './real-backend.js';

let ns: Netns;
beforeEach(async () => {
  ns = await Netns.create();
  await ns.ip('link', 'add', 'gw0', 'type', 'veth', 'peer', 'name', 'gw1');
});
afterEach(() => ns.delete());

interface AddressInfo {
  family: string;
  local: string;
  prefixlen: number;
  scope: string;
  broadcast?: string;
}

async function addresses(): Promise<AddressInfo[]> {
  const [link] = JSON.parse(await ns.ip('-json', 'address', 'show', 'dev', 'gw0')) as Array<{ addr_info: AddressInfo[] }>;
  return (link?.addr_info ?? []).filter((a) => a.family === 'inet' || !a.local.startsWith('fe80:'));
}

test('the gateway becomes the only global IPv4 address; others stay', async () => {
  await ns.ip('addr', 'add', '10.1.0.1/16', 'dev', 'gw0');
  await ns.ip('addr', 'add', '10.2.0.1/16', 'dev', 'gw0');
  await ns.ip('addr', 'add', '169.254.9.9/16', 'scope', 'link', 'dev', 'gw0');
  await ns.ip('addr', 'add', 'fd00::1/64', 'dev', 'gw0');
  const backend = realBackend(ns);
  for (let round = 0; round < 2; round++) {
    await backend.setAddress('gw0', '10.3.0.1/24');
    assert.deepEqual((await backend.status('gw0'))?.addresses, ['10.3.0.1/24']);
    assert.deepEqual(
      (await addresses()).map((a) => `${a.local}/${a.prefixlen} ${a.scope}${a.broadcast === undefined ? '' : ` brd ${a.broadcast}`}`),
      ['169.254.9.9/16 link', '10.3.0.1/24 global brd 10.3.0.255', 'fd00::1/64 global'],
    );
  }
  assert.equal(await ns.sysctl('net', 'ipv4', 'conf', 'gw0', 'promote_secondaries'), '1');
});

test('a new gateway in the same subnet survives the removal of the old one', async () => {
  await ns.ip('addr', 'add', '10.1.0.1/16', 'dev', 'gw0');
  // The new gateway joins as a secondary of 10.1.0.1's subnet; removing
  // the old primary must not take it along.
  await realBackend(ns).setAddress('gw0', '10.1.0.254/16');
  assert.deepEqual((await realBackend(ns).status('gw0'))?.addresses, ['10.1.0.254/16']);
});

test('setting an address of a missing link is a precondition error', async () => {
  await assert.rejects(realBackend(ns).setAddress('nope0', '10.1.0.1/16'), /interface nope0 does not exist/);
});
