#!/usr/bin/env node
/**
 * router-service: the router of a helper VM. Serves router.RouterService
 * over gRPC and turns each requested network into an 802.1Q VLAN link on
 * the parent interface, with the gateway address on it.
 *
 * Exit codes: 0 after a clean stop (SIGINT, SIGTERM), 1 when starting or
 * serving fails, 2 for a bad configuration.
 */
import { errorMessage } from '@router-service/core';
import { ConfigError, parseConfig } from './config.js';
import { startDaemon } from './daemon.js';
import { createLogger } from './log.js';

async function main(args: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseConfig(args);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`router-service: ${err.message}\n`);
    return 2;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(parsed.text);
    return 0;
  }
  const { config } = parsed;
  const log = createLogger(config.logFormat, config.logLevel);
  // Listen before starting: a signal that arrives while the daemon starts
  // stops it as soon as it is up, instead of killing it half-started. The
  // listeners stay (not `once`): with none left, a child process runner's
  // own signal handler would re-raise the signal and kill the process. A
  // second signal gives up on a stop that takes too long.
  let signalled = false;
  const signal = new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (received: NodeJS.Signals) => {
      if (signalled) {
        log.warn({ signal: received }, 'second signal: exiting without finishing the stop');
        process.exit(1);
      }
      signalled = true;
      resolve(received);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  let daemon;
  try {
    daemon = await startDaemon(config, log);
  } catch (err) {
    log.error({ err: errorMessage(err) }, 'router-service stopped');
    return 1;
  }
  log.info({ signal: await signal }, 'shutting down');
  await daemon.stop();
  return 0;
}

// Exit explicitly: a plugin or a client connection must not keep a stopped daemon alive.
process.exit(await main(process.argv.slice(2)));
