import assert from 'node:assert/strict';
import { test } from 'node:test';
import { outagesOf } from '../src/steady-mode.js';

const sent = (pattern: string) => [...pattern].map((c, i) => ({ at: i * 10, ok: c === '+' }));

test('an outage runs from the first failed query to the next answered one', () => {
  assert.deepEqual(outagesOf(sent('++++'), 2000), { outages: 0, longestOutageMs: 0 });
  assert.deepEqual(outagesOf(sent('+--+-+'), 2000), { outages: 2, longestOutageMs: 20 });
  assert.deepEqual(outagesOf(sent('-----+'), 2000), { outages: 1, longestOutageMs: 50 });
});

test('failures up to the end last until the last one timed out', () => {
  assert.deepEqual(outagesOf(sent('++--'), 2000), { outages: 1, longestOutageMs: 2010 });
  assert.deepEqual(outagesOf([], 2000), { outages: 0, longestOutageMs: 0 });
});
