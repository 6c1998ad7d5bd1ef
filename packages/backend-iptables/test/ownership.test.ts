// What the backend does to the tables it shares, with each variant, in a
// throwaway namespace (no packets): jumps come first and exist once however
// the built-in chains were emptied or filled, rules that are not ours keep
// their place, and a restore refused halfway leaves the kernel as it was.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { FirewallBackend } from '@router-service/core';
import { IP, Netns, netnsExecArgv, runChecked } from '@router-service/test-support';
import { HOOKS, RESTORE_ARGS, createIptablesFirewallBackend, execaIptablesRunner, type IptablesRunner } from '../src/index.js';
import { iptablesSuiteAdapter } from './adapter.js';
import { STATES } from './states.js';

for (const variant of ['nft', 'legacy'] as const) {
  describe(`iptables-${variant}`, () => {
    const adapter = iptablesSuiteAdapter(variant);
    let ns: Netns;
    let run: IptablesRunner;
    let backend: FirewallBackend;

    const iptables = async (...args: string[]) => {
      const argv = netnsExecArgv(ns.name, `/usr/sbin/iptables-${variant}`, ['-w', ...args]);
      return (await runChecked(argv.file, argv.args)).stdout;
    };
    const restore = async (input: string) => {
      const result = await run('restore', RESTORE_ARGS, input);
      assert.equal(result.exitCode, 0, result.stderr);
    };
    /** The rules of one built-in chain, as `iptables -S` prints them. */
    const rulesOf = async (table: string, chain: string) => (await iptables('-t', table, '-S', chain)).trim().split('\n').slice(1);
    const jumpRules = HOOKS.map((h) => ({ ...h, rule: `-A ${h.builtin} -m comment --comment router-service -j ${h.chain}` }));

    before(async () => {
      ns = await Netns.create();
      run = execaIptablesRunner({ variant, netns: ns.name, ipPath: IP });
      backend = createIptablesFirewallBackend({ variant, netns: ns.name });
    });
    // A clean start: every rule gone (ours and others'), then our chains.
    beforeEach(async () => {
      for (const table of ['raw', 'nat', 'filter']) await iptables('-t', table, '-F');
      await backend.teardown();
    });
    after(async () => {
      await backend?.close?.();
      await ns?.delete();
    });

    test('each jump comes first in its built-in chain, once, before rules that are not ours', async () => {
      await adapter.addForeign(ns.name);
      const foreignInput = await rulesOf('filter', 'INPUT');
      await backend.sync(STATES.full!);
      for (const { table, builtin, rule } of jumpRules) {
        const rules = await rulesOf(table, builtin);
        assert.equal(rules[0], rule, `${table} ${builtin}`);
        assert.equal(rules.filter((r) => r === rule).length, 1, `${table} ${builtin}`);
      }
      assert.deepEqual((await rulesOf('filter', 'INPUT')).slice(1), foreignInput, 'foreign rules moved or changed');
    });

    test('emptying the built-in chains removes only our jumps: drift names them, sync puts back one copy each', async () => {
      await backend.sync(STATES.full!);
      const synced = await adapter.dump(ns.name);
      for (const { table, builtin } of jumpRules) await iptables('-t', table, '-F', builtin);
      const drift = await backend.drift(STATES.full!);
      assert.match(drift, /^raw jump PREROUTING -> RS-PREROUTING: missing; nat jump PREROUTING -> RS-PREROUTING: missing; /);
      assert.doesNotMatch(drift, /chain/, 'our chains were not touched');
      await backend.sync(STATES.full!);
      assert.equal(await adapter.dump(ns.name), synced);
      await backend.sync(STATES.full!);
      assert.equal(await adapter.dump(ns.name), synced, 'a repeated sync changed something');
    });

    test('jumps copied by hand are reduced to one', async () => {
      await backend.sync(STATES['one-network']!);
      const synced = await adapter.dump(ns.name);
      for (const { table, rule } of jumpRules) await iptables('-t', table, ...rule.split(' '));
      await iptables('-t', 'nat', ...jumpRules[2]!.rule.replace('-A', '-I').split(' '));
      assert.match(await backend.drift(STATES['one-network']!), /nat jump OUTPUT -> RS-OUTPUT: 3 copies/);
      await backend.sync(STATES['one-network']!);
      assert.equal(await adapter.dump(ns.name), synced);
      assert.equal(await backend.drift(STATES['one-network']!), '');
    });

    test('a jump that a rule not ours was put before is named by drift and put first again by sync, that rule kept', async () => {
      await backend.sync(STATES.full!);
      const synced = await adapter.dump(ns.name);
      await iptables('-t', 'filter', '-I', 'FORWARD', '1', '-s', '203.0.113.0/24', '-j', 'ACCEPT');
      await iptables('-t', 'nat', '-I', 'PREROUTING', '1', '-s', '203.0.113.0/24', '-j', 'RETURN');
      assert.equal(
        await backend.drift(STATES.full!),
        'nat jump PREROUTING -> RS-PREROUTING: behind a rule that is not ours; filter jump FORWARD -> RS-FORWARD: behind a rule that is not ours',
      );
      await backend.sync(STATES.full!);
      assert.equal(await backend.drift(STATES.full!), '');
      assert.equal(await adapter.dump(ns.name), synced);
      assert.deepEqual(await rulesOf('filter', 'FORWARD'), [jumpRules[5]!.rule, '-A FORWARD -s 203.0.113.0/24 -j ACCEPT']);
      assert.deepEqual(await rulesOf('nat', 'PREROUTING'), [jumpRules[1]!.rule, '-A PREROUTING -s 203.0.113.0/24 -j RETURN']);
    });

    test('a restore refused at a later table puts back the tables it already changed', async () => {
      await backend.sync(STATES.full!);
      const synced = await adapter.dump(ns.name);
      // A stray chain of ours that a rule which is not ours refers to: sync
      // must delete the chain, and the kernel refuses in the filter table,
      // after raw and nat have committed.
      await restore('*filter\n:RS-DNAT - [0:0]\n-A OUTPUT -d 203.0.113.9/32 -j RS-DNAT\nCOMMIT\n');
      const held = await adapter.dump(ns.name);
      await assert.rejects(backend.sync(STATES['one-network']!), /\[iptables\] sync of tables raw, nat, filter failed: .*\(tables already changed were put back\)$/s);
      assert.equal(await adapter.dump(ns.name), held, 'the kernel changed');
      await iptables('-t', 'filter', '-D', 'OUTPUT', '-d', '203.0.113.9/32', '-j', 'RS-DNAT');
      await backend.sync(STATES.full!);
      assert.equal(await adapter.dump(ns.name), synced);
    });

    test('teardown leaves the built-in chains with the rules that are not ours, in order', async () => {
      await adapter.addForeign(ns.name);
      const foreign = await adapter.dumpForeign(ns.name);
      await backend.sync(STATES.full!);
      await backend.teardown();
      assert.equal(await adapter.dump(ns.name), '');
      assert.equal(await adapter.dumpForeign(ns.name), foreign);
    });
  });
}
