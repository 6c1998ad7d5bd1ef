/** Bounded waits for a condition the daemon brings about on its own schedule. */
import { setTimeout as sleep } from 'node:timers/promises';

const POLL_MS = 200;

/**
 * Calls `probe` until it returns "" (done) or `timeoutMs` passes; then fails
 * saying what was awaited and what the last probe returned.
 */
export async function waitUntil(what: string, timeoutMs: number, probe: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const outstanding = await probe();
    if (outstanding === '') return;
    if (Date.now() >= deadline) throw new Error(`${what}: not within ${timeoutMs} ms; last: ${outstanding}`);
    await sleep(POLL_MS);
  }
}
