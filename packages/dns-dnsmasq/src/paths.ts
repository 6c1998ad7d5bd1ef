/**
 * Where the backend keeps its files: everything under <stateDir>/dnsmasq,
 * one directory per network named after its VLAN id.
 */
import { join } from 'node:path';

export const PID_FILE_NAME = 'dnsmasq.pid';

/**
 * The temporary name a hosts file is written under before it is renamed
 * into place. dnsmasq skips names starting with a dot in a --hostsdir, so
 * it never reads a half-written file.
 */
export function hostsTempName(fileName: string): string {
  return `.${fileName}.tmp`;
}

/** The files of one network's resolver. */
export interface NetworkPaths {
  /** <root>/<vlan> */
  readonly dir: string;
  /** The --hostsdir dnsmasq watches: one hosts file per address (see render.ts). */
  readonly hostsDir: string;
  readonly pidFile: string;
}

/** The directory of every file of the backend. */
export function dnsmasqRoot(stateDir: string): string {
  return join(stateDir, 'dnsmasq');
}

export function networkPaths(root: string, vlan: number): NetworkPaths {
  const dir = join(root, String(vlan));
  const hostsDir = join(dir, 'hosts');
  return { dir, hostsDir, pidFile: join(dir, PID_FILE_NAME) };
}

/** The VLAN id a directory under the root is named after, or undefined for any other name. */
export function vlanOfDirName(name: string): number | undefined {
  if (!/^[1-9][0-9]{0,3}$/.test(name)) return undefined;
  const vlan = Number(name);
  return vlan <= 4094 ? vlan : undefined;
}
