/**
 * The daemon's lifetime: open the state, resolve the parent, converge the
 * kernel, serve every endpoint; and, on stop, the same in reverse, letting
 * calls in flight finish first.
 */
import { Server } from '@grpc/grpc-js';
import {
  Router,
  openSqliteStore,
  errorMessage,
  type ConnectionTracker,
  type FirewallBackend,
  type Logger,
  type Store,
  type VlanBackend,
} from '@router-service/core';
import { createConntrackTracker } from '@router-service/conntrack';
import { RouterServiceService, health } from '@router-service/proto';
import { serveEndpoint, type ServedEndpoint } from '@router-service/transport';
import { createIproute2VlanBackend } from '@router-service/vlan-iproute2';
import { describeConfig, type DaemonConfig } from './config.js';
import { HealthService } from './health-service.js';
import { switchDns, switchFirewall } from './backend-switch.js';
import { NO_BACKEND, loadBackend, type ModuleImporter, type PluginContext } from './plugins.js';
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
  /** How plugin modules named in the configuration are imported; defaults to import(). */
  importModule?: ModuleImporter;
}

export interface RunningDaemon {
  readonly router: Router;
  /** The served addresses, as URLs. */
  readonly addresses: readonly string[];
  /**
   * Stops accepting, lets calls in flight finish (up to graceMs, then cuts
   * them off), closes the router (waiting up to graceMs more for its work,
   * after which the DNS backend stops the resolvers it runs) and the store.
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
    const context: PluginContext = {
      log,
      stateDir: config.stateDir,
      dns: { upstreams: config.dns.upstreams, dnsmasqPath: config.dns.dnsmasqPath },
    };
    const loadedFirewall = await loadBackend('firewall', config.firewall, context, deps.importModule);
    const loadedDns = await loadBackend('dns', config.dns.backend, context, deps.importModule);
    const connectionTracker = connectionTrackerFor(config, loadedFirewall, log);
    log.info(
      {
        vlan: vlan.name,
        firewall: loadedFirewall?.name ?? NO_BACKEND,
        dns: loadedDns?.name ?? NO_BACKEND,
        conntrack: connectionTracker?.name ?? NO_BACKEND,
      },
      'backends chosen',
    );
    // Before the first sync: what a previous backend set up goes first.
    const switching = { store, plugin: context, log, importModule: deps.importModule };
    const firewall = await switchFirewall(config.firewall, loadedFirewall, switching);
    const dns = await switchDns(config.dns.backend, loadedDns, switching);

    const router = await Router.open({ store, vlan, firewall, dns, connectionTracker, parent: config.parent, log });
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

/** The tracker that ends removed flows: only a firewall makes flows to forget. */
function connectionTrackerFor(config: DaemonConfig, firewall: FirewallBackend | undefined, log: Logger): ConnectionTracker | undefined {
  if (firewall === undefined || config.conntrack === NO_BACKEND) return undefined;
  return createConntrackTracker({ conntrackPath: config.conntrack, log });
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
