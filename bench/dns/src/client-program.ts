#!/usr/bin/env node
/**
 * The benchmark's DNS client, run inside the container namespace:
 * `node client-program.js MODE SPEC`, MODE one of watch, steady, flood,
 * check and SPEC the mode's spec as JSON (client-protocol.ts). Prints JSON
 * lines on stdout; exits 2 on a bad command line or a failure of its own.
 */
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { check } from './check-mode.js';
import type { CheckSpec, FloodSpec, SteadySpec, WatchSpec } from './client-protocol.js';
import { flood } from './flood-mode.js';
import { steady } from './steady-mode.js';
import { watch } from './watch-mode.js';

function print(line: object): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

async function main(mode: string | undefined, specText: string | undefined): Promise<void> {
  if (specText === undefined) throw new Error('usage: client-program.js watch|steady|flood|check SPEC_JSON');
  const spec: unknown = JSON.parse(specText);
  switch (mode) {
    case 'watch': {
      const lines = createInterface({ input: process.stdin });
      print({ event: 'ready' });
      await watch(spec as WatchSpec, lines, print);
      return;
    }
    case 'steady': {
      const lines = createInterface({ input: process.stdin });
      const inputEnded = once(lines, 'close').then(() => undefined);
      print(await steady(spec as SteadySpec, inputEnded, () => print({ event: 'ready' })));
      return;
    }
    case 'flood':
      print(await flood(spec as FloodSpec));
      return;
    case 'check':
      print(await check(spec as CheckSpec));
      return;
    default:
      throw new Error(`unknown mode ${JSON.stringify(mode)}: watch, steady, flood or check`);
  }
}

main(process.argv[2], process.argv[3]).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(2);
});
