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

/** LocalAddresses through iproute2: `ip -4 -json route show table local type local`. */
export function iproute2LocalAddresses(options: LocalAddressesOptions): LocalAddresses {
  const args = ['-4', '-json', 'route', 'show', 'table', 'local', 'type', 'local'];
  const argv = options.netns === undefined ? args : ['netns', 'exec', options.netns, options.ipPath, ...args];
  return async () => {
    const result = await execa(options.ipPath, argv, { reject: false, env: { LC_ALL: 'C' }, timeout: ROUTES_TIMEOUT_MS });
    if (result.exitCode !== 0) {
      const said = result.stderr.trim() || (result.shortMessage ?? result.message);
      throw unavailable(`cannot list the local addresses with ${options.ipPath} ${argv.join(' ')}: ${said}`, result.cause);
    }
    return parseLocalRoutes(result.stdout);
  };
}

/** The destinations of `ip -json route` output: a bare address is a /32. */
export function parseLocalRoutes(json: string): IPv4Prefix[] {
  const routes = JSON.parse(json) as Array<{ dst?: unknown }>;
  return routes.flatMap((route) => {
    if (typeof route.dst !== 'string') return [];
    return [mustParseIPv4Prefix(route.dst.includes('/') ? route.dst : `${route.dst}/32`)];
  });
}
