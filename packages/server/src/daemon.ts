/**
 * The daemon's lifetime: open the state, resolve the parent, converge the
 * kernel, serve every endpoint; and, on stop, the same in reverse, letting
 * calls in flight finish first.
 */
import { Server } from '@grpc/grpc-js';
import { Router, openSqliteStore, errorMessage, type Logger, type Store, type VlanBackend } from '@router-service/core';
import { RouterServiceService, health } from '@router-service/proto';
import { serveEndpoint, type ServedEndpoint } from '@router-service/transport';
import { createIproute2VlanBackend } from '@router-service/vlan-iproute2';
import { describeConfig, type DaemonConfig } from './config.js';
import { HealthService } from './health-service.js';
import { loadBackend } from './plugins.js';
import { ReflectionService } from './reflection-service.js';
import { routerServiceHandlers } from './service.js';

/** The services a daemon offers, by full name, as reflection lists them. */
export const ROUTER_SERVICE_NAME = 'router.RouterService';
const SERVED_SERVICES = [
  ROUTER_SERVICE_NAME,
  'grpc.health.v1.Health',
  'grpc.reflection.v1.ServerReflection',
  'grpc.reflection.v1alpha.ServerReflection',
];

/** How long a stop waits for calls in flight before cutting connections. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

export interface DaemonDependencies {
  /** Defaults to iproute2 in the daemon's own namespace. */
  vlan?: VlanBackend;
  /** Defaults to the SQLite store in the configured state directory. */
  openStore?: (dir: string) => Store;
}

export interface RunningDaemon {
  readonly router: Router;
  /** The served addresses, as URLs. */
  readonly addresses: readonly string[];
  /**
   * Stops accepting, lets calls in flight finish (up to graceMs, then cuts
   * them off), closes the router (waiting up to graceMs more for its work)
   * and the store.
   */
  stop(graceMs?: number): Promise<void>;
}

/** Builds a gRPC server offering router.RouterService, health and reflection over `router`. */
export function createGrpcServer(router: Router, log: Logger): { server: Server; health: HealthService } {
  const server = new Server();
  server.addService(RouterServiceService, routerServiceHandlers(router, log));
  const healthService = new HealthService([ROUTER_SERVICE_NAME]);
  server.addService(health.HealthService, healthService.handlers);
  new ReflectionService(SERVED_SERVICES).register(server);
  return { server, health: healthService };
}

export async function startDaemon(config: DaemonConfig, log: Logger, deps: DaemonDependencies = {}): Promise<RunningDaemon> {
  const vlan = deps.vlan ?? createIproute2VlanBackend({ log });
  const store = (deps.openStore ?? openSqliteStore)(config.stateDir);
  const cleanups: Array<() => Promise<void> | void> = [() => store.close()];
  const unwind = async () => {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (err) {
        log.warn({ err: errorMessage(err) }, 'cleanup after a failed start failed');
      }
    }
  };
  try {
    const context = { log, stateDir: config.stateDir };
    const firewall = await loadBackend('firewall', config.firewall, context);
    const dns = await loadBackend('dns', config.dns, context);
    log.info({ vlan: vlan.name, firewall: firewall?.name ?? 'none', dns: dns?.name ?? 'none' }, 'backends chosen');

    const router = await Router.open({ store, vlan, firewall, dns, parent: config.parent, log });
    cleanups.push(() => router.close());
    try {
      await router.resync();
    } catch (err) {
      // Not fatal: the service answers, reports unhealthy with the reason,
      // and the loop keeps retrying.
      log.warn({ err: errorMessage(err) }, 'initial resync failed; serving and retrying');
    }
    router.startResyncLoop(config.resyncIntervalMs);

    const { server, health: healthService } = createGrpcServer(router, log);
    cleanups.push(() => server.forceShutdown());
    const served: ServedEndpoint[] = [];
    for (const endpoint of config.listen) {
      const listener = await serveEndpoint(server, endpoint, {
        allowRemoteTcp: config.allowRemoteTcp,
        allowCids: config.vsockAllowCids,
        log,
      });
      served.push(listener);
      cleanups.push(() => listener.close());
    }
    const addresses = served.map((s) => s.address);
    log.info({ ...describeConfig(config), listen: addresses, parent: router.parent }, 'serving');

    let stopping: Promise<void> | undefined;
    return {
      router,
      addresses,
      stop(graceMs = DEFAULT_SHUTDOWN_GRACE_MS) {
        stopping ??= (async () => {
          healthService.shutdown();
          await Promise.all(served.map((s) => s.close()));
          await shutdownGracefully(server, graceMs);
          // A kernel call stuck past the grace period must not keep a
          // stopping daemon alive: give up on it and close anyway.
          const closed = await settlesWithin(router.close(), graceMs);
          if (!closed) log.warn({ grace_ms: graceMs }, 'work in flight did not finish; closing anyway');
          store.close();
          log.info({}, 'stopped');
        })();
        return stopping;
      },
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}

/** Whether `promise` settles within `ms`; a rejection counts as settled. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)));
  try {
    return await Promise.race([promise.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function shutdownGracefully(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const deadline = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(deadline);
      resolve();
    });
  });
}
