import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_COUNT, parseOptions, UsageError } from '../src/options.js';

test('defaults: 10, 100 and 1,000 names, 1,000 updates of ours and 100 of the original, Debian\'s dnsmasq', () => {
  const options = parseOptions([]);
  assert.equal(options.dnsmasq, '/usr/sbin/dnsmasq');
  assert.equal(options.quick, false);
  assert.deepEqual(options.workload.sizes, [10, 100, 1_000]);
  assert.equal(options.workload.updates, 1_000);
  assert.equal(options.workload.baselineUpdates, 100);
});

test('counts given on the command line replace those of the mode; sizes are deduplicated and sorted', () => {
  const options = parseOptions(['--quick', '--updates', '7', '--baseline-updates', '1', '--sizes', '40,5,40', '--dnsmasq', '/opt/dnsmasq']);
  assert.equal(options.quick, true);
  assert.deepEqual(options.workload.sizes, [5, 40]);
  assert.deepEqual([options.workload.updates, options.workload.baselineUpdates], [7, 1]);
  assert.equal(options.dnsmasq, '/opt/dnsmasq');
});

test('bad arguments are usage errors', () => {
  const bad = [['--updates', '0'], ['--updates', `${MAX_COUNT + 1}`], ['--sizes', '10,x'], ['--sizes', '0'], ['--sizes', `${MAX_COUNT + 1}`], ['--dnsmasq', 'dnsmasq'], ['--updates'], ['--fast']];
  for (const args of bad) assert.throws(() => parseOptions(args), UsageError, args.join(' '));
});
