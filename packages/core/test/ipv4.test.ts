import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  broadcast,
  contains,
  formatIPv4,
  mustParseIPv4Prefix,
  nextAddress,
  overlaps,
  parseAddress,
  parseIPv4,
  parsePrefix,
} from '../src/ipv4.js';
import { quote } from '../src/quote.js';

describe('ipv4', () => {
  test('broadcast', () => {
    for (const [prefix, want] of [
      ['172.18.0.0/16', '172.18.255.255'],
      ['10.0.0.0/30', '10.0.0.3'],
      ['10.0.0.0/8', '10.255.255.255'],
      ['192.0.2.64/27', '192.0.2.95'],
      ['0.0.0.0/0', '255.255.255.255'],
      ['192.0.2.7/32', '192.0.2.7'],
    ] as const) {
      assert.equal(formatIPv4(broadcast(mustParseIPv4Prefix(prefix))), want, prefix);
    }
  });

  test('parses dotted quads strictly', () => {
    assert.equal(parseIPv4('255.255.255.255'), 0xffffffff);
    assert.equal(parseIPv4('0.0.0.0'), 0);
    for (const bad of ['256.0.0.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.4 ', '', '1..2.3', '+1.2.3.4']) {
      assert.equal(parseIPv4(bad), undefined, bad);
    }
  });

  test('addresses: IPv6 is recognised, mapped IPv4 unmapped', () => {
    assert.deepEqual(parseAddress('::ffff:192.0.2.1'), { family: 4, address: 0xc0000201 });
    assert.deepEqual(parseAddress('::FFFF:c000:0201'), { family: 4, address: 0xc0000201 });
    assert.deepEqual(parseAddress('fd00:0:0:0:0:0:0:1'), { family: 6, text: 'fd00::1' });
    assert.deepEqual(parseAddress('2001:db8:0:1:0:0:0:1'), { family: 6, text: '2001:db8:0:1::1' });
    assert.deepEqual(parseAddress('2001:db8:0:1:1:1:1:1'), { family: 6, text: '2001:db8:0:1:1:1:1:1' });
    assert.deepEqual(parseAddress('fe80::1%eth0'), { family: 6, text: 'fe80::1%eth0' });
    for (const bad of ['gw', '1::2::3', '12345::', ':::', 'fe80::1%', '1:2:3:4:5:6:7:8:9']) {
      assert.equal(parseAddress(bad), undefined, bad);
    }
  });

  test('prefixes', () => {
    assert.deepEqual(parsePrefix('10.0.0.0/8'), { family: 4, prefix: { address: 0x0a000000, bits: 8 } });
    assert.deepEqual(parsePrefix('fd00::/64'), { family: 6 });
    assert.deepEqual(parsePrefix('::ffff:10.0.0.0/104'), { family: 6 });
    for (const bad of ['10.0.0.0', '10.0.0.0/33', '10.0.0.0/08', '10.0.0.0/', 'fd00::/129', 'fe80::%1/64', '10.0.0.0/-1']) {
      assert.equal(parsePrefix(bad), undefined, bad);
    }
  });

  test('contains and overlaps', () => {
    const p = mustParseIPv4Prefix('172.18.0.0/16');
    assert.ok(contains(p, parseIPv4('172.18.255.255') ?? 0));
    assert.ok(!contains(p, parseIPv4('172.19.0.0') ?? 0));
    assert.ok(overlaps(p, mustParseIPv4Prefix('172.16.0.0/12')));
    assert.ok(overlaps(mustParseIPv4Prefix('0.0.0.0/0'), p));
    assert.ok(!overlaps(p, mustParseIPv4Prefix('172.19.0.0/16')));
  });

  test('next address stops at the top of the space', () => {
    assert.equal(nextAddress(0xfffffffe), 0xffffffff);
    assert.equal(nextAddress(0xffffffff), undefined);
  });
});

describe('quote', () => {
  test("renders like Go's %q", () => {
    assert.equal(quote(''), '""');
    assert.equal(quote('a\nb'), '"a\\nb"');
    assert.equal(quote('tab\there "q" \\'), '"tab\\there \\"q\\" \\\\"');
    assert.equal(quote('\x00\x7f'), '"\\x00\\x7f"');
    assert.equal(quote('caf\u00e9 \u200b'), '"caf\u00e9 \\u200b"');
  });
});
