import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dnsConfigsEqual, withDns, withoutDnsHosts, validateDnsNames } from '../src/dns.js';
import { parseNatSource, withNat, withoutNat } from '../src/nat.js';
import { checkAttachmentsFit } from '../src/network.js';
import { assertRouterError, network, portMapping } from './helpers.js';

const net100 = network(100, '172.18.0.0/16', '172.18.0.1');

describe('NAT', () => {
  test('sources are canonical and sorted by address, repeats are no-ops', () => {
    let n = withNat(net100, parseNatSource('10.0.0.0/8'));
    n = withNat(n, parseNatSource('9.0.0.0/8'));
    n = withNat(n, parseNatSource('192.0.2.0/24'));
    n = withNat(n, parseNatSource('10.0.0.0/8'));
    assert.deepEqual(n.natSources, ['9.0.0.0/8', '10.0.0.0/8', '192.0.2.0/24']);
    assert.deepEqual(withoutNat(n, '10.0.0.0/8').natSources, ['9.0.0.0/8', '192.0.2.0/24']);
    assert.equal(withoutNat(n, '172.18.0.0/16').nat, false);
    assert.deepEqual(withoutNat(n, ''), { ...n, nat: false, natSources: [] });
  });

  test('rejects malformed and catch-all sources', async () => {
    await assertRouterError(() => parseNatSource('192.0.2.0'), 'invalid', 'source_subnet "192.0.2.0" is not a CIDR');
    await assertRouterError(() => parseNatSource('0.0.0.0/0'), 'invalid', 'would masquerade every source');
    await assertRouterError(() => parseNatSource('192.0.2.1/24'), 'invalid', 'did you mean 192.0.2.0/24?');
  });
});

describe('DNS', () => {
  test('merges, lower-cases, unmaps and sorts host names', () => {
    const n = withDns(net100, {
      subnet: '172.18.0.0/16',
      gateway: '172.18.0.1',
      domain: 'Example.Internal.',
      hosts: { Web: '172.18.0.9', db: '::ffff:172.18.0.3' },
      replaceHosts: false,
    });
    assert.deepEqual(n.dns, { domain: 'example.internal', hosts: { db: ['172.18.0.3'], web: ['172.18.0.9'] } });
    assert.deepEqual(Object.keys(n.dns?.hosts ?? {}), ['db', 'web']);
    const removed = withoutDnsHosts(n, ['WEB', 'absent']);
    assert.deepEqual(removed.dns, { domain: 'example.internal', hosts: { db: ['172.18.0.3'] } });
  });

  test('a name may have several addresses: the union of what the request gives it, distinct and sorted', () => {
    const n = withDns(net100, {
      subnet: '',
      gateway: '',
      domain: '',
      hosts: { Web: '172.18.0.10', db: '172.18.0.3' },
      hostAddresses: [
        { name: 'web', addresses: ['172.18.0.9', '::ffff:172.18.0.10', '172.18.1.2'] },
        { name: 'WEB', addresses: ['172.18.0.9'] },
        { name: 'cache', addresses: ['172.18.0.4'] },
      ],
      replaceHosts: false,
    });
    assert.deepEqual(n.dns?.hosts, {
      cache: ['172.18.0.4'],
      db: ['172.18.0.3'],
      web: ['172.18.0.9', '172.18.0.10', '172.18.1.2'],
    });
    // A later request replaces a name's addresses and keeps other names.
    const next = withDns(n, { subnet: '', gateway: '', domain: '', hosts: { web: '172.18.0.2' }, replaceHosts: false });
    assert.deepEqual(next.dns?.hosts, { cache: ['172.18.0.4'], db: ['172.18.0.3'], web: ['172.18.0.2'] });
    // Removing a name removes all its addresses.
    assert.deepEqual(withoutDnsHosts(n, ['web']).dns?.hosts, { cache: ['172.18.0.4'], db: ['172.18.0.3'] });
  });

  test('a name without an address, and a qualified name past 253 characters, are refused', async () => {
    const request = { subnet: '', gateway: '', domain: '', hosts: {}, replaceHosts: false };
    await assertRouterError(
      () => withDns(net100, { ...request, hostAddresses: [{ name: 'web', addresses: [] }] }),
      'invalid',
      'host web has no address: RemoveDNSHosts removes a name',
    );
    const label = 'a'.repeat(63);
    const domain = `${label}.${label}.${label}`;
    const name = 'b'.repeat(62);
    const withName = withDns(net100, { ...request, hosts: { [name]: '172.18.0.2' } });
    await assertRouterError(
      () => withDns(withName, { ...request, domain }),
      'invalid',
      `host name ${name}.${domain} would be 254 characters long: the limit is 253`,
    );
    assert.equal(withDns(withName, { ...request, domain: domain.slice(1) }).dns?.domain, domain.slice(1));
  });

  test('configurations compare by every address', () => {
    const one = { domain: '', hosts: { web: ['172.18.0.2'] } };
    assert.ok(dnsConfigsEqual(one, { domain: '', hosts: { web: ['172.18.0.2'] } }));
    assert.ok(!dnsConfigsEqual(one, { domain: '', hosts: { web: ['172.18.0.2', '172.18.0.3'] } }));
    assert.ok(!dnsConfigsEqual({ domain: '', hosts: { web: ['172.18.0.2', '172.18.0.3'] } }, { domain: '', hosts: { web: ['172.18.0.2', '172.18.0.4'] } }));
    assert.ok(!dnsConfigsEqual(one, { domain: '', hosts: { db: ['172.18.0.2'] } }));
    assert.ok(!dnsConfigsEqual(one, null));
    assert.ok(dnsConfigsEqual(null, null));
  });

  test('rejects bad names', async () => {
    const cases: Array<[string, string]> = [
      ['', 'must be 1 to 253 characters long'],
      ['a'.repeat(64), 'empty or over-long (>63) label'],
      ['a..b', 'empty or over-long'],
      ['web-', 'starts or ends with a hyphen'],
      ['web_1', 'is not a valid hostname'],
      [`${'a.'.repeat(127)}ab`, 'must be 1 to 253'],
    ];
    for (const [name, message] of cases) {
      await assertRouterError(() => validateDnsNames([name]), 'invalid', message);
    }
  });
});

describe('checkAttachmentsFit', () => {
  test('an internal network may not keep NAT sources', async () => {
    const n = withNat(net100, '192.0.2.0/24');
    await assertRouterError(
      () => checkAttachmentsFit(n, { ...n, internal: true }, []),
      'precondition',
      'VLAN 100 masquerades [192.0.2.0/24]: remove that NAT before making the network internal',
    );
  });

  test('a narrower subnet must keep port mappings and DNS names inside', async () => {
    const narrower = { ...net100, subnet: '172.18.0.0/24' };
    await assertRouterError(
      () => checkAttachmentsFit(net100, narrower, [portMapping('tcp', '', 8080, 100, '172.18.5.2')]),
      'precondition',
      'port mapping *:8080/tcp -> 172.18.5.2:80 (VLAN 100) would not fit the new spec (container_ip 172.18.5.2 is not inside subnet 172.18.0.0/24): remove it first',
    );
    const withName = { ...net100, dns: { domain: '', hosts: { edge: ['172.18.0.9', '172.18.0.255'] } } };
    await assertRouterError(
      () => checkAttachmentsFit(withName, narrower, []),
      'precondition',
      'DNS name edge -> 172.18.0.255 would not fit the new spec (address 172.18.0.255 is the broadcast address of 172.18.0.0/24)',
    );
    checkAttachmentsFit(withName, { ...net100, mtu: 1400 }, [portMapping('tcp', '', 8080, 100, '172.18.5.2')]);
  });
});
