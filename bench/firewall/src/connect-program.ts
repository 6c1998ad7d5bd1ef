/**
 * The client's load, run inside the client namespace:
 * `node connect-program.js SPEC` where SPEC is a ConnectSpec as JSON. Opens
 * `total` TCP connections, `parallel` at a time, the i-th to
 * ports[i % ports.length]; each counts as answered once the server's byte
 * arrives, and is then reset (no TIME_WAIT left behind). Prints a
 * ConnectResult as JSON.
 */
import { connect } from 'node:net';
import type { ConnectResult, ConnectSpec } from './connect-spec.js';

const spec = JSON.parse(process.argv[2] ?? '{}') as ConnectSpec;
const result: ConnectResult = { answered: 0, failed: 0, elapsedMs: 0, failures: [] };
/** Failures kept for the message; the rest are only counted. */
const KEPT_FAILURES = 5;

function once(port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ host: spec.host, port });
    const fail = (why: string) => {
      result.failed++;
      if (result.failures.length < KEPT_FAILURES) result.failures.push(`port ${port}: ${why}`);
      socket.destroy();
      resolve();
    };
    socket.setTimeout(spec.timeoutMs, () => fail('no answer'));
    socket.once('error', (error) => fail(error.message));
    socket.once('data', () => {
      result.answered++;
      socket.resetAndDestroy();
      resolve();
    });
  });
}

let next = 0;
async function worker(): Promise<void> {
  while (next < spec.total) {
    const port = spec.ports[next % spec.ports.length];
    next++;
    if (port !== undefined) await once(port);
  }
}

const started = performance.now();
await Promise.all(Array.from({ length: Math.min(spec.parallel, spec.total) }, worker));
result.elapsedMs = performance.now() - started;
process.stdout.write(`${JSON.stringify(result)}\n`);
