import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration } from '../src/duration.js';

const table: Array<[string, number | undefined]> = [
  ['0', 0],
  ['500ms', 500],
  ['2s', 2000],
  ['30s', 30_000],
  ['1m', 60_000],
  ['1h', 3_600_000],
  ['1h2m3s', 3_723_000],
  ['1.5s', 1500],
  ['.5s', 500],
  ['250us', 0.25],
  ['250µs', 0.25],
  ['1000000ns', 1],
  ['-2s', -2000],
  ['', undefined],
  ['30', undefined],
  ['s', undefined],
  ['1d', undefined],
  ['1 s', undefined],
  ['1s ', undefined],
  ['.s', undefined],
];

for (const [text, want] of table) {
  test(`parseDuration(${JSON.stringify(text)}) = ${want}`, () => {
    assert.equal(parseDuration(text), want);
  });
}
