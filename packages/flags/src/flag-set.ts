/**
 * Command-line flags with the rules of Go's `flag` package, which router-service
 * and routerctl have always followed, so that existing scripts keep working:
 * `-name` and `--name` alike, `--name=value` or `--name value`, booleans only
 * as `--name` or `--name=<bool>` (so `--nat false` leaves `false` positional),
 * parsing stops at the first positional argument or at `--`, and the last
 * repeat wins (a list flag collects every repeat instead).
 */
import { parseDuration, quote } from '@router-service/core';
import { FlagError, HelpRequest } from './errors.js';
import { MAX_UINT32, parseBool, parseUint32 } from './values.js';

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

type Conversion<T> = (text: string, current: T, wasSet: boolean) => { value: T } | { error: string };

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

  /**
   * A repeatable string flag: every occurrence adds its value, in order. The
   * first occurrence replaces the initial values rather than adding to them,
   * so a default never mixes with what the command line asked for.
   */
  list(name: string, initial: readonly string[] = []): Flag<string[]> {
    return this.#define<string[]>(name, [...initial], false, (text, current, wasSet) => ({
      value: wasSet ? [...current, text] : [text],
    }));
  }

  /** Parses flags from the front of args; the rest lands in `positional`. Throws FlagError or HelpRequest. */
  parse(args: readonly string[]): void {
    let rest = [...args];
    for (;;) {
      const arg = rest[0];
      if (arg === undefined || arg.length < 2 || !arg.startsWith('-')) break;
      rest = rest.slice(1);
      if (arg === '--') break;
      let name = arg.slice(arg.startsWith('--') ? 2 : 1);
      if (name === '' || name.startsWith('-') || name.startsWith('=')) {
        throw new FlagError({ kind: 'bad-syntax', arg });
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
        throw new FlagError({ kind: 'not-defined', name });
      }
      if (definition.isBool) {
        // A boolean never takes the next argument: `--nat false` is `--nat` and a positional `false`.
        const text = value ?? 'true';
        const reason = definition.assign(text);
        if (reason !== undefined) throw new FlagError({ kind: 'invalid-value', name, value: text, isBool: true, reason });
        continue;
      }
      if (value === undefined) {
        value = rest[0];
        if (value === undefined) throw new FlagError({ kind: 'needs-argument', name });
        rest = rest.slice(1);
      }
      const reason = definition.assign(value);
      if (reason !== undefined) throw new FlagError({ kind: 'invalid-value', name, value, isBool: false, reason });
    }
    this.positional = rest;
  }

  #define<T>(name: string, initial: T, isBool: boolean, convert: Conversion<T>): Flag<T> {
    // Go panics here too: two flags of one name are a mistake in the program, not on the command line.
    if (this.#definitions.has(name)) throw new Error(`flag redefined: ${name}`);
    const flag: Flag<T> = { value: initial, set: false };
    this.#definitions.set(name, {
      isBool,
      assign: (text) => {
        const converted = convert(text, flag.value, flag.set);
        if ('error' in converted) return converted.error;
        flag.value = converted.value;
        flag.set = true;
        return undefined;
      },
    });
    return flag;
  }
}
