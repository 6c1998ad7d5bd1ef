/**
 * The parts of libnftables' JSON syntax (`nft -j`, schema version 1) that
 * the renderer writes. Expressions stay loosely typed: nft checks them, and
 * the golden tests pin what we send.
 */

/** Any nft JSON expression: a literal, an object such as `{ meta: { key: 'iifname' } }`, or a list. */
export type NftExpr = string | number | null | { readonly [key: string]: NftExpr } | readonly NftExpr[];

/** One command of a batch, e.g. `{ add: { table: {...} } }`. */
export type NftCommand = { readonly [verb: string]: { readonly [object: string]: NftExpr } } | { readonly metainfo: NftExpr };

/** A whole `nft -j -f -` input: commands applied in one transaction. */
export interface NftJson {
  readonly nftables: readonly NftCommand[];
}

/** The schema version libnftables 0.9.3 and later read. */
export const METAINFO: NftCommand = { metainfo: { json_schema_version: 1 } };

// Builders for the expressions the rules use, named after nft's text syntax.

export const meta = (key: string): NftExpr => ({ meta: { key } });
export const payload = (protocol: string, field: string): NftExpr => ({ payload: { protocol, field } });
export const ct = (key: string): NftExpr => ({ ct: { key } });
export const fib = (result: string, ...flags: string[]): NftExpr => ({ fib: { result, flags } });
export const concat = (...parts: NftExpr[]): NftExpr => ({ concat: parts });
export const prefix = (addr: string, len: number): NftExpr => ({ prefix: { addr, len } });
export const setRef = (name: string): string => `@${name}`;

/** `left == right` (or `op`). */
export function match(left: NftExpr, right: NftExpr, op: '==' | '!=' | 'in' = '=='): NftExpr {
  return { match: { op, left, right } };
}

export const accept: NftExpr = { accept: null };
export const drop: NftExpr = { drop: null };
/** Leaves the chain: the verdict is left to the chains and tables after it. */
export const ret: NftExpr = { return: null };
export const masquerade: NftExpr = { masquerade: null };

/**
 * JSON with object keys sorted: one text per value, whatever order nft or
 * the renderer wrote the keys in, so that rules and elements compare as
 * strings.
 */
export function canonicalJson(value: NftExpr): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as { readonly [key: string]: NftExpr };
  const keys = Object.keys(record).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k] ?? null)}`).join(',')}}`;
}
