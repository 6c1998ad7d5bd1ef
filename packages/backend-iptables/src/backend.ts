import {
  SerialQueue,
  unavailable,
  type FirewallBackend,
  type FirewallState,
  type Logger,
} from '@router-service/core';
import { describeDrift } from './drift.js';
import { render, renderChange } from './render.js';
import { formatRestore, planChanges, type TableChanges } from './restore.js';
import { NOTHING, type OwnedRuleset, type OwnedTable, type TableName } from './ruleset.js';
import type { IptablesRestorer } from './restore-session.js';
import type { IptablesResult, IptablesRunner } from './runner.js';
import { parseSave } from './save.js';

export const BACKEND_NAME = 'iptables';

/** `owned` as if each jump of ours came first in its chain. */
function withoutBuried(owned: OwnedRuleset): OwnedRuleset {
  return { raw: { ...owned.raw, buried: [] }, nat: { ...owned.nat, buried: [] }, filter: { ...owned.filter, buried: [] } };
}

/**
 * `--noflush`: only the chains the input names change. `--wait`:
 * iptables-legacy serialises writers with a lock shared by every network
 * namespace; iptables-nft accepts and ignores it.
 */
export const RESTORE_ARGS: readonly string[] = ['--noflush', '--wait=30'];

/**
 * The FirewallBackend on iptables: our own `RS-` chains, jumped to from the
 * built-in ones, changed by one `iptables-restore --noflush` per call that
 * names only what differs. Calls run one at a time, since sync and teardown
 * read the kernel before they write.
 */
export class IptablesFirewallBackend implements FirewallBackend {
  readonly name = BACKEND_NAME;
  readonly #run: IptablesRunner;
  readonly #log: Logger;
  readonly #restoreInput: IptablesRestorer;
  readonly #close: () => Promise<void>;
  readonly #queue = new SerialQueue();

  /**
   * `run` reads the tables; `restore` applies restore inputs, by default
   * one `run('restore', ...)` each (a long-lived RestoreSession makes them
   * cheaper); `close` releases what `restore` holds.
   */
  constructor(
    run: IptablesRunner,
    log: Logger,
    restore: IptablesRestorer = (input) => run('restore', RESTORE_ARGS, input),
    close: () => Promise<void> = async () => undefined,
  ) {
    this.#run = run;
    this.#log = log;
    this.#restoreInput = restore;
    this.#close = close;
  }

  sync(state: FirewallState): Promise<void> {
    return this.#queue.run(async () => {
      const held = await this.#read();
      const changes = planChanges(held, render(state));
      await this.#apply(changes, 'sync', () => held);
      this.#log.debug(
        { backend: this.name, tables: changes.map((c) => c.table), networks: state.networks.length, portMappings: state.portMappings.length },
        changes.length === 0 ? 'firewall chains already converged' : 'firewall chains converged',
      );
    });
  }

  update(previous: FirewallState, next: FirewallState): Promise<void> {
    return this.#queue.run(async () => {
      const { before, after } = renderChange(previous, next);
      const changes = planChanges(before, after, 'edit');
      await this.#apply(changes, 'update', () => render(previous));
      this.#log.debug({ backend: this.name, tables: changes.map((c) => c.table), lines: changes.reduce((n, c) => n + c.lines.length, 0) }, 'firewall chains updated');
    });
  }

  drift(state: FirewallState): Promise<string> {
    return this.#queue.run(async () => describeDrift(await this.#read(), render(state)));
  }

  teardown(): Promise<void> {
    return this.#queue.run(async () => {
      await this.#apply(planChanges(await this.#read(), NOTHING), 'teardown');
      this.#log.debug({ backend: this.name }, 'firewall chains removed');
    });
  }

  /** Waits for the calls under way, then releases the restore session. */
  close(): Promise<void> {
    return this.#queue.run(() => this.#close());
  }

  /** What the kernel holds of ours, table by table. */
  async #read(): Promise<OwnedRuleset> {
    const [raw, nat, filter] = await Promise.all([this.#readTable('raw'), this.#readTable('nat'), this.#readTable('filter')]);
    return { raw, nat, filter };
  }

  async #readTable(table: TableName): Promise<OwnedTable> {
    const result = await this.#run('save', ['-t', table]);
    if (result.exitCode !== 0) throw unavailable(`[${this.name}] reading table ${table} failed: ${(result.stderr || result.stdout).trim()}`);
    return parseSave(result.stdout);
  }

  /**
   * Runs the changes as one restore. Each table's block commits on its own
   * (with iptables-nft as with iptables-legacy), so when a block fails, those
   * before it have been applied: they are put back to `rollbackTo()`, the
   * objects held before, and the error reports the failure.
   */
  async #apply(changes: readonly TableChanges[], what: string, rollbackTo?: () => OwnedRuleset): Promise<void> {
    if (changes.length === 0) return;
    const failure = await this.#restore(changes);
    if (failure === undefined) return;
    const message = `[${this.name}] ${what} of tables ${changes.map((c) => c.table).join(', ')} failed: ${failure}`;
    if (rollbackTo === undefined || changes.length === 1) throw unavailable(message);
    const rollbackFailure = await this.#rollback(rollbackTo());
    if (rollbackFailure !== undefined) throw unavailable(`${message}; putting back the tables already changed failed too: ${rollbackFailure}`);
    throw unavailable(`${message} (tables already changed were put back)`);
  }

  /**
   * Converges back to `held`; undefined when that worked, else why not.
   * Jumps that a rule not ours comes before stay where they are: putting
   * them first is part of the sync that failed, not of undoing it.
   */
  async #rollback(held: OwnedRuleset): Promise<string | undefined> {
    try {
      return await this.#restore(planChanges(withoutBuried(await this.#read()), held));
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }

  /** undefined when the restore succeeded, else what iptables-restore said, or why it did not finish. */
  async #restore(changes: readonly TableChanges[]): Promise<string | undefined> {
    if (changes.length === 0) return undefined;
    let result: IptablesResult;
    try {
      result = await this.#restoreInput(formatRestore(changes));
    } catch (err) {
      // A restore that could not run, hung or was killed may have committed
      // some tables: it fails, and is put back, like a refused one.
      return err instanceof Error ? err.message : String(err);
    }
    return result.exitCode === 0 ? undefined : (result.stderr || result.stdout).trim() || `exit status ${result.exitCode}`;
  }
}
