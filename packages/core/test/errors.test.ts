import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorKind, invalid, precondition } from '../src/errors.js';

test('errorKind reads the kind of a RouterError and calls anything else internal', () => {
  assert.equal(errorKind(invalid('bad')), 'invalid');
  assert.equal(errorKind(precondition('not now')), 'precondition');
  assert.equal(errorKind(new Error('boom')), 'internal');
  assert.equal(errorKind('a string'), 'internal');
});

test("errorKind recognises a RouterError from another copy of core by name and kind", () => {
  class ForeignRouterError extends Error {
    readonly kind = 'not-found';
  }
  const foreign = new ForeignRouterError('VLAN 7 does not exist');
  foreign.name = 'RouterError';
  assert.equal(errorKind(foreign), 'not-found');
  const unknownKind = Object.assign(new Error('odd'), { name: 'RouterError', kind: 'weird' });
  assert.equal(errorKind(unknownKind), 'internal');
});
