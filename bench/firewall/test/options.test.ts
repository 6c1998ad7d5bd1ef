import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_SIZE, parseOptions, UsageError } from '../src/options.js';

test('defaults: nft, the full workload, Debian\'s iptables for the original approach', () => {
  const options = parseOptions([]);
  assert.equal(options.backend, 'nft');
  assert.equal(options.baselineIptables, '/usr/sbin/iptables');
  assert.deepEqual(options.workload.sizes, [10, 1_000, 10_000]);
  assert.equal(options.workload.concurrentClients, 32);
  assert.equal(options.workload.concurrentRounds, 3);
  assert.equal(options.workload.rangeLength, 10_000);
});

test('--sizes are deduplicated and sorted; --quick keeps them', () => {
  const options = parseOptions(['--quick', '--sizes', '30,4,30']);
  assert.equal(options.quick, true);
  assert.deepEqual(options.workload.sizes, [4, 30]);
});

test('bad arguments are usage errors', () => {
  for (const args of [['--sizes', `${MAX_SIZE + 1}`], ['--sizes', '1,x'], ['--backend', 'pf'], ['--sizes'], ['--fast']]) {
    assert.throws(() => parseOptions(args), UsageError, args.join(' '));
  }
});
