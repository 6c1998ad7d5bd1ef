/**
 * The service's address URLs, shared by the daemon's --listen and routerctl's
 * --addr:
 *
 *   vsock://:50052        vsock, any local CID (listen); vsock://CID:PORT to dial
 *   unix:///run/router-service.sock
 *   tcp://127.0.0.1:50052 or tcp://[::1]:50052
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** VMADDR_CID_ANY: a listener bound to it accepts from the host and, through vsock loopback, from this VM. */
export const ANY_CID = 0xffffffff;
/** VMADDR_CID_LOCAL: the vsock loopback address, dialed when an address names no CID. */
export const LOCAL_CID = 1;
/** The port router-service serves on by default. */
export const DEFAULT_PORT = 50052;
/** Where clients connect when told nothing else: the router of this VM. */
export const DEFAULT_DIAL_ADDRESS = `vsock://${LOCAL_CID}:${DEFAULT_PORT}`;

export interface VsockEndpoint {
  scheme: 'vsock';
  /** ANY_CID when the address names none. */
  cid: number;
  port: number;
}

export interface UnixEndpoint {
  scheme: 'unix';
  /** Absolute path of the socket file. */
  path: string;
}

export interface TcpEndpoint {
  scheme: 'tcp';
  /** An IPv4 or IPv6 literal, without brackets. */
  host: string;
  port: number;
}

export type Endpoint = VsockEndpoint | UnixEndpoint | TcpEndpoint;

const MAX_UINT32 = 0xffffffff;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/s;
const DECIMAL = /^[0-9]+$/;

/** Parses an address URL; a vsock URL without a CID means ANY_CID. */
export function parseEndpoint(address: string): Endpoint {
  const match = SCHEME.exec(address);
  const scheme = match?.[1]?.toLowerCase();
  const rest = match?.[2] ?? '';
  const fail = (why: string): Error => new Error(`address ${JSON.stringify(address)}: ${why}`);
  switch (scheme) {
    case 'vsock':
      return parseVsock(rest, fail);
    case 'unix':
      return parseUnix(rest, fail);
    case 'tcp':
      return parseTcp(rest, fail);
    default:
      throw fail('scheme must be vsock, unix or tcp');
  }
}

type Fail = (why: string) => Error;

function parseVsock(rest: string, fail: Fail): VsockEndpoint {
  const authority = rest.startsWith('//') ? rest.slice(2) : undefined;
  const colon = authority?.lastIndexOf(':') ?? -1;
  if (authority === undefined || colon < 0) {
    throw fail('needs a numeric port, as in vsock://:50052');
  }
  const host = authority.slice(0, colon);
  const port = parseUint(authority.slice(colon + 1), MAX_UINT32);
  let cid = ANY_CID;
  if (host !== '') {
    const parsed = parseUint(host, MAX_UINT32);
    if (parsed === undefined) throw fail(`CID ${JSON.stringify(host)} is not a number`);
    cid = parsed;
  }
  if (port === undefined) throw fail('needs a numeric port, as in vsock://:50052');
  return { scheme: 'vsock', cid, port };
}

function parseUnix(rest: string, fail: Fail): UnixEndpoint {
  // unix:///path has an empty authority; unix:/path has none at all.
  const path = rest.startsWith('//') ? rest.slice(2) : rest;
  if (!path.startsWith('/') || path.includes('?') || path.includes('#')) {
    throw fail('write unix sockets as unix:///absolute/path');
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    throw fail('write unix sockets as unix:///absolute/path');
  }
  return { scheme: 'unix', path: decoded };
}

function parseTcp(rest: string, fail: Fail): TcpEndpoint {
  const refuse = () => fail('needs an IP and port, as in tcp://127.0.0.1:50052');
  if (!rest.startsWith('//')) throw refuse();
  const authority = rest.slice(2);
  const colon = authority.lastIndexOf(':');
  if (colon < 0) throw refuse();
  const hostPart = authority.slice(0, colon);
  const port = parseUint(authority.slice(colon + 1), 0xffff);
  let host: string;
  if (hostPart.startsWith('[') && hostPart.endsWith(']')) {
    host = hostPart.slice(1, -1);
    if (!isIPv6(host)) throw refuse();
  } else {
    host = hostPart;
    if (!isIPv4(host)) throw refuse();
  }
  if (port === undefined) throw refuse();
  return { scheme: 'tcp', host, port };
}

function parseUint(text: string, max: number): number | undefined {
  if (!DECIMAL.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) && value <= max ? value : undefined;
}

/** The URL form of an endpoint; parseEndpoint(formatEndpoint(e)) gives e back. */
export function formatEndpoint(endpoint: Endpoint): string {
  switch (endpoint.scheme) {
    case 'vsock':
      return endpoint.cid === ANY_CID
        ? `vsock://:${endpoint.port}`
        : `vsock://${endpoint.cid}:${endpoint.port}`;
    case 'unix':
      return `unix://${endpoint.path}`;
    case 'tcp':
      return `tcp://${hostPort(endpoint)}`;
  }
}

/** "127.0.0.1:50052" or "[::1]:50052". */
export function hostPort(endpoint: TcpEndpoint): string {
  const host = isIPv6(endpoint.host) ? `[${endpoint.host}]` : endpoint.host;
  return `${host}:${endpoint.port}`;
}

// 127.0.0.0/8 and ::1; BlockList also matches IPv4-mapped IPv6 forms
// (::ffff:127.0.0.1) against the IPv4 rule.
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** Whether a tcp endpoint only accepts connections from this machine. */
export function isLoopback(endpoint: TcpEndpoint): boolean {
  const host = endpoint.host;
  if (isIPv4(host)) return LOOPBACK.check(host, 'ipv4');
  return isIPv6(host) && LOOPBACK.check(host, 'ipv6');
}
