/**
 * Throwaway network namespaces for tests (needs root), driven with the
 * system's iproute2. Each has a unique name and is deleted by whoever
 * created it.
 */
import { randomBytes } from 'node:crypto';
import { CommandError, runChecked, runProcess, type Completed, type RunOptions } from './run-process.js';
import { vethArgs } from './veth.js';

/**
 * iproute2 by full path: busybox's ip applet, which may come first in PATH,
 * lacks netns and VLAN support.
 */
export const IP = '/usr/sbin/ip';

/** A program and its arguments, ready for spawn. */
export interface Argv {
  readonly file: string;
  readonly args: string[];
}

/** The argv that runs `file args...` inside the namespace called `netns`. */
export function netnsExecArgv(netns: string, file: string, args: readonly string[]): Argv {
  return { file: IP, args: ['netns', 'exec', netns, file, ...args] };
}

// Reads a file with this very node, so that the namespace needs no cat.
const READ_FILE_SCRIPT = 'process.stdout.write(require("node:fs").readFileSync(process.argv[1], "utf8"))';

export class Netns {
  readonly name: string;
  #deleted = false;

  private constructor(name: string) {
    this.name = name;
  }

  /**
   * Creates a namespace named rs-<pid>-<random>: the pid tells which run
   * left one behind, the random part keeps parallel test files apart.
   */
  static async create(): Promise<Netns> {
    const ns = new Netns(`rs-${process.pid}-${randomBytes(4).toString('hex')}`);
    await runChecked(IP, ['netns', 'add', ns.name]);
    return ns;
  }

  /** Runs `ip -n NS ARGS...`, which must succeed; returns its stdout. */
  async ip(...args: string[]): Promise<string> {
    return (await runChecked(IP, ['-n', this.name, ...args])).stdout;
  }

  /** Runs a program inside the namespace to completion, whatever its exit status. */
  exec(file: string, args: readonly string[], options: RunOptions = {}): Promise<Completed> {
    const argv = this.execArgv(file, args);
    return runProcess(argv.file, argv.args, options);
  }

  /** The argv that starts a long-running program inside the namespace. */
  execArgv(file: string, args: readonly string[]): Argv {
    return netnsExecArgv(this.name, file, args);
  }

  /**
   * Reads /proc/sys/<path...> as the namespace sees it (net.* values are
   * per namespace). Segments are kept whole, since interface names such as
   * eth0.100 contain the dots the sysctl notation would split on.
   */
  async sysctl(...path: string[]): Promise<string> {
    const file = `/proc/sys/${path.join('/')}`;
    const result = await this.exec(process.execPath, ['--eval', READ_FILE_SCRIPT, file]);
    if (result.code !== 0) throw new Error(`reading ${file} in ${this.name}: ${result.stderr}`);
    return result.stdout.trim();
  }

  /** Deletes the namespace; deleting it again, or one already gone, does nothing. */
  async delete(): Promise<void> {
    if (this.#deleted) return;
    try {
      await runChecked(IP, ['netns', 'delete', this.name]);
    } catch (error) {
      if (!(error instanceof CommandError && error.output.includes('No such file or directory'))) throw error;
    }
    this.#deleted = true;
  }
}

export interface Eth0Options {
  /** An address for eth0 as ADDRESS/PREFIX; none when absent. */
  readonly address?: string;
  readonly mtu?: number;
}

/**
 * A namespace whose eth0 is one end of a veth whose other end, fabric0,
 * stays in the namespace too; both up, and no default route. eth0 thus has
 * a carrier and can parent VLAN links, as a VM's trunk does.
 */
export async function createNetnsWithEth0(options: Eth0Options = {}): Promise<Netns> {
  const ns = await Netns.create();
  try {
    await ns.ip(...vethArgs({ name: 'eth0', mtu: options.mtu }, { name: 'fabric0' }));
    if (options.address !== undefined) await ns.ip('address', 'add', options.address, 'dev', 'eth0');
    await ns.ip('link', 'set', 'eth0', 'up');
    await ns.ip('link', 'set', 'fabric0', 'up');
    return ns;
  } catch (error) {
    await ns.delete();
    throw error;
  }
}
