/**
 * The router-service daemon as a library: its configuration, the gRPC
 * services over core's Router, and the daemon's lifetime. The program is
 * main.js.
 */
export * from './config.js';
export * from './daemon.js';
export * from './health-service.js';
export * from './descriptor-index.js';
export * from './reflection-service.js';
export * from './service.js';
export * from './status.js';
export * from './plugins.js';
export * from './log.js';
