/**
 * Throwaway network namespaces for tests (needs root): a unique name, a veth
 * whose namespace end is eth0, and removal when done.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface TestNetns {
  readonly name: string;
  /** Runs `ip` inside the namespace. */
  ip(...args: string[]): string;
  /** Runs a program inside the namespace. */
  exec(...argv: string[]): string;
  remove(): void;
}

export function createTestNetns(): TestNetns {
  const name = `rs-${process.pid}-${randomBytes(3).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', name]);
  const netns: TestNetns = {
    name,
    ip: (...args) => execFileSync('ip', ['-n', name, ...args], { encoding: 'utf8' }),
    exec: (...argv) => execFileSync('ip', ['netns', 'exec', name, ...argv], { encoding: 'utf8' }),
    remove: () => execFileSync('ip', ['netns', 'delete', name]),
  };
  try {
    netns.ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'fabric0');
    netns.ip('link', 'set', 'eth0', 'up');
    netns.ip('link', 'set', 'fabric0', 'up');
  } catch (err) {
    netns.remove();
    throw err;
  }
  return netns;
}
