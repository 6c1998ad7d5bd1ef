import { unavailable, type FirewallBackend, type FirewallState, type Logger } from '@router-service/core';
import type { NftJson } from './nft-json.js';
import type { NftRunner } from './nft-runner.js';
import { FAMILY, TABLE, render, renderTeardown } from './render.js';

export const BACKEND_NAME = 'nft';

/** The FirewallBackend on nftables: the whole table replaced in one transaction per sync. */
export class NftFirewallBackend implements FirewallBackend {
  readonly name = BACKEND_NAME;
  readonly #run: NftRunner;
  readonly #log: Logger;

  constructor(run: NftRunner, log: Logger) {
    this.#run = run;
    this.#log = log;
  }

  async sync(state: FirewallState): Promise<void> {
    await this.#apply(render(state), 'sync');
    this.#log.debug(
      { backend: this.name, table: `${FAMILY} ${TABLE}`, networks: state.networks.length, portMappings: state.portMappings.length },
      'firewall table replaced',
    );
  }

  async teardown(): Promise<void> {
    await this.#apply(renderTeardown(), 'teardown');
    this.#log.debug({ backend: this.name, table: `${FAMILY} ${TABLE}` }, 'firewall table removed');
  }

  async #apply(batch: NftJson, what: string): Promise<void> {
    const result = await this.#run(['-j', '-f', '-'], JSON.stringify(batch));
    if (result.exitCode !== 0) {
      throw unavailable(`[${this.name}] ${what} of table ${FAMILY} ${TABLE} failed: ${(result.stderr || result.stdout).trim()}`);
    }
  }
}
