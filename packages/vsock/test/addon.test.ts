import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import {
  VMADDR_CID_ANY,
  VMADDR_CID_HOST,
  VMADDR_CID_LOCAL,
  VMADDR_PORT_ANY,
  formatVsockAddress,
  vsockAddonCandidates,
  vsockAddonPath,
} from '@router-service/vsock';

test('the addon loads from one of the documented places', () => {
  const candidates = vsockAddonCandidates();
  assert.equal(candidates.length, 2);
  assert.match(candidates[0] ?? '', /\/dist\/src\/vsock\.node$/);
  assert.match(candidates[1] ?? '', /\/build\/Release\/vsock\.node$/);
  const loaded = vsockAddonPath();
  assert.ok(candidates.includes(loaded), `${loaded} is not a candidate`);
  assert.ok(existsSync(loaded));
});

test('constants match linux/vm_sockets.h', () => {
  assert.equal(VMADDR_CID_ANY, 0xffffffff);
  assert.equal(VMADDR_CID_LOCAL, 1);
  assert.equal(VMADDR_CID_HOST, 2);
  assert.equal(VMADDR_PORT_ANY, 0xffffffff);
});

test('addresses format as cid:port with the wildcard spelled out', () => {
  assert.equal(formatVsockAddress({ cid: 3, port: 50052 }), '3:50052');
  assert.equal(formatVsockAddress({ cid: VMADDR_CID_ANY, port: 1024 }), 'ANY:1024');
});
