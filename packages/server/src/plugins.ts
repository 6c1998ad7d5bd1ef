/**
 * Firewall and DNS backends chosen by name. A plugin is a module whose
 * default export is `{ kind: 'firewall' | 'dns', name, create(context) }`;
 * a configured value that is not a built-in name is imported as a module
 * specifier (a package name, or a path relative to the working directory).
 * "none" means no backend: NAT, DNS and port mappings are then stored and
 * reported only. Built in: the `nft` firewall (packages/backend-nft), the
 * `iptables` one (packages/backend-iptables) and the `dnsmasq` DNS
 * (packages/dns-dnsmasq).
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import iptablesFirewallPlugin from '@router-service/backend-iptables';
import nftFirewallPlugin from '@router-service/backend-nft';
import dnsmasqPlugin from '@router-service/dns-dnsmasq';
import type { DnsBackend, FirewallBackend, Logger } from '@router-service/core';

export type PluginKind = 'firewall' | 'dns';

/** What a plugin's factory gets. */
export interface PluginContext {
  log: Logger;
  /** The daemon's state directory, for plugins that keep files. */
  stateDir: string;
  /** The DNS settings, for DNS plugins. */
  dns: {
    /** Resolvers for names outside the networks, "ADDRESS" or "ADDRESS#PORT"; null: those of the router's /etc/resolv.conf. */
    upstreams: readonly string[] | null;
    /** The dnsmasq binary. */
    dnsmasqPath: string;
  };
}

interface BackendOf {
  firewall: FirewallBackend;
  dns: DnsBackend;
}

export interface Plugin<K extends PluginKind = PluginKind> {
  kind: K;
  name: string;
  create(context: PluginContext): BackendOf[K] | Promise<BackendOf[K]>;
}

export type FirewallPlugin = Plugin<'firewall'>;
export type DnsPlugin = Plugin<'dns'>;

/** The value that selects no backend. */
export const NO_BACKEND = 'none';

/** Built-in plugins by kind and name; "none" is built in everywhere and creates nothing. */
const BUILT_IN: { readonly [K in PluginKind]: ReadonlyMap<string, Plugin<K>> } = {
  firewall: new Map([[nftFirewallPlugin.name, nftFirewallPlugin], [iptablesFirewallPlugin.name, iptablesFirewallPlugin]]),
  dns: new Map([[dnsmasqPlugin.name, dnsmasqPlugin]]),
};

/** The names a configuration may use for `kind` without naming a module. */
export function builtInPluginNames(kind: PluginKind): string[] {
  return [NO_BACKEND, ...BUILT_IN[kind].keys()];
}

export type ModuleImporter = (specifier: string) => Promise<unknown>;

const importModule: ModuleImporter = (specifier) => import(specifier);

/**
 * The backend `name` selects for `kind`, or undefined for "none". Throws an
 * error naming the known plugins when `name` is neither built in nor an
 * importable plugin module.
 */
export async function loadBackend<K extends PluginKind>(
  kind: K,
  name: string,
  context: PluginContext,
  load: ModuleImporter = importModule,
): Promise<BackendOf[K] | undefined> {
  if (name === NO_BACKEND) return undefined;
  const plugin = BUILT_IN[kind].get(name) ?? (await importPlugin(kind, name, load));
  return plugin.create(context);
}

async function importPlugin<K extends PluginKind>(kind: K, specifier: string, load: ModuleImporter): Promise<Plugin<K>> {
  const unknown = () =>
    new Error(
      `unknown ${kind} backend ${JSON.stringify(specifier)}: known ones are ${builtInPluginNames(kind).join(', ')}, or a module whose default export is a ${kind} plugin`,
    );
  if (specifier === '') throw unknown();
  const isPath = specifier.startsWith('.') || isAbsolute(specifier);
  let module: unknown;
  try {
    module = await load(isPath ? pathToFileURL(resolve(specifier)).href : specifier);
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_INVALID_MODULE_SPECIFIER' || code === 'ERR_UNSUPPORTED_DIR_IMPORT') {
      throw unknown();
    }
    throw new Error(`loading ${kind} plugin ${JSON.stringify(specifier)}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const plugin = (module as { default?: unknown } | null)?.default;
  if (!isPlugin(plugin, kind)) {
    throw new Error(
      `module ${JSON.stringify(specifier)} is not a ${kind} plugin: its default export must be { kind: '${kind}', name, create(context) }`,
    );
  }
  return plugin;
}

function isPlugin<K extends PluginKind>(value: unknown, kind: K): value is Plugin<K> {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return candidate.kind === kind && typeof candidate.name === 'string' && typeof candidate.create === 'function';
}
