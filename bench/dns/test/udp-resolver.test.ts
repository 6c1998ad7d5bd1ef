// The stub resolver against the fake upstream on loopback: answers, wrong
// answers and silence are told apart, and a stray answer is not taken for
// one of ours.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, before, test } from 'node:test';
import { FakeUpstream } from '@router-service/test-support';
import { answers, UdpResolver } from '../src/udp-resolver.js';

let upstream: FakeUpstream;

before(async () => {
  upstream = await FakeUpstream.start(undefined, '127.0.0.1', 0, { web: ['127.0.0.5', '127.0.0.6'] });
});
after(async () => {
  await upstream?.stop();
});

test('a known name answers its addresses; an unknown one NXDOMAIN', async () => {
  const resolver = await UdpResolver.open('127.0.0.1', upstream.port, 2000);
  try {
    const [known, unknown] = await Promise.all([resolver.ask('WEB'), resolver.ask('db')]);
    assert.deepEqual(known, { kind: 'answer', rcode: 'NOERROR', addresses: ['127.0.0.5', '127.0.0.6'] });
    assert.ok(answers(known, '127.0.0.6'));
    assert.ok(!answers(known, '127.0.0.7'));
    assert.equal(unknown.kind === 'answer' && unknown.rcode, 'NXDOMAIN');
    assert.ok(!answers(unknown, '127.0.0.5'));
  } finally {
    resolver.close();
  }
});

test('a server that never answers leaves the query unanswered after the timeout', async () => {
  const silent = createSocket('udp4');
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
  const resolver = await UdpResolver.open('127.0.0.1', silent.address().port, 50);
  try {
    assert.deepEqual(await resolver.ask('web'), { kind: 'unanswered' });
  } finally {
    resolver.close();
    silent.close();
  }
});
