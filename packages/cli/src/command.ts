/**
 * The shape of a routerctl command, and the argument forms commands share:
 * a VLAN id before, between or after flags, or a leading id followed by
 * flags and then words.
 */
import { quote } from '@router-service/core';
import { FlagSet, parseUint32, type Flag } from '@router-service/flags';
import { callAndPrint, type RequestOf, type ResponseOf, type RpcName, type Session } from './call.js';
import { UsageError } from './errors.js';

/** A command line turned into what it will do. */
export interface ParsedCommand {
  /** The command's words, as in `vlan create`. */
  readonly name: string;
  /** The request the command sends (for status, its GetHealth request). */
  readonly request: object;
  /** Whether output is JSON: the global --json or the command's own. */
  readonly json: boolean;
  readonly execute: (session: Session) => Promise<void>;
}

/** A command that makes one call and prints its response, as most commands do. */
export function callingCommand<K extends RpcName>(
  name: string,
  json: boolean,
  rpc: K,
  request: RequestOf<K>,
  text: (response: ResponseOf<K>) => string,
): ParsedCommand {
  return {
    name,
    request,
    json,
    execute: async (session) => {
      await callAndPrint(session, rpc, request, text);
    },
  };
}

export interface CommandDefinition {
  readonly name: string;
  /** Parses the arguments after the command's words; throws UsageError. */
  readonly parse: (args: readonly string[], json: boolean) => ParsedCommand;
}

/**
 * A command's flag set: --json is accepted after the command too, where
 * people tend to type it.
 */
export function commandFlags(json: boolean): { flags: FlagSet; json: Flag<boolean> } {
  const flags = new FlagSet();
  return { flags, json: flags.bool('json', json) };
}

function parseVlanId(text: string): number {
  const id = parseUint32(text);
  if (id === undefined) throw new UsageError(`VLAN id ${quote(text)} is not a number`);
  return id;
}

function unexpected(args: readonly string[]): UsageError {
  return new UsageError(`unexpected arguments: [${args.join(' ')}]`);
}

/** Rejects positional arguments left after the flags. */
export function noPositional(flags: FlagSet): void {
  if (flags.positional.length > 0) throw unexpected(flags.positional);
}

/**
 * Parses "ID [flags]" or "[flags] ID [flags]": the id is taken out and
 * flag parsing resumes after it, so nothing is silently ignored. Without
 * an id the result is 0, unless one is required.
 */
export function parseWithId(flags: FlagSet, args: readonly string[], required: boolean): number {
  // As routerctl always has, an empty argument counts as no id.
  let idArg = '';
  let rest = args;
  if (rest[0] !== undefined && !rest[0].startsWith('-')) {
    idArg = rest[0];
    rest = rest.slice(1);
  }
  flags.parse(rest);
  if (idArg === '' && flags.positional[0] !== undefined) {
    idArg = flags.positional[0];
    flags.parse(flags.positional.slice(1));
  }
  noPositional(flags);
  if (idArg === '') {
    if (required) throw new UsageError('a VLAN id is required');
    return 0;
  }
  return parseVlanId(idArg);
}

/** Parses "ID [flags] [words...]": a leading id, flags, then positional words. */
export function parseIdAndWords(flags: FlagSet, args: readonly string[]): { id: number; words: string[] } {
  const [idArg, ...rest] = args;
  if (idArg === undefined) throw new UsageError('a VLAN id is required');
  const id = parseVlanId(idArg);
  flags.parse(rest);
  return { id, words: flags.positional };
}
