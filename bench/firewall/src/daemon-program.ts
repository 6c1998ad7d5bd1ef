#!/usr/bin/env node
/**
 * router-service as packages/server's main.js runs it (configuration, store,
 * gRPC services, firewall plugin, resync loop), except that a network's
 * link is a prewired veth pair (PrewiredVlanBackend), so that the daemon
 * runs on kernels without 802.1Q. Takes the daemon's flags; stops on
 * SIGTERM or SIGINT.
 */
import { errorMessage } from '@router-service/core';
import { ConfigError, createLogger, parseConfig, startDaemon } from '@router-service/server';
import { createIproute2VlanBackend } from '@router-service/vlan-iproute2';
import { PrewiredVlanBackend } from './prewired-vlan-backend.js';

async function main(args: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseConfig(args);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`bench daemon: ${err.message}\n`);
    return 2;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(parsed.text);
    return 0;
  }
  const { config } = parsed;
  const log = createLogger(config.logFormat, config.logLevel);
  // Listeners stay (not `once`), as in main.js: with none left, a child
  // process runner's own handler would re-raise the signal.
  const signal = new Promise<NodeJS.Signals>((resolve) => {
    process.on('SIGINT', resolve);
    process.on('SIGTERM', resolve);
  });
  let daemon;
  try {
    daemon = await startDaemon(config, log, { vlan: new PrewiredVlanBackend(createIproute2VlanBackend({ log })) });
  } catch (err) {
    log.error({ err: errorMessage(err) }, 'router-service stopped');
    return 1;
  }
  log.info({ signal: await signal }, 'shutting down');
  await daemon.stop();
  return 0;
}

process.exit(await main(process.argv.slice(2)));
