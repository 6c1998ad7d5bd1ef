// The backend's use of nft, with a fake runner: what it sends, and how a
// failure of nft reaches the caller.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RouterError, silentLogger } from '@router-service/core';
import plugin, { NftFirewallBackend, render, renderTeardown, type NftResult } from '../src/index.js';
import { STATES } from './states.js';

function fakeRunner(result: NftResult) {
  const calls: Array<{ args: readonly string[]; input: string | undefined }> = [];
  const run = async (args: readonly string[], input?: string) => {
    calls.push({ args, input });
    return result;
  };
  return { calls, run };
}

test('sync sends the rendered batch to nft -j -f - on stdin, teardown the teardown batch', async () => {
  const fake = fakeRunner({ exitCode: 0, stdout: '', stderr: '' });
  const backend = new NftFirewallBackend(fake.run, silentLogger);
  await backend.sync(STATES.full!);
  await backend.teardown();
  assert.deepEqual(
    fake.calls.map((c) => c.args),
    [
      ['-j', '-f', '-'],
      ['-j', '-f', '-'],
    ],
  );
  assert.deepEqual(JSON.parse(fake.calls[0]!.input ?? ''), render(STATES.full!));
  assert.deepEqual(JSON.parse(fake.calls[1]!.input ?? ''), renderTeardown());
});

test('a failing nft is an unavailable error carrying what nft said', async () => {
  const fake = fakeRunner({ exitCode: 1, stdout: '', stderr: 'Error: Could not process rule: Operation not supported\n' });
  const backend = new NftFirewallBackend(fake.run, silentLogger);
  await assert.rejects(
    backend.sync(STATES.empty!),
    (err) => err instanceof RouterError && err.kind === 'unavailable' && /\[nft\] sync .*Operation not supported/.test(err.message),
  );
  await assert.rejects(backend.teardown(), (err) => err instanceof RouterError && /\[nft\] teardown/.test(err.message));
});

test('the default export is a firewall plugin named nft', () => {
  assert.equal(plugin.kind, 'firewall');
  assert.equal(plugin.name, 'nft');
  const backend = plugin.create({ log: silentLogger });
  assert.equal(backend.name, 'nft');
});
