import { execa } from 'execa';
import { mustParseIPv4Prefix, unavailable, type IPv4Prefix } from '@router-service/core';

/**
 * The router's own IPv4 destinations: the `local` routes of the kernel's
 * local routing table, which is what the firewall's "addressed to the
 * router" (`fib daddr type local`, `--dst-type LOCAL`) matches.
 */
export type LocalAddresses = () => Promise<IPv4Prefix[]>;

export interface LocalAddressesOptions {
  ipPath: string;
  /** Read them inside this named network namespace, through `ip netns exec`. */
  netns?: string | undefined;
}

const ROUTES_TIMEOUT_MS = 10_000;

/** What ip says for a namespace whose local table is empty (its loopback is not even up): it has no address. */
const NO_LOCAL_TABLE = 'FIB table does not exist';

/** LocalAddresses through iproute2: `ip -4 -json route show table local type local`. */
export function iproute2LocalAddresses(options: LocalAddressesOptions): LocalAddresses {
  const args = ['-4', '-json', 'route', 'show', 'table', 'local', 'type', 'local'];
  const argv = options.netns === undefined ? args : ['netns', 'exec', options.netns, options.ipPath, ...args];
  return async () => {
    const result = await execa(options.ipPath, argv, { reject: false, env: { LC_ALL: 'C' }, timeout: ROUTES_TIMEOUT_MS });
    if (result.exitCode !== 0 && result.stderr.includes(NO_LOCAL_TABLE)) return [];
    if (result.exitCode !== 0) {
      const said = result.stderr.trim() || (result.shortMessage ?? result.message);
      throw unavailable(`cannot list the local addresses with ${options.ipPath} ${argv.join(' ')}: ${said}`, result.cause);
    }
    return parseLocalRoutes(result.stdout);
  };
}

/** The destinations of `ip -json route` output: a bare address is a /32, "default" (a local route for everything) 0.0.0.0/0. */
export function parseLocalRoutes(json: string): IPv4Prefix[] {
  const routes = JSON.parse(json) as Array<{ dst?: unknown }>;
  return routes.flatMap(({ dst }) => {
    if (typeof dst !== 'string') return [];
    if (dst === 'default') return [mustParseIPv4Prefix('0.0.0.0/0')];
    return [mustParseIPv4Prefix(dst.includes('/') ? dst : `${dst}/32`)];
  });
}
