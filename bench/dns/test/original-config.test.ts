import assert from 'node:assert/strict';
import { test } from 'node:test';
import { recordsIn } from '../src/names.js';
import { renderOriginalConfig } from '../src/original-config.js';

test('the original configuration: no upstream, the gateway only, one address= line per name', () => {
  const text = renderOriginalConfig({ gateway: '172.18.0.1', pidFile: '/run/bench/dnsmasq.pid' }, recordsIn({ from: 0, count: 2 }));
  assert.equal(
    text,
    [
      'no-resolv',
      'no-hosts',
      'listen-address=172.18.0.1',
      'bind-interfaces',
      'pid-file=/run/bench/dnsmasq.pid',
      'log-facility=-',
      'address=/c0/172.18.16.1',
      'address=/c1/172.18.16.2',
      '',
    ].join('\n'),
  );
});
