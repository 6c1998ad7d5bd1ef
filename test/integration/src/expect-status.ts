/** Assertions on calls the service must refuse. */
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { isServiceError } from './router-client.js';

/** The status code's name as grpc-js spells it, for messages. */
function codeName(code: number): string {
  return status[code] ?? String(code);
}

/** Awaits a call that must fail with `code` and a message containing `fragment`. */
export async function expectStatus(call: Promise<unknown>, code: status, fragment: string): Promise<void> {
  try {
    const response = await call;
    assert.fail(`expected ${codeName(code)} mentioning ${JSON.stringify(fragment)}, got ${JSON.stringify(response)}`);
  } catch (error) {
    if (!isServiceError(error)) throw error;
    assert.equal(codeName(error.code), codeName(code), `wrong code for: ${error.details}`);
    assert.ok(error.details.includes(fragment), `message ${JSON.stringify(error.details)} does not say ${JSON.stringify(fragment)}`);
  }
}
