import { unavailable, type FirewallBackend, type FirewallState, type Logger } from '@router-service/core';
import type { NftJson } from './nft-json.js';
import type { NftResult, NftRunner } from './nft-runner.js';
import type { NftTransactor } from './nft-session.js';
import { FAMILY, TABLE, planUpdate, render, renderTeardown } from './render.js';
import { describeDifference, parseListing, snapshotOf, type TableSnapshot } from './snapshot.js';

export const BACKEND_NAME = 'nft';

/** How nft says that the table to list does not exist. */
const NO_SUCH_TABLE = /No such file or directory/;

/**
 * Our table as the kernel holds it (`nft -j list table`), or undefined when
 * there is none. Read-only.
 */
export async function readTable(run: NftRunner): Promise<TableSnapshot | undefined> {
  const result = await run(['-j', 'list', 'table', FAMILY, TABLE]);
  if (result.exitCode !== 0) {
    if (NO_SUCH_TABLE.test(result.stderr)) return undefined;
    throw unavailable(`[${BACKEND_NAME}] listing table ${FAMILY} ${TABLE} failed: ${(result.stderr || result.stdout).trim()}`);
  }
  try {
    return parseListing(result.stdout);
  } catch (err) {
    throw unavailable(`[${BACKEND_NAME}] cannot read the listing of table ${FAMILY} ${TABLE}: ${err instanceof Error ? err.message : String(err)}`, err);
  }
}

/**
 * The FirewallBackend on nftables: the whole table replaced in one
 * transaction per sync, element changes in one transaction per update.
 */
export class NftFirewallBackend implements FirewallBackend {
  readonly name = BACKEND_NAME;
  readonly #run: NftRunner;
  readonly #log: Logger;
  readonly #transact: NftTransactor;
  readonly #close: () => Promise<void>;

  /**
   * `run` lists the table and applies whole-table batches; `transact`
   * applies the element changes of updates, by default through `run` (a
   * long-lived NftSession makes them cheaper); `close` releases what
   * `transact` holds.
   */
  constructor(
    run: NftRunner,
    log: Logger,
    transact: NftTransactor = (batch) => run(['-j', '-f', '-'], batch),
    close: () => Promise<void> = async () => undefined,
  ) {
    this.#run = run;
    this.#log = log;
    this.#transact = transact;
    this.#close = close;
  }

  async sync(state: FirewallState): Promise<void> {
    await this.#apply(render(state), 'sync');
    this.#log.debug(
      { backend: this.name, table: `${FAMILY} ${TABLE}`, networks: state.networks.length, portMappings: state.portMappings.length },
      'firewall table replaced',
    );
  }

  async update(previous: FirewallState, next: FirewallState): Promise<void> {
    const plan = planUpdate(previous, next);
    if (plan.kind === 'replace') {
      await this.#apply(plan.batch, 'update');
      this.#log.debug({ backend: this.name, table: `${FAMILY} ${TABLE}` }, 'firewall rules changed: table replaced');
      return;
    }
    if (plan.batch.nftables.length === 0) return;
    this.#check(await this.#transact(JSON.stringify(plan.batch)), 'update');
    this.#log.debug({ backend: this.name, table: `${FAMILY} ${TABLE}`, added: plan.added, deleted: plan.deleted }, 'firewall elements changed');
  }

  async drift(state: FirewallState): Promise<string> {
    const actual = await readTable(this.#run);
    if (actual === undefined) return `table ${FAMILY} ${TABLE} missing`;
    return describeDifference(snapshotOf(state), actual);
  }

  async teardown(): Promise<void> {
    await this.#apply(renderTeardown(), 'teardown');
    this.#log.debug({ backend: this.name, table: `${FAMILY} ${TABLE}` }, 'firewall table removed');
  }

  /** Stops what applying updates holds (nft's process); the kernel keeps our table. */
  close(): Promise<void> {
    return this.#close();
  }

  async #apply(batch: NftJson, what: string): Promise<void> {
    this.#check(await this.#run(['-j', '-f', '-'], JSON.stringify(batch)), what);
  }

  #check(result: NftResult, what: string): void {
    if (result.exitCode !== 0) {
      throw unavailable(`[${this.name}] ${what} of table ${FAMILY} ${TABLE} failed: ${(result.stderr || result.stdout).trim()}`);
    }
  }
}
