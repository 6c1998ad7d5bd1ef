import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addressOf, MAX_NAMES, nameOf } from '../src/names.js';

test('every name of a run has its own address in the subnet, clear of the gateway and the container', () => {
  const addresses = new Set<string>();
  for (let i = 0; i < MAX_NAMES; i++) {
    const address = addressOf(i);
    const octets = address.split('.').map(Number);
    assert.equal(octets[0], 172);
    assert.equal(octets[1], 18);
    assert.ok((octets[2] ?? 0) >= 16 && (octets[2] ?? 0) <= 255, address);
    assert.ok((octets[3] ?? 0) >= 1 && (octets[3] ?? 0) <= 250, address);
    addresses.add(address);
  }
  assert.equal(addresses.size, MAX_NAMES);
  assert.equal(nameOf(12), 'c12');
  assert.throws(() => addressOf(MAX_NAMES), /outside/);
  assert.throws(() => addressOf(-1), /outside/);
});
