/**
 * The DNS backend of router-service on dnsmasq: one dnsmasq per
 * DNS-enabled network, listening on the network's gateway only, started in
 * the foreground and supervised, its names in hosts files that dnsmasq
 * re-reads when they are replaced. See README.md for the arguments and why.
 */
import { resolve } from 'node:path';
import { silentLogger, type DnsBackend, type Logger } from '@router-service/core';
import { DnsmasqBackend } from './backend.js';
import { DEFAULT_BACKOFF, type BackoffPolicy } from './supervisor.js';
import { BACKEND_NAME, checkNetnsName, checkPath, checkUpstream } from './validate.js';

export { DnsmasqBackend, type DnsmasqBackendConfig } from './backend.js';
export { dnsmasqNetworkOf, type DnsmasqNetwork, type HostRecord } from './desired.js';
export { HostsDirectory, type HostsDirChange } from './hosts-dir.js';
export { PID_FILE_NAME, dnsmasqRoot, hostsTempName, networkPaths, type NetworkPaths } from './paths.js';
export { commandLine, endStaleDnsmasq, isOwnedDnsmasq, isRunning, readPidFile, type OwnedDnsmasq, type StaleOutcome } from './processes.js';
export { renderArgv, renderHostsFiles, reverseZones, type HostsFile, type DnsmasqSettings, type DnsmasqUser } from './render.js';
export { DEFAULT_BACKOFF, DnsmasqSupervisor, type BackoffPolicy, type Command, type SupervisorOptions } from './supervisor.js';
export { chooseUser, hasNobody, type UserChoice } from './user.js';
export { BACKEND_NAME, checkDomain, checkIPv4, checkName, checkNetnsName, checkPath, checkSubnet, checkUpstream, checkVlan } from './validate.js';

export const DEFAULT_DNSMASQ_PATH = '/usr/sbin/dnsmasq';
export const DEFAULT_RESOLV_CONF = '/etc/resolv.conf';
/** iproute2 by full path, for `ip netns exec`. */
const IP_PATH = '/usr/sbin/ip';
const STOP_GRACE_MS = 3000;

/** Options of `createDnsmasqBackend`. */
export interface DnsmasqBackendOptions {
  /** The daemon's state directory: the backend's files go under <stateDir>/dnsmasq/. */
  stateDir: string;
  /** Default /usr/sbin/dnsmasq. */
  dnsmasqPath?: string;
  /**
   * Where names other than the networks' own are sent (`ADDRESS[#PORT]`);
   * null or absent: the servers of `resolvConf`. Internal networks get none.
   */
  upstreams?: readonly string[] | null;
  /** Read when `upstreams` is null. Default /etc/resolv.conf. */
  resolvConf?: string;
  /** Run dnsmasq inside this named network namespace (`ip netns exec`), for tests. */
  netns?: string;
  log?: Logger;
  /** How restarts after a crash are spaced; DEFAULT_BACKOFF unless given. */
  backoff?: BackoffPolicy;
}

/**
 * A DnsBackend that runs dnsmasq. The options are checked here: a bad
 * upstream or path is an invalid error before anything runs.
 */
export function createDnsmasqBackend(options: DnsmasqBackendOptions): DnsmasqBackend {
  return new DnsmasqBackend({
    stateDir: checkPath(resolve(options.stateDir), 'state directory'),
    dnsmasqPath: checkPath(options.dnsmasqPath ?? DEFAULT_DNSMASQ_PATH, 'dnsmasq program'),
    upstreams: options.upstreams === null || options.upstreams === undefined ? null : options.upstreams.map(checkUpstream),
    resolvConf: checkPath(options.resolvConf ?? DEFAULT_RESOLV_CONF, 'resolv.conf'),
    netns: options.netns === undefined ? undefined : checkNetnsName(options.netns),
    ipPath: IP_PATH,
    log: options.log ?? silentLogger,
    backoff: options.backoff ?? DEFAULT_BACKOFF,
    stopGraceMs: STOP_GRACE_MS,
  });
}

/** What the daemon hands a plugin's factory; the subset this plugin uses. */
export interface DnsmasqPluginContext {
  log: Logger;
  stateDir: string;
  /** DNS settings of the daemon's configuration; absent: the defaults. */
  dns?: {
    upstreams: readonly string[] | null;
    dnsmasqPath: string;
  };
}

/** The plugin the daemon loads for `dns: dnsmasq`. */
const plugin = {
  kind: 'dns' as const,
  name: BACKEND_NAME,
  create(context: DnsmasqPluginContext): DnsBackend {
    return createDnsmasqBackend({ stateDir: context.stateDir, log: context.log, upstreams: context.dns?.upstreams ?? null, dnsmasqPath: context.dns?.dnsmasqPath });
  },
};

export default plugin;
