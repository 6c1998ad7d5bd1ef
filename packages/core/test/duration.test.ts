import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatSeconds, parseDuration } from '../src/duration.js';

const parsed: ReadonlyArray<readonly [string, number | undefined]> = [
  ['0', 0],
  ['500ms', 500],
  ['2s', 2000],
  ['30s', 30_000],
  ['1m', 60_000],
  ['1h', 3_600_000],
  ['1h2m3s', 3_723_000],
  ['1m30s', 90_000],
  ['1.5s', 1500],
  ['1.5h', 5_400_000],
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

for (const [text, want] of parsed) {
  test(`parseDuration(${JSON.stringify(text)}) = ${want}`, () => {
    assert.equal(parseDuration(text), want);
  });
}

test('whole seconds are printed in the same notation', () => {
  for (const [seconds, text] of [[0, '0s'], [59, '59s'], [60, '1m0s'], [3600, '1h0m0s'], [93784, '26h3m4s']] as const) {
    assert.equal(formatSeconds(seconds), text);
  }
});
