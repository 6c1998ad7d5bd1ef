/**
 * Hostile input to ConfigureDNS and RemoveDNSHosts: names, domains and
 * addresses that could carry resolver options, file lines or look-alike
 * characters. Each is refused as invalid before anything is stored or any
 * backend is asked to do anything, so no such string can reach a resolver.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RouterError } from '../src/errors.js';
import type { ConfigureDnsRequest } from '../src/router.js';
import { FakeDnsBackend } from './fake-attachment-backends.js';
import { create, newHarness, removeStateDirs, type Harness } from './router-harness.js';

/** Names no host or domain may have, each with why. */
const HOSTILE_NAMES: ReadonlyArray<[what: string, name: string]> = [
  ['a newline', 'web\nserver=192.0.2.53'],
  ['a trailing newline', 'web\n'],
  ['a carriage return', 'web\rdb'],
  ['a NUL', 'web\0db'],
  ['a space', 'web db'],
  ['a tab', 'web\tdb'],
  ['a lone double hyphen', '--'],
  ['an option', '--server=1.2.3.4'],
  ['an option with a value that is a name', '--conf-file=evil'],
  ['a leading hyphen', '-web'],
  ['a trailing hyphen', 'web-'],
  ['a label with a trailing hyphen', 'web-.corp'],
  ['an empty label', 'web..corp'],
  ['a leading dot', '.web'],
  ['only a dot', '.'],
  ['the empty name', ''],
  ['a 64-character label', 'a'.repeat(64)],
  ['254 characters', `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`],
  ['a non-ASCII letter', 'café'],
  ['full-width letters', 'ｗｅｂ'],
  ['a dotless i', 'ınternal'],
  ['a hash', 'web#1'],
  ['a slash', 'web/1'],
  ['an equals sign', 'web=1'],
  ['a wildcard', '*'],
  ['a wildcard label', '*.web'],
  ['an underscore', 'web_1'],
  ['a colon', 'web:53'],
  ['a quote', 'web"'],
  ['a backslash', 'web\\n'],
];

/** Addresses refused for a name on 172.18.0.0/16, whose answers are IPv4 only. */
const HOSTILE_ADDRESSES: ReadonlyArray<[what: string, address: string]> = [
  ['a trailing newline', '172.18.0.2\n'],
  ['a newline and an option', '172.18.0.2\nserver=192.0.2.53'],
  ['a leading space', ' 172.18.0.2'],
  ['a trailing space', '172.18.0.2 '],
  ['a NUL', '172.18.0.2\0'],
  ['a port', '172.18.0.2#53'],
  ['a prefix length', '172.18.0.2/32'],
  ['leading zeros', '172.018.0.2'],
  ['a trailing dot', '172.18.0.2.'],
  ['an option', '--server=1.2.3.4'],
  ['a name', 'web'],
  ['nothing', ''],
  ['IPv6', 'fd00::2'],
  ['IPv6 loopback', '::1'],
  ['IPv6 with a zone', 'fe80::1%eth0'],
  ['an IPv4 address with a zone', '172.18.0.2%eth0'],
  ['outside the subnet', '10.0.0.2'],
  ['the network address', '172.18.0.0'],
  ['the broadcast address', '172.18.255.255'],
];

const CONTROL_CHARACTERS = /[\x00-\x1f\x7f]/;

function dnsRequest(fields: Partial<ConfigureDnsRequest>): ConfigureDnsRequest {
  return { vlan: 100, subnet: '', gateway: '', domain: 'corp', hosts: {}, replaceHosts: false, ...fields };
}

describe('hostile DNS input', () => {
  let h: Harness;
  const dns = new FakeDnsBackend();

  before(async () => {
    h = await newHarness({ dns });
    await h.router.createNetwork(create(100, '172.18.0.0/16'));
    await h.router.configureDns(dnsRequest({ hosts: { web: '172.18.0.2' }, hostAddresses: [{ name: 'db', addresses: ['172.18.0.3', '172.18.0.4'] }] }));
  });

  after(async () => {
    await h.stop();
    removeStateDirs();
  });

  /** Runs call, which must be refused as invalid with a message that shows no raw control character, and changes nothing. */
  async function assertRefusedWithoutEffect(call: () => Promise<void>): Promise<void> {
    const stored = h.storedNetworks();
    const state = await h.router.getState(0);
    const calls = dns.calls.length;
    await assert.rejects(call, (err: unknown) => {
      assert.ok(err instanceof RouterError, `not a RouterError: ${String(err)}`);
      assert.equal(err.kind, 'invalid', err.message);
      assert.ok(!CONTROL_CHARACTERS.test(err.message), `the message shows a raw control character: ${JSON.stringify(err.message)}`);
      return true;
    });
    assert.deepEqual(h.storedNetworks(), stored, 'the store changed');
    assert.deepEqual(await h.router.getState(0), state, 'the state changed');
    assert.equal(dns.calls.length, calls, 'the DNS backend was called');
  }

  for (const [what, name] of HOSTILE_NAMES) {
    test(`a name with ${what}`, async () => {
      await assertRefusedWithoutEffect(() => h.router.configureDns(dnsRequest({ hosts: { [name]: '172.18.0.5' } })));
      await assertRefusedWithoutEffect(() => h.router.configureDns(dnsRequest({ hostAddresses: [{ name, addresses: ['172.18.0.5'] }] })));
      // One hostile name spoils a request with valid ones, whichever field holds it.
      await assertRefusedWithoutEffect(() =>
        h.router.configureDns(dnsRequest({ hosts: { api: '172.18.0.6' }, hostAddresses: [{ name: 'cache', addresses: ['172.18.0.7'] }, { name, addresses: ['172.18.0.5'] }] })),
      );
      await assertRefusedWithoutEffect(() => h.router.removeDnsHosts(100, [name]));
      await assertRefusedWithoutEffect(() => h.router.removeDnsHosts(100, ['web', name]));
    });

    // An empty domain is no domain.
    if (name === '') continue;
    test(`a domain with ${what}`, async () => {
      await assertRefusedWithoutEffect(() => h.router.configureDns(dnsRequest({ domain: name })));
      await assertRefusedWithoutEffect(() => h.router.configureDns(dnsRequest({ domain: `${name}.`, hosts: { api: '172.18.0.6' } })));
    });
  }

  for (const [what, address] of HOSTILE_ADDRESSES) {
    test(`an address with ${what}`, async () => {
      await assertRefusedWithoutEffect(() => h.router.configureDns(dnsRequest({ hosts: { api: address } })));
      await assertRefusedWithoutEffect(() => h.router.configureDns(dnsRequest({ hostAddresses: [{ name: 'api', addresses: ['172.18.0.6', address] }] })));
    });
  }

  test('a name given without addresses', async () => {
    await assertRefusedWithoutEffect(() => h.router.configureDns(dnsRequest({ hostAddresses: [{ name: 'api', addresses: [] }] })));
  });

  test('the valid configuration stands, as the backend last received it', async () => {
    const want = { domain: 'corp', hosts: { db: ['172.18.0.3', '172.18.0.4'], web: ['172.18.0.2'] } };
    assert.deepEqual(h.storedNetworks()[0]?.dns, want);
    assert.deepEqual(dns.syncs.at(-1)?.map((n) => n.network.dns), [want]);
  });
});
