// RestoreSession against the kernel in a throwaway namespace, with each
// variant: inputs applied in order by one long-lived iptables-restore, each
// seeing what others changed in between, refusals told apart from
// successes and reported against the input's own lines, and the process
// replaced when it dies or hangs.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { IP, Netns, childrenRunning, killAndReap, netnsExecArgv, runChecked, withScript } from '@router-service/test-support';
import { RESTORE_ARGS, RestoreSession, VARIANT_TOOLS, execaIptablesRunner, rebaseLineNumbers, type RestoreSessionOptions } from '../src/index.js';

test('line numbers in a complaint count from the first line of the input that failed', () => {
  assert.equal(rebaseLineNumbers('iptables-restore: line 13 failed: Bad rule\n', 10), 'iptables-restore: line 3 failed: Bad rule\n');
  assert.equal(rebaseLineNumbers("Bad argument `COMM'\nError occurred at line: 24\n", 20), "Bad argument `COMM'\nError occurred at line: 4\n");
  assert.equal(rebaseLineNumbers('no line here: COMMIT expected\n', 5), 'no line here: COMMIT expected\n');
});

for (const variant of ['nft', 'legacy'] as const) {
  describe(`iptables-${variant}-restore`, () => {
    const restorePath = VARIANT_TOOLS[variant].restore;
    let ns: Netns;
    const sessions: RestoreSession[] = [];

    const iptables = async (...args: string[]) => {
      const argv = netnsExecArgv(ns.name, `/usr/sbin/iptables-${variant}`, ['-w', ...args]);
      return (await runChecked(argv.file, argv.args)).stdout;
    };
    /** The rules of chain RS-T, as `iptables -S` prints them, without the chain's own line. */
    const rules = async (table = 'filter') => (await iptables('-t', table, '-S', 'RS-T')).trim().split('\n').slice(1);
    const session = (options: Partial<RestoreSessionOptions> = {}) => {
      const s = new RestoreSession({ restorePath, args: RESTORE_ARGS, netns: ns.name, ipPath: IP, ...options });
      sessions.push(s);
      return s;
    };
    /** This process's children that are the variant's iptables-restore. */
    const restores = () => childrenRunning(restorePath, '--verbose');

    before(async () => {
      ns = await Netns.create();
    });
    afterEach(async () => {
      for (const s of sessions.splice(0)) await s.close();
      for (const table of ['nat', 'filter']) await iptables('-t', table, '-F').then(() => iptables('-t', table, '-X'));
    });
    after(async () => {
      await ns?.delete();
    });

    test('inputs apply in order through one process, each seeing what another tool changed before it', async () => {
      const s = session();
      const results = await Promise.all([
        s.apply('*filter\n:RS-T - [0:0]\n-A RS-T -s 10.0.0.1/32 -j RETURN\nCOMMIT\n'),
        s.apply('*filter\n-A RS-T -s 10.0.0.2/32 -j RETURN\nCOMMIT\n'),
      ]);
      assert.deepEqual(results, [0, 1].map(() => ({ exitCode: 0, stdout: '', stderr: '' })));
      const [first] = await restores();
      assert.ok(first !== undefined, 'no iptables-restore left running');
      // Another tool's rule, put in our chain while the process waits: the next input sees it.
      await iptables('-I', 'RS-T', '1', '-s', '10.0.0.9/32', '-j', 'DROP');
      const next = await s.apply('*filter\n-D RS-T -s 10.0.0.9/32 -j DROP\n-I RS-T 2 -s 10.0.0.3/32 -j RETURN\nCOMMIT\n');
      assert.equal(next.exitCode, 0, next.stderr);
      assert.deepEqual(await rules(), ['-A RS-T -s 10.0.0.1/32 -j RETURN', '-A RS-T -s 10.0.0.3/32 -j RETURN', '-A RS-T -s 10.0.0.2/32 -j RETURN']);
      assert.deepEqual(await restores(), [first], 'one process applied every input');
    });

    test('a refused input changes nothing of its table, says what a restore run once says, and the next input still applies', async () => {
      const s = session();
      await s.apply('*filter\n:RS-T - [0:0]\nCOMMIT\n');
      const input = '*filter\n-A RS-T -s 10.0.0.1/32 -j RETURN\n-A RS-T -j RS-MISSING\nCOMMIT\n';
      const once = await execaIptablesRunner({ variant, netns: ns.name, ipPath: IP })('restore', RESTORE_ARGS, input);
      assert.match(once.stderr, /line:? [34]\b/);
      const refused = await s.apply(input);
      assert.notEqual(refused.exitCode, 0);
      assert.equal(refused.stderr.trim(), once.stderr.trim());
      assert.deepEqual(await rules(), []);
      assert.deepEqual(await s.apply('*filter\n-A RS-T -s 10.0.0.2/32 -j RETURN\nCOMMIT\n'), { exitCode: 0, stdout: '', stderr: '' });
      assert.deepEqual(await rules(), ['-A RS-T -s 10.0.0.2/32 -j RETURN']);
    });

    test('tables an input committed before a refused one stay applied, as with a restore run once', async () => {
      const s = session();
      const refused = await s.apply('*nat\n:RS-T - [0:0]\n-A RS-T -j RETURN\nCOMMIT\n*filter\n-A RS-MISSING -j RETURN\nCOMMIT\n');
      assert.notEqual(refused.exitCode, 0);
      assert.match(refused.stderr, /line:? 6\b/);
      assert.deepEqual(await rules('nat'), ['-A RS-T -j RETURN']);
    });

    test('a killed iptables-restore fails nothing already answered; the next input starts a new one', async () => {
      const s = session();
      await s.apply('*filter\n:RS-T - [0:0]\nCOMMIT\n');
      const [first] = await restores();
      assert.ok(first !== undefined);
      await killAndReap(first);
      assert.equal((await s.apply('*filter\n-A RS-T -j RETURN\nCOMMIT\n')).exitCode, 0);
      const [second] = await restores();
      assert.ok(second !== undefined && second !== first);
      assert.deepEqual(await rules(), ['-A RS-T -j RETURN']);
    });

    test('an input after the process was killed goes to a fresh one, even while the old one\'s output is still open', async () => {
      // A process it leaves behind holds its stdout and stderr open for a while after it is killed.
      await withScript(`#!/bin/sh\nsleep 3 &\nexec ${restorePath} "$@"\n`, async (withLingerer) => {
        const s = session({ restorePath: withLingerer });
        await s.apply('*filter\n:RS-T - [0:0]\nCOMMIT\n');
        const [first] = await restores();
        assert.ok(first !== undefined);
        await killAndReap(first);
        assert.deepEqual(await s.apply('*filter\n-A RS-T -j RETURN\nCOMMIT\n'), { exitCode: 0, stdout: '', stderr: '' });
        assert.deepEqual(await rules(), ['-A RS-T -j RETURN']);
      });
    });

    test('an input that times out fails alone: the one queued behind it goes to a fresh process', async () => {
      // Hangs the first time it runs, and is the real iptables-restore after that.
      await withScript(`#!/bin/sh\nif [ ! -e "$0.ran" ]; then : > "$0.ran"; exec cat >/dev/null; fi\nexec ${restorePath} "$@"\n`, async (hangsOnce) => {
        const s = session({ restorePath: hangsOnce, timeoutMs: 300 });
        const [first, second] = await Promise.allSettled([s.apply('*filter\n:RS-T - [0:0]\nCOMMIT\n'), s.apply('*filter\n:RS-T - [0:0]\n-A RS-T -j RETURN\nCOMMIT\n')]);
        assert.match(first.status === 'rejected' ? String(first.reason) : 'applied', /did not finish an input within 300 ms/);
        assert.deepEqual(second.status === 'fulfilled' ? second.value : second.reason, { exitCode: 0, stdout: '', stderr: '' });
        assert.deepEqual(await rules(), ['-A RS-T -j RETURN']);
      });
    });

    test('close ends the process after the inputs queued; inputs after it fail', async () => {
      const s = session();
      const queued = s.apply('*filter\n:RS-T - [0:0]\nCOMMIT\n');
      await s.close();
      assert.equal((await queued).exitCode, 0);
      assert.deepEqual(await restores(), []);
      await assert.rejects(s.apply('*filter\n-A RS-T -j RETURN\nCOMMIT\n'), /closed/);
      assert.deepEqual(await rules(), []);
    });
  });
}

test('an input that does not end with a COMMIT line is refused before reaching iptables-restore', async () => {
  const s = new RestoreSession({ restorePath: '/bin/false', args: [], ipPath: IP });
  for (const input of ['*filter\nCOMMIT', '*filter\n-A RS-T -j RETURN\n', '*filter\nCOMMIT\n# done\n', '*filter\n-A RS-T -j NOCOMMIT\n']) {
    await assert.rejects(s.apply(input), /must end with a COMMIT line/, JSON.stringify(input));
  }
  await s.close();
});

test('an iptables-restore that cannot start, or never answers, fails the input with the reason', async () => {
  const exits = new RestoreSession({ restorePath: '/bin/false', args: [], ipPath: IP });
  const refused = await exits.apply('*filter\nCOMMIT\n');
  assert.equal(refused.exitCode, 1);
  await exits.close();

  await withScript('#!/bin/sh\nexec cat >/dev/null\n', async (silent) => {
    const hangs = new RestoreSession({ restorePath: silent, args: [], ipPath: IP, timeoutMs: 200 });
    await assert.rejects(hangs.apply('*filter\nCOMMIT\n'), /did not finish an input within 200 ms/);
    await hangs.close();
  });
});
