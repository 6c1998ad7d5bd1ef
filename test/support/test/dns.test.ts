import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  DNS_TYPES,
  DnsQueryLoop,
  FakeUpstream,
  NXDOMAIN,
  TcpMessageReader,
  decodeMessage,
  encodeQuery,
  encodeResponse,
  frameTcp,
  queryDnsIn,
  reverseName,
} from '../src/index.js';

test('a query decodes to what was encoded', () => {
  const message = decodeMessage(encodeQuery(0x1234, { name: 'Web.Example', type: DNS_TYPES.A }));
  assert.deepEqual(
    { id: message.id, response: message.response, rd: message.recursionDesired, rcode: message.rcode, questions: message.questions, answers: message.answers },
    { id: 0x1234, response: false, rd: true, rcode: 0, questions: [{ name: 'Web.Example', type: 1 }], answers: [] },
  );
});

test('a response carries the question, the A records by pointer, or NXDOMAIN', () => {
  const query = decodeMessage(encodeQuery(7, { name: 'multi.example', type: DNS_TYPES.A }));
  const answer = decodeMessage(encodeResponse(query, { rcode: 0, addresses: ['198.51.100.8', '198.51.100.9'], ttl: 60 }));
  assert.equal(answer.id, 7);
  assert.equal(answer.response, true);
  assert.deepEqual(answer.answers, [
    { name: 'multi.example', type: 1, ttl: 60, data: '198.51.100.8' },
    { name: 'multi.example', type: 1, ttl: 60, data: '198.51.100.9' },
  ]);
  const missing = decodeMessage(encodeResponse(query, { rcode: NXDOMAIN, addresses: [], ttl: 60 }));
  assert.equal(missing.rcode, NXDOMAIN);
  assert.deepEqual(missing.answers, []);
});

test('PTR data is a name, compressed or not', () => {
  // The answer's name is a pointer to the question's (offset 12); its data
  // is the label "web" followed by a pointer into the question's name at
  // offset 15, the label after "10": "0.18.172.in-addr.arpa".
  const query = encodeQuery(1, { name: reverseName('172.18.0.10'), type: DNS_TYPES.PTR });
  const header = Buffer.from(query.subarray(0, 12));
  header.writeUInt16BE(0x8180, 2);
  header.writeUInt16BE(1, 6);
  const rdata = Buffer.from([3, ...Buffer.from('web'), 0xc0, 15]);
  const rr = Buffer.alloc(10);
  rr.writeUInt16BE(DNS_TYPES.PTR, 0);
  rr.writeUInt16BE(1, 2);
  rr.writeUInt32BE(0, 4);
  rr.writeUInt16BE(rdata.length, 8);
  const message = Buffer.concat([header, query.subarray(12), Buffer.from([0xc0, 12]), rr, rdata]);
  const decoded = decodeMessage(message);
  assert.equal(reverseName('172.18.0.10'), '10.0.18.172.in-addr.arpa');
  assert.deepEqual(decoded.answers, [{ name: '10.0.18.172.in-addr.arpa', type: DNS_TYPES.PTR, ttl: 0, data: 'web.0.18.172.in-addr.arpa' }]);
});

test('malformed messages are refused: truncated, and pointers that do not point back', () => {
  const query = encodeQuery(1, { name: 'web', type: DNS_TYPES.A });
  assert.throws(() => decodeMessage(query.subarray(0, query.length - 1)), /truncated/);
  const loop = Buffer.from(query);
  loop.writeUInt16BE(0xc00c, 12); // the question's name points at itself
  assert.throws(() => decodeMessage(loop), /does not point backwards/);
  assert.throws(() => encodeQuery(1, { name: `${'a'.repeat(64)}.example`, type: 1 }), /bad label/);
});

test('TCP messages are reassembled from any split of the stream', () => {
  const a = encodeQuery(1, { name: 'a.example', type: 1 });
  const b = encodeQuery(2, { name: 'b.example', type: 1 });
  const stream = Buffer.concat([frameTcp(a), frameTcp(b)]);
  for (let cut = 0; cut <= stream.length; cut++) {
    const reader = new TcpMessageReader();
    const messages = [...reader.push(stream.subarray(0, cut)), ...reader.push(stream.subarray(cut))];
    assert.deepEqual(messages, [a, b], `cut at ${cut}`);
  }
});

let upstream: FakeUpstream;
before(async () => {
  upstream = await FakeUpstream.start(undefined, '127.0.0.1', 0, { 'known.example': ['198.51.100.1'], 'multi.example': ['198.51.100.2', '198.51.100.3'] });
});
after(async () => {
  await upstream?.stop();
});

test('the fake upstream answers its names over UDP and TCP, NXDOMAIN otherwise, and records every query', async () => {
  const results = await queryDnsIn(
    undefined,
    '127.0.0.1',
    [
      { transport: 'udp', type: 'A', name: 'known.example' },
      { transport: 'tcp', type: 'A', name: 'KNOWN.example' },
      { transport: 'udp', type: 'A', name: 'multi.example' },
      { transport: 'tcp', type: 'A', name: 'missing.example' },
      { transport: 'udp', type: 'PTR', name: '192.0.2.1' },
    ],
    { port: upstream.port },
  );
  assert.deepEqual(
    results.map((r) => [r.transport, r.rcode, r.answers]),
    [
      ['udp', 'NOERROR', ['198.51.100.1']],
      ['tcp', 'NOERROR', ['198.51.100.1']],
      ['udp', 'NOERROR', ['198.51.100.2', '198.51.100.3']],
      ['tcp', 'NXDOMAIN', []],
      ['udp', 'NXDOMAIN', []],
    ],
  );
  assert.deepEqual(
    (await upstream.received()).map((q) => `${q.transport} ${q.type} ${q.name}`),
    ['udp A known.example', 'tcp A KNOWN.example', 'udp A multi.example', 'tcp A missing.example', 'udp PTR 1.2.0.192.in-addr.arpa'],
  );
  assert.equal(await upstream.saw('known.EXAMPLE'), true);
  assert.equal(await upstream.saw('never.example'), false);
});

test('a question nobody answers is a TIMEOUT result, not an exception', async () => {
  const [result] = await queryDnsIn(undefined, '127.0.0.1', [{ transport: 'udp', type: 'A', name: 'x.example' }], { port: 9, timeoutMs: 200 });
  assert.ok(result?.rcode === 'TIMEOUT' || result?.rcode === 'ERROR', String(result?.rcode));
});

test('the query loop counts answers and failures, and reports watched names', async () => {
  const loop = await DnsQueryLoop.start(undefined, { server: '127.0.0.1', port: upstream.port, transports: 'both', stableName: 'known.example', stableAddress: '198.51.100.1' });
  loop.expect('multi.example', '198.51.100.3');
  loop.expectGone('missing.example');
  const summary = await loop.finish();
  assert.equal(summary.failures, 0);
  assert.equal(summary.appeared, 1);
  assert.equal(summary.gone, 1);
  assert.ok(summary.stableQueries >= 2);
  const wrong = await DnsQueryLoop.start(undefined, { server: '127.0.0.1', port: upstream.port, transports: 'udp', stableName: 'known.example', stableAddress: '198.51.100.99' });
  assert.ok((await wrong.finish()).failures > 0, 'a wrong stable answer is a failure');
});
