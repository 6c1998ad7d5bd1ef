import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export const IP = '/usr/sbin/ip';

/** A throwaway network namespace; needs root. */
export class Netns {
  readonly name: string;

  constructor() {
    this.name = `rs-${process.pid}-${randomBytes(4).toString('hex')}`;
    execFileSync(IP, ['netns', 'add', this.name], { stdio: ['ignore', 'ignore', 'pipe'] });
  }

  /** Runs `ip -n <ns> ...args`; throws with ip's stderr on failure. */
  ip(...args: string[]): string {
    return execFileSync(IP, ['-n', this.name, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** Runs a program inside the namespace and returns its exit status. */
  run(program: string, ...args: string[]): number {
    return spawnSync(IP, ['netns', 'exec', this.name, program, ...args], { stdio: 'ignore' }).status ?? -1;
  }

  /** Reads a file under /proc/sys as the namespace sees it. */
  sysctl(...path: string[]): string {
    return execFileSync(IP, ['netns', 'exec', this.name, '/bin/cat', `/proc/sys/${path.join('/')}`], { encoding: 'utf8' }).trim();
  }

  delete(): void {
    execFileSync(IP, ['netns', 'delete', this.name], { stdio: 'ignore' });
  }
}
