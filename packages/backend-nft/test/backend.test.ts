// The backend's use of nft, with a fake runner: what it sends, and how a
// failure of nft reaches the caller.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RouterError, silentLogger } from '@router-service/core';
import { goldenStates } from '@router-service/firewall-suite';
import plugin, { NftFirewallBackend, render, renderTeardown } from '../src/index.js';
import { fakeRunner } from './fake-runner.js';

test('sync sends the rendered batch to nft -j -f - on stdin, teardown the teardown batch', async () => {
  const fake = fakeRunner();
  const backend = new NftFirewallBackend(fake.run, silentLogger);
  await backend.sync(goldenStates.full!);
  await backend.teardown();
  assert.deepEqual(
    fake.calls.map((c) => c.args),
    [
      ['-j', '-f', '-'],
      ['-j', '-f', '-'],
    ],
  );
  assert.deepEqual(JSON.parse(fake.calls[0]!.input ?? ''), render(goldenStates.full!));
  assert.deepEqual(JSON.parse(fake.calls[1]!.input ?? ''), renderTeardown());
});

test('a failing nft is an unavailable error carrying what nft said', async () => {
  const fake = fakeRunner(() => ({ exitCode: 1, stdout: '', stderr: 'Error: Could not process rule: Operation not supported\n' }));
  const backend = new NftFirewallBackend(fake.run, silentLogger);
  await assert.rejects(
    backend.sync(goldenStates.empty!),
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
