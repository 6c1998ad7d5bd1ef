import assert from 'node:assert/strict';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { RouterError, type ErrorKind } from '@router-service/core';
import { grpcCode, toServiceError } from '../src/status.js';

const table: Array<[ErrorKind, status]> = [
  ['invalid', status.INVALID_ARGUMENT],
  ['not-found', status.NOT_FOUND],
  ['already-exists', status.ALREADY_EXISTS],
  ['precondition', status.FAILED_PRECONDITION],
  ['unavailable', status.UNAVAILABLE],
  ['internal', status.INTERNAL],
];

for (const [kind, code] of table) {
  test(`${kind} is ${status[code]} and keeps its message`, () => {
    assert.equal(grpcCode(kind), code);
    const err = toServiceError(new RouterError(kind, `a ${kind} problem`));
    assert.equal(err.code, code);
    assert.equal(err.details, `a ${kind} problem`);
  });
}

test('unclassified errors and thrown non-errors are INTERNAL with their text', () => {
  assert.deepEqual([toServiceError(new TypeError('x is undefined')).code, toServiceError(new TypeError('x is undefined')).details], [
    status.INTERNAL,
    'x is undefined',
  ]);
  assert.deepEqual([toServiceError('plain string').code, toServiceError('plain string').details], [status.INTERNAL, 'plain string']);
});

test('a kind outside the list is INTERNAL', () => {
  assert.equal(grpcCode('no-such-kind' as ErrorKind), status.INTERNAL);
});
