/**
 * Throwaway network namespaces, driven with the system's iproute2. Each has
 * a unique name and is deleted by whoever created it.
 */
import { randomBytes } from 'node:crypto';
import { runChecked, runProcess, type Completed } from './run-process.js';

/** iproute2 by full path: the tests must not depend on PATH. */
export const IP = '/usr/sbin/ip';

export class NetNs {
  readonly name: string;

  private constructor(name: string) {
    this.name = name;
  }

  static async create(): Promise<NetNs> {
    const ns = new NetNs(`rs-${process.pid}-${randomBytes(4).toString('hex')}`);
    await runChecked(IP, ['netns', 'add', ns.name]);
    return ns;
  }

  /** Runs `ip -n NS ARGS...`, which must succeed; returns its stdout. */
  ip(...args: string[]): Promise<string> {
    return runChecked(IP, ['-n', this.name, ...args]);
  }

  /** Runs a program inside the namespace to completion. */
  exec(file: string, args: readonly string[]): Promise<Completed> {
    return runProcess(IP, ['netns', 'exec', this.name, file, ...args]);
  }

  /** The argv that starts a long-running program inside the namespace. */
  execArgv(file: string, args: readonly string[]): { file: string; args: string[] } {
    return { file: IP, args: ['netns', 'exec', this.name, file, ...args] };
  }

  /** Reads a sysctl as the namespace sees it (net.* values are per namespace). */
  async sysctl(path: string): Promise<string> {
    const result = await this.exec(process.execPath, [
      '--eval',
      'process.stdout.write(require("node:fs").readFileSync(process.argv[1], "utf8"))',
      `/proc/sys/${path.replaceAll('.', '/')}`,
    ]);
    if (result.code !== 0) throw new Error(`reading ${path} in ${this.name}: ${result.stderr}`);
    return result.stdout.trim();
  }

  async delete(): Promise<void> {
    await runChecked(IP, ['netns', 'delete', this.name]);
  }
}

/**
 * A namespace shaped like the helper VM: eth0 (one end of a veth whose other
 * end, fabric0, stays in the namespace too) up with an address on
 * 192.168.64.0/24, and no default route.
 */
export async function createRouterNs(): Promise<NetNs> {
  const ns = await NetNs.create();
  try {
    await ns.ip('link', 'add', 'eth0', 'mtu', '1500', 'type', 'veth', 'peer', 'name', 'fabric0');
    await ns.ip('address', 'add', '192.168.64.2/24', 'dev', 'eth0');
    await ns.ip('link', 'set', 'eth0', 'up');
    await ns.ip('link', 'set', 'fabric0', 'up');
    return ns;
  } catch (error) {
    await ns.delete();
    throw error;
  }
}
