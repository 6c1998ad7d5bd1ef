import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ResyncLoop, nextBackoff } from '../src/resync-loop.js';

/** Resolves after ms, for loops that must show they did not run. */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A sync that records its calls and fails the first `failures` times. */
function countingSync(failures: number) {
  const calls: number[] = [];
  const waiters: Array<() => void> = [];
  return {
    calls,
    sync: async () => {
      calls.push(Date.now());
      for (const wake of waiters.splice(0)) wake();
      if (calls.length <= failures) throw new Error(`sync #${calls.length} fails`);
    },
    /** Resolves once at least n calls happened. */
    async calledTimes(n: number): Promise<void> {
      while (calls.length < n) await new Promise<void>((resolve) => waiters.push(resolve));
    },
  };
}

describe('ResyncLoop', () => {
  test('syncs on a kick and retries a failure with backoff', async () => {
    const counter = countingSync(1);
    const loop = new ResyncLoop({ sync: counter.sync });
    // An hour-long interval: every sync below comes from the kick or from
    // the retry after a failure, never from the timer.
    loop.start(3_600_000);
    loop.kick();
    await counter.calledTimes(2);
    const [first = 0, second = 0] = counter.calls;
    assert.ok(second - first >= 450, `retried after ${second - first} ms, not after the 500 ms backoff`);
    await sleep(700);
    assert.equal(counter.calls.length, 2, 'a successful sync was retried');
    await loop.stop();
  });

  test('a kick before start syncs as soon as it starts', async () => {
    const counter = countingSync(0);
    const loop = new ResyncLoop({ sync: counter.sync });
    loop.kick();
    assert.equal(counter.calls.length, 0);
    loop.start(3_600_000);
    await counter.calledTimes(1);
    await loop.stop();
  });

  test('syncs every interval', async () => {
    const counter = countingSync(0);
    const loop = new ResyncLoop({ sync: counter.sync });
    loop.start(30);
    await counter.calledTimes(3);
    await loop.stop();
  });

  test('stop waits for the sync in flight and ends the loop', async () => {
    let release: () => void = () => {};
    let calls = 0;
    const loop = new ResyncLoop({
      sync: () => {
        calls++;
        return new Promise<void>((resolve) => (release = resolve));
      },
    });
    loop.start(10);
    await sleep(40);
    assert.equal(calls, 1);
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    await sleep(10);
    assert.equal(stopped, false, 'stop returned while a sync was running');
    release();
    await stopping;
    loop.kick();
    await sleep(40);
    assert.equal(calls, 1, 'the loop synced after stop');
  });

  test('rejects a non-positive interval', () => {
    const loop = new ResyncLoop({ sync: async () => {} });
    assert.throws(() => loop.start(0), /must be positive/);
  });

  test('the backoff stays bounded after many failures', () => {
    let backoff = 500;
    for (let i = 0; i < 2000; i++) {
      backoff = nextBackoff(backoff, 30_000);
      assert.ok(backoff > 0 && backoff <= 30_000, `after ${i + 1} failures the backoff is ${backoff}`);
    }
    assert.equal(backoff, 30_000);
  });
});
