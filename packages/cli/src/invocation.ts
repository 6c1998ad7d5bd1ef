/** The whole command line: global flags, then a command and its arguments. */
import { quote } from '@router-service/core';
import { FlagSet } from '@router-service/flags';
import { DEFAULT_DIAL_ADDRESS } from '@router-service/transport';
import type { CommandDefinition, ParsedCommand } from './command.js';
import { dnsCommands } from './dns.js';
import { UsageError } from './errors.js';
import { natCommands } from './nat.js';
import { portCommands } from './port.js';
import { statusCommands } from './status.js';
import { vlanCommands } from './vlan.js';

const DEFAULT_TIMEOUT_MS = 10_000;

const COMMANDS: ReadonlyMap<string, CommandDefinition> = new Map(
  [...statusCommands, ...vlanCommands, ...natCommands, ...dnsCommands, ...portCommands].map((command) => [
    command.name,
    command,
  ]),
);

export interface Invocation {
  /** The service address as given (--addr). */
  readonly addr: string;
  /** Time allowed for the command's calls (--timeout). */
  readonly timeoutMs: number;
  readonly command: ParsedCommand;
}

/** Parses routerctl's arguments (without the program name); throws UsageError. */
export function parseInvocation(argv: readonly string[]): Invocation {
  const flags = new FlagSet();
  const addr = flags.string('addr', DEFAULT_DIAL_ADDRESS);
  const json = flags.bool('json', false);
  const timeout = flags.duration('timeout', DEFAULT_TIMEOUT_MS);
  try {
    flags.parse(argv);
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(error.message, { showUsage: true });
    throw error;
  }
  const [first, second, ...rest] = flags.positional;
  if (first === undefined) throw new UsageError('no command given', { showUsage: true });
  const single = COMMANDS.get(first);
  if (single !== undefined) {
    return { addr: addr.value, timeoutMs: timeout.value, command: single.parse(flags.positional.slice(1), json.value) };
  }
  const pair = second === undefined ? undefined : COMMANDS.get(`${first} ${second}`);
  if (pair === undefined) {
    throw new UsageError(`unknown command ${quote(flags.positional.join(' '))}`, { showUsage: true });
  }
  return { addr: addr.value, timeoutMs: timeout.value, command: pair.parse(rest, json.value) };
}
