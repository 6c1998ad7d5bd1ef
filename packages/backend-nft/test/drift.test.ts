// drift(), without root: recorded `nft -j list table inet router_service`
// outputs against renderings. listings/full.json is the kernel's listing
// after a sync of the full golden state; listings/damaged.json the same
// after hand edits (forward flushed, a DNAT rule and an element deleted, a
// stray rule, element, chain and counter added).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { RouterError, silentLogger } from '@router-service/core';
import { goldenStates } from '@router-service/firewall-suite';
import { NftFirewallBackend, describeDifference, formatSnapshot, parseListing, snapshotOf } from '../src/index.js';
import { fakeRunner } from './fake-runner.js';

// Compiled tests run from dist/test; the recordings stay in the sources.
const listing = (name: string) => readFileSync(new URL(`../../test/listings/${name}.json`, import.meta.url), 'utf8');

/** A backend whose nft prints `stdout` for any listing. */
function listingBackend(stdout: string) {
  const fake = fakeRunner(() => ({ exitCode: 0, stdout, stderr: '' }));
  return { backend: new NftFirewallBackend(fake.run, silentLogger), calls: fake.calls };
}

test('the kernel listing of a synced state has no drift from that state', async () => {
  const { backend, calls } = listingBackend(listing('full'));
  assert.equal(await backend.drift(goldenStates.full!), '');
  // Read-only: one listing of our table and nothing else.
  assert.deepEqual(
    calls.map((c) => c.args),
    [['-j', 'list', 'table', 'inet', 'router_service']],
  );
});

test('drift from another state names the sets and chains that differ', async () => {
  const { backend } = listingBackend(listing('full'));
  assert.equal(
    await backend.drift(goldenStates['one-network']!),
    [
      'chain forward rules differ',
      'chain snat_postrouting rules differ',
      'set networks: 1 missing, 3 unexpected',
      'set internal: 0 missing, 1 unexpected',
      'set subnets: 1 missing, 3 unexpected',
      'set gateways: 1 missing, 3 unexpected',
      'set nat_sources: 0 missing, 2 unexpected',
      'set published_addr: 0 missing, 5 unexpected',
      'set published_port: 0 missing, 5 unexpected',
      'set restricted: 0 missing, 1 unexpected',
      'set allowed: 0 missing, 1 unexpected',
      'set published_any_sctp_addr: 0 missing, 1 unexpected',
      'set published_any_sctp_port: 0 missing, 1 unexpected',
      'set published_any_tcp_addr: 0 missing, 6 unexpected',
      'set published_any_tcp_port: 0 missing, 6 unexpected',
      'set published_any_udp_addr: 0 missing, 1 unexpected',
      'set published_any_udp_port: 0 missing, 1 unexpected',
      'set restricted_any: 0 missing, 1 unexpected',
      'set allowed_any: 0 missing, 2 unexpected',
    ].join('; '),
  );
});

test('drift of a hand-edited table names each edit', async () => {
  const { backend } = listingBackend(listing('damaged'));
  assert.equal(
    await backend.drift(goldenStates.full!),
    [
      'chain extra unexpected',
      'chain dnat_prerouting rules differ (7 listed, 8 expected)',
      'chain input rules differ (5 listed, 4 expected)',
      'chain forward rules differ (0 listed, 5 expected)',
      'set networks: 1 missing, 0 unexpected',
      'set published_any_tcp_port: 0 missing, 1 unexpected',
      'unexpected counter stray',
    ].join('; '),
  );
});

test('a missing table is drift; another failure of nft is an error', async () => {
  const missing = fakeRunner(() => ({ exitCode: 1, stdout: '', stderr: 'Error: No such file or directory\nlist table inet router_service\n' }));
  assert.equal(await new NftFirewallBackend(missing.run, silentLogger).drift(goldenStates.empty!), 'table inet router_service missing');
  const broken = fakeRunner(() => ({ exitCode: 1, stdout: '', stderr: 'Error: cache initialization failed: Operation not permitted\n' }));
  await assert.rejects(
    new NftFirewallBackend(broken.run, silentLogger).drift(goldenStates.empty!),
    (err) => err instanceof RouterError && err.kind === 'unavailable' && /Operation not permitted/.test(err.message),
  );
  await assert.rejects(listingBackend('not json').backend.drift(goldenStates.empty!), (err) => err instanceof RouterError && /cannot read/.test(err.message));
});

test('a chain declared with another hook or priority is drift', () => {
  const edited = listing('full').replace('"hook": "input", "prio": 0', '"hook": "input", "prio": 10');
  assert.notEqual(edited, listing('full'), 'the recording changed shape');
  assert.equal(describeDifference(snapshotOf(goldenStates.full!), parseListing(edited)), 'chain input declared differently');
});

test('the printed snapshot ignores element order and handles, and shows each element once', () => {
  const printed = formatSnapshot(parseListing(listing('full')));
  assert.equal(printed, formatSnapshot(snapshotOf(goldenStates.full!)));
  assert.doesNotMatch(printed, /handle/);
  assert.equal(printed.split('\n').filter((line) => line === '  [8080,80]').length, 1);
});
