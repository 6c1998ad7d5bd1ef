/**
 * The parts of iproute2's JSON output this backend reads, checked at run
 * time: a malformed answer is an error, never a silently wrong state.
 */

/** One address of `ip -json address show`. */
export interface IpAddressRecord {
  family: string;
  local: string;
  prefixLength: number;
  scope: string;
}

/** One link of `ip -json -details address show`. */
export interface IpLinkRecord {
  index: number;
  name: string;
  flags: string[];
  mtu: number;
  operstate: string;
  /** Link-layer address; empty for links without one. */
  mac: string;
  /** Empty when unset. */
  alias: string;
  /** The lower link's name, when it is in the same namespace. */
  lowerLink: string | undefined;
  /** `linkinfo.info_kind`, e.g. "vlan", "veth"; empty for plain devices. */
  kind: string;
  /** `linkinfo.info_data` of a VLAN link. */
  vlan: { id: number; protocol: string | undefined } | undefined;
  addresses: IpAddressRecord[];
}

/** One route of `ip -json route show`. */
export interface IpRouteRecord {
  /** Absent for routes without a single output device (multipath, blackhole). */
  dev: string | undefined;
  metric: number;
}

type JsonObject = { readonly [key: string]: unknown };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseArray(stdout: string, what: string): unknown[] {
  // ip prints nothing at all for some empty listings.
  const parsed: unknown = stdout.trim() === '' ? [] : JSON.parse(stdout);
  if (!Array.isArray(parsed)) {
    throw new Error(`unexpected ${what} from ip: not a JSON array: ${stdout.slice(0, 200)}`);
  }
  return parsed;
}

function get<T>(object: JsonObject, key: string, check: (v: unknown) => v is T, what: string): T {
  const value = object[key];
  if (!check(value)) {
    throw new Error(`unexpected ${what} from ip: field "${key}" is ${JSON.stringify(value)}`);
  }
  return value;
}

function optional<T>(object: JsonObject, key: string, check: (v: unknown) => v is T, what: string): T | undefined {
  return object[key] === undefined ? undefined : get(object, key, check, what);
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const isArray = (v: unknown): v is unknown[] => Array.isArray(v);

function parseAddress(value: unknown): IpAddressRecord {
  const what = 'address';
  if (!isObject(value)) throw new Error(`unexpected ${what} from ip: ${JSON.stringify(value)}`);
  return {
    family: get(value, 'family', isString, what),
    local: optional(value, 'local', isString, what) ?? '',
    prefixLength: get(value, 'prefixlen', isNumber, what),
    scope: optional(value, 'scope', isString, what) ?? '',
  };
}

function parseVlanInfo(linkinfo: JsonObject | undefined): IpLinkRecord['vlan'] {
  const data = linkinfo?.['info_data'];
  if (linkinfo?.['info_kind'] !== 'vlan' || !isObject(data)) return undefined;
  return { id: get(data, 'id', isNumber, 'VLAN link'), protocol: optional(data, 'protocol', isString, 'VLAN link') };
}

function parseLink(value: unknown): IpLinkRecord {
  const what = 'link';
  if (!isObject(value)) throw new Error(`unexpected ${what} from ip: ${JSON.stringify(value)}`);
  const linkinfo = optional(value, 'linkinfo', isObject, what);
  return {
    index: get(value, 'ifindex', isNumber, what),
    name: get(value, 'ifname', isString, what),
    flags: get(value, 'flags', isStringArray, what),
    mtu: get(value, 'mtu', isNumber, what),
    operstate: optional(value, 'operstate', isString, what) ?? 'UNKNOWN',
    mac: (optional(value, 'address', isString, what) ?? '').toLowerCase(),
    alias: optional(value, 'ifalias', isString, what) ?? '',
    // A lower link in another namespace shows as link_index and
    // link_netnsid instead, and is never a parent of ours.
    lowerLink: value['link_netnsid'] === undefined ? optional(value, 'link', isString, what) : undefined,
    kind: linkinfo === undefined ? '' : (optional(linkinfo, 'info_kind', isString, what) ?? ''),
    vlan: parseVlanInfo(linkinfo),
    addresses: (optional(value, 'addr_info', isArray, what) ?? []).map(parseAddress),
  };
}

/** Parses `ip -json -details address show [dev X]`. */
export function parseLinks(stdout: string): IpLinkRecord[] {
  return parseArray(stdout, 'link list').map(parseLink);
}

/** Parses `ip -json route show`. */
export function parseRoutes(stdout: string): IpRouteRecord[] {
  return parseArray(stdout, 'route list').map((value) => {
    if (!isObject(value)) throw new Error(`unexpected route from ip: ${JSON.stringify(value)}`);
    return {
      dev: optional(value, 'dev', isString, 'route'),
      metric: optional(value, 'metric', isNumber, 'route') ?? 0,
    };
  });
}
