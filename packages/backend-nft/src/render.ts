/**
 * The nft JSON batches the backend sends: the whole `inet router_service`
 * table for a FirewallState, the element changes between two states, and
 * the table's removal. Pure functions.
 *
 * The full batch first adds the table, then deletes it, then declares it
 * again in full: `add` of an existing table is a no-op and makes the
 * `delete` valid whether or not the table existed, and since nft applies a
 * batch as one transaction, packets see either the old table or the new one.
 */
import { changedPortMappings, type FirewallState } from '@router-service/core';
import { CHAINS, chainRules } from './chains.js';
import { METAINFO, canonicalJson, type NftCommand, type NftExpr, type NftJson } from './nft-json.js';
import { sets, type SetSpec } from './sets.js';

export const FAMILY = 'inet';
export const TABLE = 'router_service';

const table = { table: { family: FAMILY, name: TABLE } };

function setCommand(spec: SetSpec): NftCommand {
  const body: Record<string, NftExpr> = { family: FAMILY, table: TABLE, name: spec.name, type: spec.type };
  if (spec.map !== undefined) body.map = spec.map;
  if (spec.interval === true) body.flags = ['interval'];
  // nft refuses an empty element list: an empty set simply has none.
  if (spec.elem.length > 0) body.elem = spec.elem;
  return { add: { [spec.map === undefined ? 'set' : 'map']: body } };
}

/** The chains and their rules: everything of the table but the elements. */
function ruleCommands(uplink: string): NftCommand[] {
  const rules = chainRules(uplink);
  return [
    ...CHAINS.map(
      (c): NftCommand => ({
        add: { chain: { family: FAMILY, table: TABLE, name: c.name, type: c.type, hook: c.hook, prio: c.prio, policy: 'accept' } },
      }),
    ),
    ...CHAINS.flatMap((c) => (rules[c.name] ?? []).map((expr): NftCommand => ({ add: { rule: { family: FAMILY, table: TABLE, chain: c.name, expr } } }))),
  ];
}

/** The nft JSON batch that replaces our table with the one `state` asks for. */
export function render(state: FirewallState): NftJson {
  return { nftables: [METAINFO, { add: table }, { delete: table }, { add: table }, ...sets(state).map(setCommand), ...ruleCommands(state.uplink)] };
}

/** The batch that removes our table, whether or not it exists. */
export function renderTeardown(): NftJson {
  return { nftables: [METAINFO, { add: table }, { delete: table }] };
}

/**
 * How `update` goes from one state to the next: element changes when the
 * rules are the same, else the whole table.
 */
export type UpdatePlan =
  | {
      readonly kind: 'elements';
      /** Deletions, then additions; no commands when nothing differs. */
      readonly batch: NftJson;
      readonly added: number;
      readonly deleted: number;
    }
  | { readonly kind: 'replace'; readonly batch: NftJson };

/**
 * An element's key: the element itself in a set, the key of `[key, value]`
 * in a map. A map element is deleted by its key, and a new value for a key
 * is a change of that element.
 */
function keyOf(spec: SetSpec, element: NftExpr): NftExpr {
  return spec.map === undefined ? element : ((element as readonly NftExpr[])[0] ?? null);
}

function elementCommand(verb: 'add' | 'delete', name: string, elem: readonly NftExpr[]): NftCommand {
  return { [verb]: { element: { family: FAMILY, table: TABLE, name, elem } } };
}

/**
 * The element changes between the sets of two states: per set, the
 * elements to delete (gone, or a map key whose value changed) and to add
 * (new, or the new value).
 */
function elementChanges(before: readonly SetSpec[], after: readonly SetSpec[]): { deletions: Map<string, NftExpr[]>; additions: Map<string, NftExpr[]> } {
  const previousSets = new Map(before.map((spec) => [spec.name, spec]));
  const deletions = new Map<string, NftExpr[]>();
  const additions = new Map<string, NftExpr[]>();
  for (const spec of after) {
    const old = new Map((previousSets.get(spec.name)?.elem ?? []).map((e) => [canonicalJson(keyOf(spec, e)), e]));
    const toAdd: NftExpr[] = [];
    for (const element of spec.elem) {
      const key = canonicalJson(keyOf(spec, element));
      const was = old.get(key);
      if (was !== undefined && canonicalJson(was) === canonicalJson(element)) {
        old.delete(key);
      } else {
        // A map key whose value changed stays in `old`: an element cannot
        // be replaced in place, so it is deleted and added anew.
        toAdd.push(element);
      }
    }
    deletions.set(spec.name, [...old.values()].map((e) => keyOf(spec, e)));
    additions.set(spec.name, toAdd);
  }
  return { deletions, additions };
}

/**
 * The transaction from `previous` to `next`. The network sets (a few
 * elements per network) are compared whole; for published ports only the
 * mappings that changed are rendered, the removed ones as deletions and the
 * new ones as additions, so the batch and the work to build it follow the
 * change, not the state. Mappings never overlap (core refuses it), so the
 * only key both sides can hold is a retargeted one, which is deleted before
 * it is added again.
 */
export function planUpdate(previous: FirewallState, next: FirewallState): UpdatePlan {
  // The rules are a function of the uplink alone: only another uplink changes them.
  if (previous.uplink !== next.uplink) {
    return { kind: 'replace', batch: render(next) };
  }
  const networkChanges = elementChanges(sets({ ...previous, portMappings: [] }), sets({ ...next, portMappings: [] }));
  const { removed, added } = changedPortMappings(previous.portMappings, next.portMappings);
  const portless: FirewallState = { uplink: next.uplink, networks: [], portMappings: [] };
  // Only the changed mappings are rendered; an element they share (the
  // port of a retargeted mapping, say) cancels out.
  const portChanges = elementChanges(sets({ ...portless, portMappings: removed }), sets({ ...portless, portMappings: added }));
  const deletions: NftCommand[] = [];
  const additions: NftCommand[] = [];
  let deletedCount = 0;
  let addedCount = 0;
  for (const { name } of sets(portless)) {
    const gone = [...(networkChanges.deletions.get(name) ?? []), ...(portChanges.deletions.get(name) ?? [])];
    const fresh = [...(networkChanges.additions.get(name) ?? []), ...(portChanges.additions.get(name) ?? [])];
    if (gone.length > 0) deletions.push(elementCommand('delete', name, gone));
    if (fresh.length > 0) additions.push(elementCommand('add', name, fresh));
    deletedCount += gone.length;
    addedCount += fresh.length;
  }
  const commands = [...deletions, ...additions];
  return { kind: 'elements', batch: { nftables: commands.length > 0 ? [METAINFO, ...commands] : [] }, added: addedCount, deleted: deletedCount };
}
