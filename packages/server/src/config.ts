/**
 * The daemon's settings: command-line flags over an optional JSON file
 * (--config) with the same settings as camelCase keys, over the defaults.
 * Flags follow Go's flag package, as router-service has always taken them,
 * so init scripts and unit files written for it keep working: `-parent eth0`
 * and `--parent=eth0` alike, booleans as `--allow-remote-tcp` or
 * `--allow-remote-tcp=<Go bool>`, parsing stops at the first positional.
 */
import { readFileSync } from 'node:fs';
import { parseDuration, parseIPv4 } from '@router-service/core';
import { FlagError, FlagSet, HelpRequest, type Flag, type FlagProblem } from '@router-service/flags';
import { DEFAULT_PORT, formatEndpoint, parseEndpoint, type Endpoint } from '@router-service/transport';

export type LogFormat = 'text' | 'json';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface DaemonConfig {
  /** Where to serve; vsock://:<vsockPort> when none is given. */
  listen: Endpoint[];
  vsockPort: number;
  /** When not empty, the only vsock peers accepted. */
  vsockAllowCids: number[];
  allowRemoteTcp: boolean;
  /** '' picks the recorded parent, else the interface of the default route. */
  parent: string;
  stateDir: string;
  resyncIntervalMs: number;
  logFormat: LogFormat;
  logLevel: LogLevel;
  /** Firewall plugin: a built-in name or a module specifier; "nft" by default. */
  firewall: string;
  dns: DnsSettings;
  /**
   * The conntrack binary that ends the flows of removed port mappings and
   * networks when a firewall backend is configured; "none" leaves them to
   * time out.
   */
  conntrack: string;
}

/** Which backend answers the networks' DNS, and how the dnsmasq one runs. */
export interface DnsSettings {
  /** DNS plugin: a built-in name or a module specifier; "dnsmasq" by default, "none" for no DNS ("off" in the config reads as "none"). */
  backend: string;
  /**
   * The resolvers that names outside the networks' domains are forwarded
   * to, each an IPv4 address with an optional "#PORT"; null forwards to
   * those of the router's own /etc/resolv.conf.
   */
  upstreams: string[] | null;
  /** The dnsmasq binary, an absolute path. */
  dnsmasqPath: string;
}

/** A configuration a person must fix; the daemon exits 2 with its message. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** The outcome of reading the command line: settings to run with, or a request for help. */
export type ConfigResult = { kind: 'run'; config: DaemonConfig } | { kind: 'help'; text: string };

export const DEFAULT_STATE_DIR = '/var/lib/router-service';
export const DEFAULT_CONNTRACK = '/usr/sbin/conntrack';
/** The firewall backend when the config names none. */
export const DEFAULT_FIREWALL = 'nft';
/** The DNS backend when the config names none. */
export const DEFAULT_DNS = 'dnsmasq';
export const DEFAULT_DNSMASQ = '/usr/sbin/dnsmasq';
const DEFAULT_RESYNC_MS = 30_000;
/** setTimeout's limit (2^31-1 ms) rounded down to whole hours. */
const MAX_RESYNC_MS = 596 * 3_600_000;
const MAX_VSOCK_PORT = 0xfffffffe;

/** Settings before validation: each flag's or key's raw value. */
interface RawSettings {
  listen?: string[];
  vsockPort?: string;
  vsockAllowCid?: string[];
  allowRemoteTcp?: boolean;
  parent?: string;
  stateDir?: string;
  resyncInterval?: string;
  logFormat?: string;
  logLevel?: string;
  firewall?: string;
  dns?: string;
  /** null: the config file asked for /etc/resolv.conf explicitly. */
  dnsUpstream?: string[] | null;
  dnsmasq?: string;
  conntrack?: string;
}

type FlagKind = 'string' | 'list' | 'boolean';

interface FlagSpec {
  key: keyof RawSettings | 'config' | 'help';
  kind: FlagKind;
  value?: string;
  usage: string;
}

const FLAGS: ReadonlyMap<string, FlagSpec> = new Map<string, FlagSpec>([
  ['listen', { key: 'listen', kind: 'list', value: 'URL', usage: `address to serve on, repeatable: vsock://:PORT, unix:///PATH or tcp://127.0.0.1:PORT (default vsock://:${DEFAULT_PORT})` }],
  ['vsock-port', { key: 'vsockPort', kind: 'string', value: 'PORT', usage: `vsock port used when no --listen is given (default ${DEFAULT_PORT})` }],
  ['vsock-allow-cid', { key: 'vsockAllowCid', kind: 'list', value: 'LIST', usage: 'accept vsock connections only from these peer CIDs, comma-separated' }],
  ['allow-remote-tcp', { key: 'allowRemoteTcp', kind: 'boolean', usage: 'permit tcp:// listeners on non-loopback addresses (the API has no authentication)' }],
  ['parent', { key: 'parent', kind: 'string', value: 'IFACE', usage: 'parent interface for VLAN links (default: the recorded one, else the interface holding the IPv4 default route)' }],
  ['state-dir', { key: 'stateDir', kind: 'string', value: 'DIR', usage: `directory of the durable desired state (default ${DEFAULT_STATE_DIR})` }],
  ['resync-interval', { key: 'resyncInterval', kind: 'string', value: 'DURATION', usage: 'how often to repair drift between desired state and the kernel, e.g. 500ms, 2s, 1m (default 30s)' }],
  ['log-format', { key: 'logFormat', kind: 'string', value: 'FORMAT', usage: 'log format: text or json (default text)' }],
  ['log-level', { key: 'logLevel', kind: 'string', value: 'LEVEL', usage: 'log level: debug, info, warn or error (default info)' }],
  ['dns', { key: 'dns', kind: 'string', value: 'NAME', usage: `DNS backend answering container names on each gateway: dnsmasq, off, or a plugin module (default ${DEFAULT_DNS})` }],
  ['dns-upstream', { key: 'dnsUpstream', kind: 'list', value: 'LIST', usage: 'resolvers for names outside the networks, IPv4[#PORT], comma-separated, repeatable (default: those of /etc/resolv.conf)' }],
  ['dnsmasq', { key: 'dnsmasq', kind: 'string', value: 'PATH', usage: `the dnsmasq binary (default ${DEFAULT_DNSMASQ})` }],
  ['config', { key: 'config', kind: 'string', value: 'FILE', usage: 'JSON file with these settings as camelCase keys, plus the "firewall" plugin name, "dns" as a name or {"backend", "upstreams", "dnsmasq"}, and the "conntrack" binary; flags override it' }],
  ['help', { key: 'help', kind: 'boolean', usage: 'print this help' }],
]);

/** The keys a --config file may hold, with the JSON type each takes ("dns": see readDnsSetting). */
const FILE_KEYS: Readonly<Record<string, 'string' | 'string[]' | 'number' | 'number[]' | 'boolean' | 'dns'>> = {
  listen: 'string[]',
  vsockPort: 'number',
  vsockAllowCid: 'number[]',
  allowRemoteTcp: 'boolean',
  parent: 'string',
  stateDir: 'string',
  resyncInterval: 'string',
  logFormat: 'string',
  logLevel: 'string',
  firewall: 'string',
  dns: 'dns',
  conntrack: 'string',
};

/** The keys of the object form of "dns" in a --config file. */
const DNS_FILE_KEYS = ['backend', 'upstreams', 'dnsmasq'];

export function usage(): string {
  const lines = ['Usage: router-service [flags]', '', 'Flags:'];
  for (const [name, spec] of FLAGS) {
    lines.push(`  --${name}${spec.value === undefined ? '' : ` ${spec.value}`}`, `        ${spec.usage}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * Reads the command line (without the program name) and the file it names.
 * Throws ConfigError for anything a person must fix.
 */
export function parseConfig(args: readonly string[], readFile: (path: string) => string = readText): ConfigResult {
  const flags = parseFlags(args);
  if (flags.help) return { kind: 'help', text: usage() };
  const file = flags.configPath === undefined ? {} : readConfigFile(flags.configPath, readFile);
  return { kind: 'run', config: validate({ ...file, ...flags.settings }) };
}

interface ParsedFlags {
  settings: RawSettings;
  configPath?: string;
  help: boolean;
}

function parseFlags(args: readonly string[]): ParsedFlags {
  const flags = new FlagSet();
  const defined: Array<[FlagSpec['key'], Flag<string | string[] | boolean>]> = [];
  for (const [name, spec] of FLAGS) {
    defined.push([spec.key, defineFlag(flags, name, spec.kind)]);
  }
  try {
    flags.parse(args);
  } catch (err) {
    // -h, like --help: Go's flag package has always taken both.
    if (err instanceof HelpRequest) return { settings: {}, help: true };
    if (err instanceof FlagError) throw new ConfigError(describeFlagProblem(err.problem));
    throw err;
  }
  const given: Record<string, string | string[] | boolean> = {};
  for (const [key, flag] of defined) {
    if (flag.set) given[key] = flag.value;
  }
  const { config, help, ...settings } = given;
  if (help === true) return { settings: {}, help: true };
  if (flags.positional.length > 0) {
    throw new ConfigError(`unexpected arguments: [${flags.positional.join(' ')}]`);
  }
  return { settings: settings as RawSettings, ...(typeof config === 'string' ? { configPath: config } : {}), help: false };
}

function defineFlag(flags: FlagSet, name: string, kind: FlagKind): Flag<string | string[] | boolean> {
  switch (kind) {
    case 'string':
      return flags.string(name, '');
    case 'list':
      return flags.list(name);
    case 'boolean':
      return flags.bool(name, false);
  }
}

/** The daemon's wording, which names flags as its usage does, with two dashes. */
function describeFlagProblem(problem: FlagProblem): string {
  switch (problem.kind) {
    case 'bad-syntax':
      return `bad flag syntax: ${problem.arg}`;
    case 'not-defined':
      return `flag provided but not defined: --${problem.name}`;
    case 'needs-argument':
      return `flag needs an argument: --${problem.name}`;
    case 'invalid-value':
      return problem.isBool
        ? `--${problem.name} takes no value or =true/=false, not ${JSON.stringify(problem.value)}`
        : `--${problem.name}: ${problem.reason}`;
  }
}

function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

function readConfigFile(path: string, readFile: (path: string) => string): RawSettings {
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    throw new ConfigError(`--config ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`--config ${path}: not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConfigError(`--config ${path}: must hold a JSON object of settings`);
  }
  const raw: RawSettings = {};
  for (const [key, value] of Object.entries(data)) {
    const type = FILE_KEYS[key];
    if (type === undefined) {
      throw new ConfigError(`--config ${path}: unknown key ${JSON.stringify(key)}; known keys: ${Object.keys(FILE_KEYS).join(', ')}`);
    }
    if (type === 'dns') {
      Object.assign(raw, readDnsSetting(value, path));
      continue;
    }
    if (!hasType(value, type)) {
      throw new ConfigError(`--config ${path}: ${key} must be ${describeType(type)}, not ${JSON.stringify(value)}`);
    }
    Object.assign(raw, { [key]: fromFile(value) });
  }
  return raw;
}

/**
 * "dns" of a --config file: a backend name, or an object with the backend,
 * the upstream resolvers (null: /etc/resolv.conf) and the dnsmasq binary,
 * each optional, in the form flags give them.
 */
function readDnsSetting(value: unknown, path: string): Pick<RawSettings, 'dns' | 'dnsUpstream' | 'dnsmasq'> {
  if (typeof value === 'string') return { dns: value };
  const wrong = (what: string, got: unknown) => new ConfigError(`--config ${path}: ${what}, not ${JSON.stringify(got)}`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw wrong('dns must be a backend name or an object {"backend", "upstreams", "dnsmasq"}', value);
  }
  const settings: Pick<RawSettings, 'dns' | 'dnsUpstream' | 'dnsmasq'> = {};
  for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
    switch (key) {
      case 'backend':
        if (typeof field !== 'string') throw wrong('dns.backend must be a string', field);
        settings.dns = field;
        break;
      case 'upstreams':
        if (field === null) {
          settings.dnsUpstream = null;
          break;
        }
        if (!Array.isArray(field) || !field.every((item): item is string => typeof item === 'string')) {
          throw wrong('dns.upstreams must be a list of strings or null', field);
        }
        if (field.length === 0) {
          throw new ConfigError(`--config ${path}: dns.upstreams must name at least one resolver; leave it out to use those of /etc/resolv.conf`);
        }
        settings.dnsUpstream = field;
        break;
      case 'dnsmasq':
        if (typeof field !== 'string') throw wrong('dns.dnsmasq must be a string', field);
        settings.dnsmasq = field;
        break;
      default:
        throw new ConfigError(`--config ${path}: unknown key ${JSON.stringify(key)} in dns; known keys: ${DNS_FILE_KEYS.join(', ')}`);
    }
  }
  return settings;
}

/** File values in the form flags give them, so that both validate alike. */
function fromFile(value: string | number | boolean | ReadonlyArray<string | number>): string | boolean | string[] {
  if (Array.isArray(value)) return value.map(String);
  return typeof value === 'number' ? String(value) : (value as string | boolean);
}

function hasType(value: unknown, type: string): value is string | number | boolean | Array<string | number> {
  switch (type) {
    case 'string[]':
      return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'number[]':
      return Array.isArray(value) && value.every((v) => typeof v === 'number');
    default:
      return typeof value === type;
  }
}

function describeType(type: string): string {
  return { 'string[]': 'a list of strings', 'number[]': 'a list of numbers', number: 'a number', boolean: 'true or false', string: 'a string' }[type] ?? type;
}

function validate(raw: RawSettings): DaemonConfig {
  const logFormat = raw.logFormat ?? 'text';
  if (logFormat !== 'text' && logFormat !== 'json') {
    throw new ConfigError(`--log-format must be text or json, not ${JSON.stringify(logFormat)}`);
  }
  const logLevel = raw.logLevel ?? 'info';
  if (logLevel !== 'debug' && logLevel !== 'info' && logLevel !== 'warn' && logLevel !== 'error') {
    throw new ConfigError(`--log-level must be debug, info, warn or error, not ${JSON.stringify(logLevel)}`);
  }
  const vsockPort = raw.vsockPort === undefined ? DEFAULT_PORT : wholeNumber(raw.vsockPort);
  if (vsockPort === undefined) {
    throw new ConfigError(`--vsock-port must be a number, not ${JSON.stringify(raw.vsockPort)}`);
  }
  if (vsockPort === 0 || vsockPort > MAX_VSOCK_PORT) {
    throw new ConfigError(`--vsock-port ${vsockPort} is out of range`);
  }
  const resyncIntervalMs = raw.resyncInterval === undefined ? DEFAULT_RESYNC_MS : parseDuration(raw.resyncInterval);
  if (resyncIntervalMs === undefined) {
    throw new ConfigError(`--resync-interval ${JSON.stringify(raw.resyncInterval)} is not a duration: write it as 500ms, 2s, 30s or 1m`);
  }
  if (resyncIntervalMs <= 0) throw new ConfigError('--resync-interval must be positive');
  if (resyncIntervalMs > MAX_RESYNC_MS) throw new ConfigError('--resync-interval must be at most 596h');
  const listen = (raw.listen ?? []).map((address) => {
    try {
      return parseEndpoint(address);
    } catch (err) {
      throw new ConfigError(`--listen: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  if (listen.length === 0) listen.push(parseEndpoint(`vsock://:${vsockPort}`));
  const conntrack = raw.conntrack ?? DEFAULT_CONNTRACK;
  if (conntrack !== 'none' && !conntrack.startsWith('/')) {
    throw new ConfigError(`conntrack must be the absolute path of the conntrack binary or "none", not ${JSON.stringify(conntrack)}`);
  }
  return {
    listen,
    vsockPort,
    vsockAllowCids: (raw.vsockAllowCid ?? []).flatMap(parseCids),
    allowRemoteTcp: raw.allowRemoteTcp ?? false,
    parent: raw.parent ?? '',
    stateDir: raw.stateDir ?? DEFAULT_STATE_DIR,
    resyncIntervalMs,
    logFormat,
    logLevel,
    firewall: raw.firewall ?? DEFAULT_FIREWALL,
    dns: validateDns(raw),
    conntrack,
  };
}

function validateDns(raw: RawSettings): DnsSettings {
  const backend = raw.dns ?? DEFAULT_DNS;
  const dnsmasqPath = raw.dnsmasq ?? DEFAULT_DNSMASQ;
  if (!dnsmasqPath.startsWith('/')) {
    throw new ConfigError(`--dnsmasq must be the absolute path of the dnsmasq binary, not ${JSON.stringify(dnsmasqPath)}`);
  }
  const upstreams = raw.dnsUpstream === undefined || raw.dnsUpstream === null
    ? null
    : raw.dnsUpstream.flatMap((list) => list.split(',')).map((field) => parseUpstream(field.trim()));
  // "off" reads as "none", the name that selects no backend.
  return { backend: backend === 'off' ? 'none' : backend, upstreams, dnsmasqPath };
}

const PORT = /^[1-9][0-9]{0,4}$/;

/** Checks an upstream resolver, "ADDRESS" or "ADDRESS#PORT" with an IPv4 address and a port from 1 to 65535. */
function parseUpstream(text: string): string {
  const [address = '', port, ...rest] = text.split('#');
  if (parseIPv4(address) === undefined || rest.length > 0) {
    throw new ConfigError(`--dns-upstream ${JSON.stringify(text)} is not an IPv4 address with an optional #PORT, such as 192.0.2.53 or 192.0.2.53#5353`);
  }
  if (port !== undefined && (!PORT.test(port) || Number(port) > 65535)) {
    throw new ConfigError(`--dns-upstream ${JSON.stringify(text)}: the port must be 1 to 65535`);
  }
  return text;
}

function parseCids(list: string): number[] {
  return list.split(',').map((field) => {
    const cid = wholeNumber(field.trim());
    if (cid === undefined || cid > 0xffffffff) throw new ConfigError(`--vsock-allow-cid: CID ${JSON.stringify(field)} is not a number`);
    return cid;
  });
}

function wholeNumber(text: string): number | undefined {
  return /^[0-9]+$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : undefined;
}

/** The settings as they would be written in a --config file, for the startup log. */
export function describeConfig(config: DaemonConfig): Record<string, unknown> {
  return {
    listen: config.listen.map(formatEndpoint),
    parent: config.parent,
    state_dir: config.stateDir,
    resync_interval_ms: config.resyncIntervalMs,
    vsock_allow_cid: config.vsockAllowCids,
    allow_remote_tcp: config.allowRemoteTcp,
    firewall: config.firewall,
    dns: config.dns.backend,
    dns_upstreams: config.dns.upstreams ?? '/etc/resolv.conf',
    dnsmasq: config.dns.dnsmasqPath,
    conntrack: config.conntrack,
  };
}
