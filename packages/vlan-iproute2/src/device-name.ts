import { invalid, MAX_IFNAME_LENGTH } from '@router-service/core';

/**
 * Stricter than the kernel: these characters keep a name a single token on
 * an `ip -batch` line (no blanks, quotes, `#` or backslashes), a single
 * segment of a /proc/sys path (no `/`, never `.` or `..`), and never an
 * option (no leading `-`).
 */
const DEVICE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Returns `name` if it is a usable interface name; throws an invalid error otherwise. */
export function checkDeviceName(name: string): string {
  if (name.length === 0 || name.length > MAX_IFNAME_LENGTH || !DEVICE_NAME.test(name)) {
    throw invalid(
      `invalid interface name "${name}": use 1 to ${MAX_IFNAME_LENGTH} letters, digits, '_', '.' or '-', not starting with '.' or '-'`,
    );
  }
  return name;
}

/** The name of VLAN `vlan` on `parent`: `<parent>.<vlan>`. */
export function vlanLinkName(parent: string, vlan: number): string {
  return checkDeviceName(`${checkDeviceName(parent)}.${vlan}`);
}
