import assert from 'node:assert/strict';
import { test } from 'node:test';
import { percentiles, quantile } from '../src/stats.js';

test('quantiles by nearest rank, whatever the order of the samples', () => {
  const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.deepEqual(percentiles(samples), { p50: 50, p99: 99 });
  assert.equal(quantile([7], 0.99), 7);
  assert.equal(quantile([3, 1, 2], 0.5), 2);
});

test('no samples is an error, not a number', () => {
  assert.throws(() => quantile([], 0.5), /no samples/);
});
