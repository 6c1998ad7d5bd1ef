#!/usr/bin/env node
/** The routerctl executable. */
import { createRouterClient } from '@router-service/transport';
import { runRouterctl } from './run.js';

process.exitCode = await runRouterctl(
  process.argv.slice(2),
  { stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text) },
  (addr) => createRouterClient(addr),
);
