/**
 * Command-line flags with the rules of Go's `flag` package, which routerctl
 * has always followed: `-name` and `--name` alike, `--name=value` or
 * `--name value`, booleans only as `--name` or `--name=false`, parsing stops
 * at the first positional argument or at `--`, and the last repeat wins.
 */
import { parseDuration } from '@router-service/core';
import { HelpRequest, UsageError } from './errors.js';

/** A defined flag: its current value and whether the command line set it. */
export interface Flag<T> {
  value: T;
  set: boolean;
}

interface FlagDefinition {
  readonly isBool: boolean;
  /** Stores the text given on the command line; returns why it is invalid, if it is. */
  readonly assign: (text: string) => string | undefined;
}

const MAX_UINT32 = 4294967295;

/** Parses a base-10 number in 0..2^32-1 as Go's strconv.ParseUint(s, 10, 32) does. */
export function parseUint32(text: string): number | undefined {
  if (!/^[0-9]+$/.test(text)) return undefined;
  const value = Number(text);
  return value <= MAX_UINT32 ? value : undefined;
}

/** strconv.ParseBool: the spellings Go accepts for a boolean flag value. */
function parseBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}

/** Quotes text the way Go's %q does for the printable strings seen on command lines. */
export function quote(text: string): string {
  return JSON.stringify(text);
}

export class FlagSet {
  readonly #definitions = new Map<string, FlagDefinition>();
  /** The positional arguments left after the last parse. */
  positional: string[] = [];

  string(name: string, initial: string): Flag<string> {
    return this.#define(name, initial, false, (text) => ({ value: text }));
  }

  bool(name: string, initial: boolean): Flag<boolean> {
    return this.#define<boolean>(name, initial, true, (text) => {
      const value = parseBool(text);
      return value === undefined ? { error: 'parse error' } : { value };
    });
  }

  /** A number flag that rejects values beyond 32 bits instead of letting them wrap around. */
  uint32(name: string, initial: number): Flag<number> {
    return this.#define<number>(name, initial, false, (text) => {
      const value = parseUint32(text);
      return value === undefined
        ? { error: `${quote(text)} is not a number from 0 to ${MAX_UINT32}` }
        : { value };
    });
  }

  /** A Go-style duration (`500ms`, `10s`, `1m30s`), held in milliseconds. */
  duration(name: string, initialMs: number): Flag<number> {
    return this.#define<number>(name, initialMs, false, (text) => {
      const value = parseDuration(text);
      return value === undefined ? { error: 'parse error' } : { value };
    });
  }

  /** Parses flags from the front of args; the rest lands in `positional`. */
  parse(args: readonly string[]): void {
    let rest = [...args];
    for (;;) {
      const arg = rest[0];
      if (arg === undefined || arg.length < 2 || !arg.startsWith('-')) break;
      rest = rest.slice(1);
      const dashes = arg.startsWith('--') ? 2 : 1;
      if (arg === '--') break;
      let name = arg.slice(dashes);
      if (name === '' || name.startsWith('-') || name.startsWith('=')) {
        throw new UsageError(`bad flag syntax: ${arg}`);
      }
      let value: string | undefined;
      const equals = name.indexOf('=');
      if (equals >= 0) {
        value = name.slice(equals + 1);
        name = name.slice(0, equals);
      }
      const definition = this.#definitions.get(name);
      if (definition === undefined) {
        if (name === 'h' || name === 'help') throw new HelpRequest();
        throw new UsageError(`flag provided but not defined: -${name}`);
      }
      if (definition.isBool) {
        const error = definition.assign(value ?? 'true');
        if (error !== undefined) {
          throw new UsageError(`invalid boolean value ${quote(value ?? '')} for -${name}: ${error}`);
        }
        continue;
      }
      if (value === undefined) {
        value = rest[0];
        if (value === undefined) throw new UsageError(`flag needs an argument: -${name}`);
        rest = rest.slice(1);
      }
      const error = definition.assign(value);
      if (error !== undefined) {
        throw new UsageError(`invalid value ${quote(value)} for flag -${name}: ${error}`);
      }
    }
    this.positional = rest;
  }

  #define<T>(
    name: string,
    initial: T,
    isBool: boolean,
    convert: (text: string) => { value: T } | { error: string },
  ): Flag<T> {
    const flag: Flag<T> = { value: initial, set: false };
    this.#definitions.set(name, {
      isBool,
      assign: (text) => {
        const converted = convert(text);
        if ('error' in converted) return converted.error;
        flag.value = converted.value;
        flag.set = true;
        return undefined;
      },
    });
    return flag;
  }
}
