// NftSession against the kernel in a throwaway namespace: batches applied in
// order by one long-lived nft, refusals told apart from successes, and the
// process replaced when it dies, hangs or has read enough.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { IP, Netns, childrenRunning, killAndReap, runChecked, withScript } from '@router-service/test-support';
import { NftSession, type NftSessionOptions } from '../src/index.js';

const NFT = '/usr/sbin/nft';

let ns: Netns;
before(async () => {
  ns = await Netns.create();
  await nft('add', 'table', 'inet', 't');
  await nft('add', 'set', 'inet', 't', 's', '{ type inet_service; }');
});
after(async () => {
  await ns?.delete();
});

async function nft(...args: string[]): Promise<string> {
  return (await runChecked(IP, ['netns', 'exec', ns.name, NFT, ...args])).stdout;
}

function session(options: Partial<NftSessionOptions> = {}): NftSession {
  return new NftSession({ nftPath: NFT, ipPath: IP, netns: ns.name, ...options });
}

function elements(verb: 'add' | 'delete', ...ports: number[]): string {
  return JSON.stringify({ nftables: [{ [verb]: { element: { family: 'inet', table: 't', name: 's', elem: ports } } }] });
}

async function elementsInKernel(): Promise<number[]> {
  const listing = JSON.parse(await nft('-j', 'list', 'set', 'inet', 't', 's')) as { nftables: Array<{ set?: { elem?: number[] } }> };
  return (listing.nftables.find((o) => o.set !== undefined)?.set?.elem ?? []).toSorted((a, b) => a - b);
}

/** The pids of this process's children that are an interactive nft. */
const nftChildren = () => childrenRunning(NFT, '-i');

test("nft's history is neither read from nor written to the daemon's home", async () => {
  const home = await mkdtemp(join(tmpdir(), 'nft-home-'));
  const saved = process.env.HOME;
  // nft would rewrite this file at its exit if it used this home.
  await writeFile(join(home, '.nft.history'), 'x'.repeat(1 << 16));
  process.env.HOME = home;
  const s = session();
  try {
    assert.equal((await s.apply(elements('add', 40))).exitCode, 0);
  } finally {
    await s.close();
    if (saved === undefined) delete process.env.HOME;
    else process.env.HOME = saved;
    await nft('flush', 'set', 'inet', 't', 's');
  }
  assert.equal(await readFile(join(home, '.nft.history'), 'utf8'), 'x'.repeat(1 << 16), 'the history file is untouched');
  assert.deepEqual(await readdir(home), ['.nft.history']);
  await rm(home, { recursive: true, force: true });
});

test('batches apply in order, each in one transaction, through one process', async () => {
  const s = session();
  try {
    const results = await Promise.all([s.apply(elements('add', 1, 2)), s.apply(elements('add', 3)), s.apply(elements('delete', 2))]);
    assert.deepEqual(results.map((r) => r.exitCode), [0, 0, 0]);
    assert.deepEqual(await elementsInKernel(), [1, 3]);
    assert.equal((await nftChildren()).length, 1);
  } finally {
    await s.close();
    await nft('flush', 'set', 'inet', 't', 's');
  }
});

test('a refused batch changes nothing, says why, and the next batch still applies', async () => {
  const s = session();
  try {
    await s.apply(elements('add', 10));
    // Deleting an absent element fails, so the addition beside it is not made.
    const refused = await s.apply(JSON.stringify({
      nftables: [
        { delete: { element: { family: 'inet', table: 't', name: 's', elem: [99] } } },
        { add: { element: { family: 'inet', table: 't', name: 's', elem: [11] } } },
      ],
    }));
    assert.equal(refused.exitCode, 1);
    assert.match(refused.stderr, /Error: Could not process rule: No such file or directory/);
    assert.doesNotMatch(refused.stderr, /rs_marker/);
    assert.deepEqual(await elementsInKernel(), [10]);
    const next = await s.apply(elements('add', 12));
    assert.deepEqual(next, { exitCode: 0, stdout: '', stderr: '' });
    assert.deepEqual(await elementsInKernel(), [10, 12]);
  } finally {
    await s.close();
    await nft('flush', 'set', 'inet', 't', 's');
  }
});

test('a batch of two lines is refused before reaching nft', async () => {
  const s = session();
  try {
    await assert.rejects(s.apply(`${elements('add', 20)}\n${elements('add', 21)}`), /one line/);
    assert.deepEqual(await elementsInKernel(), []);
  } finally {
    await s.close();
  }
});

test('after enough input the process is replaced, and batches go on applying', async () => {
  const s = session({ maxInputBytes: 1 });
  try {
    for (const port of [30, 31, 32]) {
      assert.equal((await s.apply(elements('add', port))).exitCode, 0);
      // The batch went past the limit, so its process was ended after it.
      assert.deepEqual(await nftChildren(), []);
    }
    assert.deepEqual(await elementsInKernel(), [30, 31, 32]);
  } finally {
    await s.close();
    await nft('flush', 'set', 'inet', 't', 's');
  }
});

test('a killed nft fails nothing already answered; the next batch starts a new one', async () => {
  const s = session();
  try {
    await s.apply(elements('add', 40));
    const [first] = await nftChildren();
    assert.ok(first !== undefined);
    await killAndReap(first);
    assert.equal((await s.apply(elements('add', 41))).exitCode, 0);
    const [second] = await nftChildren();
    assert.ok(second !== undefined && second !== first);
    assert.deepEqual(await elementsInKernel(), [40, 41]);
  } finally {
    await s.close();
    await nft('flush', 'set', 'inet', 't', 's');
  }
});

test('close ends the process after the batches queued; batches after it fail', async () => {
  const s = session();
  await s.apply(elements('add', 50));
  assert.equal((await nftChildren()).length, 1);
  const queued = s.apply(elements('add', 52));
  await s.close();
  assert.equal((await queued).exitCode, 0);
  assert.deepEqual(await nftChildren(), []);
  await assert.rejects(s.apply(elements('add', 51)), /closed/);
  assert.deepEqual(await elementsInKernel(), [50, 52]);
  await nft('flush', 'set', 'inet', 't', 's');
});

test('an nft that cannot start, or never answers, fails the batch with the reason', async () => {
  const exits = session({ netns: undefined, nftPath: '/bin/false' });
  await assert.rejects(exits.apply(elements('add', 60)), /nft exited \(exit code 1\)/);
  await exits.close();

  await withScript('#!/bin/sh\nexec cat >/dev/null\n', async (silent) => {
    const hangs = session({ netns: undefined, nftPath: silent, timeoutMs: 200 });
    await assert.rejects(hangs.apply(elements('add', 61)), /did not finish a batch within 200 ms/);
    await hangs.close();
  });
  assert.deepEqual(await elementsInKernel(), []);
});
