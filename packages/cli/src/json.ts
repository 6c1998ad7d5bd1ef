/**
 * Responses as JSON the way protojson prints them with EmitUnpopulated:
 * lowerCamelCase field names (ts-proto already uses them), every field
 * present (an unset message is null), 64-bit integers as strings and map
 * entries sorted by key.
 */

/** Fields of router.proto that are 64-bit integers: protojson writes them as strings. */
const INT64_FIELDS: ReadonlySet<string> = new Set(['uptimeSeconds']);
/** Fields of router.proto that are maps. */
const MAP_FIELDS: ReadonlySet<string> = new Set(['hosts']);

type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

function toProtoJson(value: unknown, field: string | undefined): JsonValue {
  if (value === undefined || value === null) return null;
  if (typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') {
    return field !== undefined && INT64_FIELDS.has(field) ? String(value) : Number(value);
  }
  if (Array.isArray(value)) return value.map((item: unknown) => toProtoJson(item, field));
  if (typeof value === 'object') {
    let entries = Object.entries(value);
    if (field !== undefined && MAP_FIELDS.has(field)) {
      entries = entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return Object.fromEntries(entries.map(([key, item]) => [key, toProtoJson(item, undefined)]));
    }
    return Object.fromEntries(entries.map(([key, item]) => [key, toProtoJson(item, key)]));
  }
  throw new TypeError(`cannot print a ${typeof value} as JSON`);
}

/** One message as indented JSON followed by a newline. */
export function renderJson(message: object): string {
  return JSON.stringify(toProtoJson(message, undefined), null, 2) + '\n';
}
