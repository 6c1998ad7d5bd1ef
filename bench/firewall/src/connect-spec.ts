/** What connect-program.js is asked to do and what it reports. */

export interface ConnectSpec {
  readonly host: string;
  /** The i-th connection goes to ports[i % ports.length]. */
  readonly ports: readonly number[];
  readonly total: number;
  readonly parallel: number;
  /** How long one connection may wait for the server's byte. */
  readonly timeoutMs: number;
}

export interface ConnectResult {
  answered: number;
  failed: number;
  /** From the first connection attempt to the last outcome. */
  elapsedMs: number;
  /** The first few failures, as "port P: why". */
  failures: string[];
}
