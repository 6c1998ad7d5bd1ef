/**
 * Where the backend keeps its files: everything under <stateDir>/dnsmasq,
 * one directory per network named after its VLAN id.
 */
import { join } from 'node:path';

/** The file dnsmasq reads in each hosts directory. */
export const HOSTS_FILE_NAME = 'hosts';
/**
 * The temporary file a new hosts file is written to before it is renamed
 * over the old one. dnsmasq skips names starting with a dot in a
 * --hostsdir, so it never reads a half-written file.
 */
export const HOSTS_TEMP_NAME = '.hosts.tmp';
export const PID_FILE_NAME = 'dnsmasq.pid';

/** The files of one network's resolver. */
export interface NetworkPaths {
  /** <root>/<vlan> */
  readonly dir: string;
  /** The --hostsdir dnsmasq watches. */
  readonly hostsDir: string;
  readonly hostsFile: string;
  readonly hostsTemp: string;
  readonly pidFile: string;
}

/** The directory of every file of the backend. */
export function dnsmasqRoot(stateDir: string): string {
  return join(stateDir, 'dnsmasq');
}

export function networkPaths(root: string, vlan: number): NetworkPaths {
  const dir = join(root, String(vlan));
  const hostsDir = join(dir, 'hosts');
  return {
    dir,
    hostsDir,
    hostsFile: join(hostsDir, HOSTS_FILE_NAME),
    hostsTemp: join(hostsDir, HOSTS_TEMP_NAME),
    pidFile: join(dir, PID_FILE_NAME),
  };
}

/** The VLAN id a directory under the root is named after, or undefined for any other name. */
export function vlanOfDirName(name: string): number | undefined {
  if (!/^[1-9][0-9]{0,3}$/.test(name)) return undefined;
  const vlan = Number(name);
  return vlan <= 4094 ? vlan : undefined;
}
