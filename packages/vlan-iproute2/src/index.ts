/**
 * The VLAN backend of router-service on iproute2: `ip -json` reads, changes
 * through `ip -batch -`, links `<parent>.<vlan>` tagged as ours by their
 * ifalias, so that a restarted service tells its own links from foreign ones.
 */
import { silentLogger, type Logger, type VlanBackend } from '@router-service/core';
import { Iproute2VlanBackend } from './backend.js';
import { execaIpRunner } from './ip-runner.js';
import { netnsSysctlWriter, procSysctlWriter } from './sysctl.js';

export { OWNER_ALIAS } from './backend.js';

/** Options of `createIproute2VlanBackend`. */
export interface Iproute2VlanBackendOptions {
  /** Run every command in this named network namespace (`ip -n NS`). */
  netns?: string;
  /**
   * The real iproute2 binary. Default /usr/sbin/ip: busybox's applet of
   * the same name has no `-json`.
   */
  ipPath?: string;
  /**
   * procps sysctl, used only with `netns` (through `ip netns exec`);
   * without it settings are written to /proc/sys. Default /usr/sbin/sysctl.
   */
  sysctlPath?: string;
  log?: Logger;
}

/** A VlanBackend that drives iproute2. */
export function createIproute2VlanBackend(options: Iproute2VlanBackendOptions = {}): VlanBackend {
  const run = execaIpRunner(options.ipPath ?? '/usr/sbin/ip');
  const sysctl =
    options.netns === undefined
      ? procSysctlWriter()
      : netnsSysctlWriter(run, options.netns, options.sysctlPath ?? '/usr/sbin/sysctl');
  return new Iproute2VlanBackend({ run, sysctl, netns: options.netns, log: options.log ?? silentLogger });
}
