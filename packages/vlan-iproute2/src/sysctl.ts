import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IpRunner } from './ip-runner.js';

/**
 * One kernel setting: its path under /proc/sys as segments, so that an
 * interface name with dots (eth0.100) stays one segment.
 */
export interface SysctlSetting {
  path: readonly string[];
  value: string;
  /** Skipped where the kernel has no such setting (IPv6 settings, on a kernel booted without IPv6). */
  optional?: boolean;
}

/** Applies settings in order; the first failure stops and throws. */
export type SysctlWriter = (settings: readonly SysctlSetting[]) => Promise<void>;

/**
 * Writes /proc/sys directly: this reaches only the namespace this process
 * runs in. `root` exists for tests.
 */
export function procSysctlWriter(root = '/proc/sys'): SysctlWriter {
  return async (settings) => {
    for (const { path, value, optional } of settings) {
      const file = join(root, ...path);
      let current;
      try {
        current = await readFile(file, 'utf8');
      } catch (err) {
        if (optional === true && (err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      if (current.trim() !== value) {
        await writeFile(file, value);
      }
    }
  };
}

/**
 * Runs `ip netns exec <netns> <sysctl> -q -w a/b/c=v ...` (argv, no shell):
 * the way to reach the settings of another namespace. sysctl accepts the
 * slash-separated form, which keeps dotted interface names intact. The
 * optional settings follow in a second run with `-e`, which skips keys the
 * kernel does not have.
 */
export function netnsSysctlWriter(run: IpRunner, netns: string, sysctlPath: string): SysctlWriter {
  const write = async (flags: readonly string[], settings: readonly SysctlSetting[]): Promise<void> => {
    if (settings.length === 0) return;
    const args = ['netns', 'exec', netns, sysctlPath, ...flags, '-w', ...settings.map(({ path, value }) => `${path.join('/')}=${value}`)];
    const result = await run(args);
    if (result.exitCode !== 0) {
      throw new Error(`ip ${args.join(' ')} failed (exit ${result.exitCode}): ${result.stderr.trim()}`);
    }
  };
  return async (settings) => {
    await write(['-q'], settings.filter((s) => s.optional !== true));
    await write(['-e', '-q'], settings.filter((s) => s.optional === true));
  };
}

function deviceSetting(device: string, key: string, value: number): SysctlSetting {
  return { path: ['net', 'ipv4', 'conf', device, key], value: String(value) };
}

/**
 * Makes an interface answer ARP only for its own addresses (arp_ignore=1),
 * name only its own addresses as ARP sources (arp_announce=2), and drop
 * packets whose source would not be routed back through it (rp_filter=1).
 * Without this the kernel's weak host model lets a host on one VLAN, or
 * untagged on the parent, reach the gateway address of another VLAN.
 */
export function isolationSettings(device: string): SysctlSetting[] {
  return [
    deviceSetting(device, 'arp_ignore', 1),
    deviceSetting(device, 'arp_announce', 2),
    deviceSetting(device, 'rp_filter', 1),
  ];
}

/**
 * A new gateway in the subnet of the old one joins as a secondary address;
 * the kernel deletes secondaries along with their primary unless told to
 * promote them.
 */
export function promoteSecondariesSetting(device: string): SysctlSetting {
  return deviceSetting(device, 'promote_secondaries', 1);
}

/**
 * A network link's settings: isolation, plus route_localnet=1, which lets
 * the link carry loopback addresses. The router's own connection to a port
 * published on 127.0.0.1 is DNATed to a container behind the link and
 * leaves with its 127.0.0.1 source until the firewall masquerades it, and
 * the answer comes back to 127.0.0.1. Not for the parent: there it would
 * let any neighbour aim at the router's loopback. The firewall drops
 * whatever a network sends to 127.0.0.0/8.
 */
export function networkLinkSettings(device: string): SysctlSetting[] {
  return [...isolationSettings(device), deviceSetting(device, 'route_localnet', 1), ipv6OffSetting(device)];
}

/**
 * IPv6 switched off on a network link, as Docker does on a bridge whose
 * network has no IPv6: the networks are IPv4, the firewall judges IPv4
 * (with iptables, IPv6 would pass unjudged), and the link gets no
 * link-local address for a container to reach the router by. An MTU below
 * 1280 drops the link's IPv6 settings, and raising it again brings them
 * back as the defaults: it is set again after every MTU change.
 */
export function ipv6OffSetting(device: string): SysctlSetting {
  return { path: ['net', 'ipv6', 'conf', device, 'disable_ipv6'], value: '1', optional: true };
}

export const ipForwardingSetting: SysctlSetting = { path: ['net', 'ipv4', 'ip_forward'], value: '1' };
