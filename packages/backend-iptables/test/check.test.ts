// iptables itself accepts every golden rendering, with both variants, in a
// throwaway namespace: `iptables-restore --test` (parsed, never committed),
// then for real, after which iptables-save lists our objects exactly as
// rendered, which drift relies on; and so do updates that edit chains in
// place, step after step.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { IP, Netns } from '@router-service/test-support';
import {
  RESTORE_ARGS,
  TABLES,
  createIptablesFirewallBackend,
  describeDrift,
  execaIptablesRunner,
  parseSave,
  render,
  renderRestore,
  type IptablesRunner,
  type OwnedRuleset,
} from '../src/index.js';
import { STATES, randomChanges } from './states.js';

async function restore(run: IptablesRunner, input: string, ...args: string[]): Promise<{ code: number; output: string }> {
  const result = await run('restore', [...RESTORE_ARGS, ...args], input);
  return { code: result.exitCode, output: result.stderr + result.stdout };
}

async function held(run: IptablesRunner): Promise<OwnedRuleset> {
  const [raw, nat, filter] = await Promise.all(
    TABLES.map(async (table) => {
      const result = await run('save', ['-t', table]);
      assert.equal(result.exitCode, 0, result.stderr);
      return parseSave(result.stdout);
    }),
  );
  return { raw: raw!, nat: nat!, filter: filter! };
}

for (const variant of ['nft', 'legacy'] as const) {
  describe(`iptables-${variant}`, () => {
    let ns: Netns;
    let run: IptablesRunner;
    before(async () => {
      ns = await Netns.create();
      run = execaIptablesRunner({ variant, netns: ns.name, ipPath: IP });
    });
    after(async () => {
      await ns?.delete();
    });

    for (const [name, state] of Object.entries(STATES)) {
      test(`restore --test accepts the ${name} rendering`, async () => {
        const result = await restore(run, renderRestore(state), '--test');
        assert.equal(result.code, 0, result.output);
      });
    }

    test('restore --test rejects a broken rendering (the check can fail)', async () => {
      const broken = renderRestore(STATES.full!).replace('--dport 8080 ', '--dport 80800 ');
      assert.notEqual(broken, renderRestore(STATES.full!));
      const result = await restore(run, broken, '--test');
      assert.notEqual(result.code, 0);
    });

    // Each in its own fresh namespace, so that every rendering starts from nothing.
    for (const [name, state] of Object.entries(STATES)) {
      test(`the ${name} rendering, applied, reads back exactly as rendered`, async () => {
        const fresh = await Netns.create();
        try {
          const inFresh = execaIptablesRunner({ variant, netns: fresh.name, ipPath: IP });
          const result = await restore(inFresh, renderRestore(state));
          assert.equal(result.code, 0, result.output);
          assert.equal(describeDrift(await held(inFresh), render(state)), '');
        } finally {
          await fresh.delete();
        }
      });
    }

    test('updates through random changes, chains edited in place, leave the kernel exactly as rendered after each', async () => {
      const fresh = await Netns.create();
      const backend = createIptablesFirewallBackend({ variant, netns: fresh.name });
      try {
        const inFresh = execaIptablesRunner({ variant, netns: fresh.name, ipPath: IP });
        let state = STATES.buckets!;
        await backend.sync(state);
        let step = 0;
        for (const next of randomChanges(state, 11, 60)) {
          await backend.update(state, next);
          step++;
          assert.equal(describeDrift(await held(inFresh), render(next)), '', `after step ${step}`);
          state = next;
        }
        // A network that goes and comes back edits the chains of every table.
        for (const next of [{ ...state, networks: state.networks.slice(1) }, state]) {
          await backend.update(state, next);
          assert.equal(describeDrift(await held(inFresh), render(next)), '', 'after a network change');
          state = next;
        }
      } finally {
        await backend.close();
        await fresh.delete();
      }
    });
  });
}
