/**
 * Switching backends. The store records, per kind, the configured backend
 * whose objects the kernel holds. A daemon started with another one tears
 * the recorded one down before the new one's first sync, and records the
 * new one only once that sync succeeded: a crash in between leaves the old
 * record, so the next start tears down again (teardown is idempotent)
 * instead of leaving the old backend's rules behind. A teardown that fails
 * is recorded too, and tried again at every start until it succeeds, also
 * after the configuration changed again.
 */
import { errorMessage, type BackendKind, type DnsBackend, type FirewallBackend, type Logger, type Store } from '@router-service/core';
import { NO_BACKEND, loadBackend, type ModuleImporter, type PluginContext } from './plugins.js';

export interface BackendSwitchContext {
  store: Store;
  plugin: PluginContext;
  log: Logger;
  /** How plugin modules are imported; import() unless a test says otherwise. */
  importModule?: ModuleImporter | undefined;
}

/**
 * Tears down the `kind` backends whose objects the kernel may hold besides
 * `configured`'s: the one the store records as active, and those whose
 * teardown failed before. Never throws: a backend that cannot be loaded is
 * logged as an error saying that its objects stay (it is not tried again);
 * one whose teardown fails, as an error saying that the next start tries
 * again, and it is recorded so that it does (a failure to record it is
 * logged too).
 */
async function retireEarlierBackends(kind: BackendKind, configured: string, context: BackendSwitchContext): Promise<void> {
  const { store } = context;
  const retiring = store.retiringBackends(kind);
  const candidates = new Set([store.activeBackend(kind), ...retiring]);
  for (const name of ['', NO_BACKEND, configured]) candidates.delete(name);
  const failed: string[] = [];
  for (const previous of candidates) {
    if (await tearDownFails(kind, previous, configured, context)) failed.push(previous);
  }
  if (failed.length === retiring.length && failed.every((name, i) => name === retiring[i])) return;
  try {
    store.setRetiringBackends(kind, failed);
  } catch (err) {
    context.log.error({ kind, retiring: failed, err: errorMessage(err) }, `recording the ${kind} backends still to tear down failed`);
  }
}

/** Tears down the `previous` backend; true if its teardown failed, so that the next start tries again. */
async function tearDownFails(kind: BackendKind, previous: string, configured: string, context: BackendSwitchContext): Promise<boolean> {
  const { log } = context;
  let backend;
  try {
    backend = await loadBackend(kind, previous, context.plugin, context.importModule);
  } catch (err) {
    log.error(
      { kind, previous, configured, err: errorMessage(err) },
      `cannot load the previous ${kind} backend to remove what it set up: its objects stay in the kernel until removed by hand`,
    );
    return false;
  }
  try {
    await backend?.teardown();
    log.info({ kind, previous, configured }, `${kind} backend switched: removed what the previous one set up`);
    return false;
  } catch (err) {
    log.error(
      { kind, previous, configured, err: errorMessage(err) },
      `tearing down the previous ${kind} backend failed: its objects stay in the kernel, and the next start tries again`,
    );
    return true;
  }
}

/**
 * A function that records `configured` as the active `kind` backend the
 * first time it is called, and does nothing after.
 */
function recordOnce(kind: BackendKind, configured: string, store: Store): () => void {
  let recorded = false;
  return () => {
    if (recorded) return;
    store.setActiveBackend(kind, configured);
    recorded = true;
  };
}

/**
 * Retires the recorded firewall backend if the configuration changed it, and
 * returns `firewall` so that its first successful sync records it ("none"
 * is recorded at once: it has nothing to sync).
 */
export async function switchFirewall(
  configured: string,
  firewall: FirewallBackend | undefined,
  context: BackendSwitchContext,
): Promise<FirewallBackend | undefined> {
  await retireEarlierBackends('firewall', configured, context);
  if (context.store.activeBackend('firewall') === configured) return firewall;
  const record = recordOnce('firewall', configured, context.store);
  if (firewall === undefined) {
    record();
    return undefined;
  }
  return {
    name: firewall.name,
    async sync(state) {
      await firewall.sync(state);
      record();
    },
    update: (previous, next) => firewall.update(previous, next),
    drift: (state) => firewall.drift(state),
    teardown: () => firewall.teardown(),
    close: async () => {
      await firewall.close?.();
    },
  };
}

/** As switchFirewall, for the DNS backend. */
export async function switchDns(
  configured: string,
  dns: DnsBackend | undefined,
  context: BackendSwitchContext,
): Promise<DnsBackend | undefined> {
  await retireEarlierBackends('dns', configured, context);
  if (context.store.activeBackend('dns') === configured) return dns;
  const record = recordOnce('dns', configured, context.store);
  if (dns === undefined) {
    record();
    return undefined;
  }
  return {
    name: dns.name,
    async sync(networks) {
      await dns.sync(networks);
      record();
    },
    teardown: () => dns.teardown(),
    close: async () => {
      await dns.close?.();
    },
  };
}
