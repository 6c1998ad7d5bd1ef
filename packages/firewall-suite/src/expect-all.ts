import assert from 'node:assert/strict';

/**
 * Runs independent probes at once (each one that gets no answer costs a
 * full client timeout) and checks each result, naming the failing ones.
 */
export async function expectAll(probes: ReadonlyArray<readonly [string, Promise<unknown>, unknown]>): Promise<void> {
  const results = await Promise.all(probes.map(([, probe]) => probe));
  const wrong = probes.flatMap(([label, , expected], i) =>
    results[i] === expected ? [] : [`${label}: got ${String(results[i])}, expected ${String(expected)}`],
  );
  assert.deepEqual(wrong, []);
}
