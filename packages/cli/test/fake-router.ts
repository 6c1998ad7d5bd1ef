/**
 * An in-process router.RouterService with canned answers on a unix socket
 * in a private temporary directory, recording every request it receives.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Server,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { RouterServiceService } from '@router-service/proto';
import type { ResponseOf, RpcName } from '../src/call.js';

/** A failure to answer with: a gRPC status code and message. */
export interface CannedError {
  readonly code: status;
  readonly details: string;
}

/** A canned answer: the response, an error status, or no answer at all (to provoke a deadline). */
export type Answer<K extends RpcName> = ResponseOf<K> | CannedError | 'never';

export interface ReceivedCall {
  readonly rpc: RpcName;
  readonly request: unknown;
}

export class FakeRouter {
  readonly address: string;
  readonly received: ReceivedCall[] = [];
  readonly #answers = new Map<RpcName, Answer<RpcName>>();
  readonly #server: Server;
  readonly #dir: string;

  private constructor(server: Server, dir: string) {
    this.#server = server;
    this.#dir = dir;
    this.address = `unix://${join(dir, 'router.sock')}`;
  }

  static async start(): Promise<FakeRouter> {
    const dir = await mkdtemp(join(tmpdir(), 'routerctl-test-'));
    const fake = new FakeRouter(new Server(), dir);
    const handlers: UntypedServiceImplementation = {};
    for (const rpc of Object.keys(RouterServiceService) as RpcName[]) {
      handlers[rpc] = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) =>
        fake.#answer(rpc, call.request, callback);
    }
    fake.#server.addService(RouterServiceService, handlers);
    await new Promise<void>((resolve, reject) => {
      fake.#server.bindAsync(fake.address, ServerCredentials.createInsecure(), (error) =>
        error === null ? resolve() : reject(error));
    });
    return fake;
  }

  /** Sets the answer to every later call of rpc. */
  answer<K extends RpcName>(rpc: K, answer: Answer<K>): void {
    this.#answers.set(rpc, answer);
  }

  async close(): Promise<void> {
    this.#server.forceShutdown();
    await rm(this.#dir, { recursive: true, force: true });
  }

  #answer(rpc: RpcName, request: unknown, callback: sendUnaryData<unknown>): void {
    this.received.push({ rpc, request });
    const answer = this.#answers.get(rpc);
    if (answer === 'never') return;
    if (answer === undefined) {
      callback({ code: status.UNIMPLEMENTED, details: `no canned answer for ${rpc}` });
    } else if ('code' in answer && 'details' in answer) {
      callback({ code: answer.code, details: answer.details });
    } else {
      callback(null, answer);
    }
  }
}
