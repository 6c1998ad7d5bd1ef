import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { HealthRequest, type RouterServiceClient } from '@router-service/proto';
import { createRouterClient, parseEndpoint } from '@router-service/transport';
import { settle } from './checks.js';
import { sleep } from './command.js';
import { servicePort } from './daemon.js';

/** The unary methods of router.RouterService as the ts-proto client names them. */
export type RouterMethod =
  | 'createVlan'
  | 'deleteVlan'
  | 'configureNat'
  | 'removeNat'
  | 'configureDns'
  | 'addPortMapping'
  | 'removePortMapping'
  | 'listVlaNs'
  | 'getHealth'
  | 'removeDnsHosts'
  | 'getState';

// The last overload of each client method is (request, metadata, options, callback).
type UnaryArgs<M extends RouterMethod> = Parameters<RouterServiceClient[M]>;
export type RequestOf<M extends RouterMethod> = UnaryArgs<M>[0];
export type ResponseOf<M extends RouterMethod> = Parameters<UnaryArgs<M>[3]>[1];

type UnaryCall<Req, Res> = (
  this: RouterServiceClient,
  request: Req,
  metadata: Metadata,
  options: { deadline: Date },
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown;

/** The deadline of one call: generous, since under emulation one call can take seconds. */
export const callTimeoutMs = 30_000;

/** RouterCalls turns the callback-style client into promises with a deadline per call. */
export class RouterCalls {
  readonly #client: RouterServiceClient;

  constructor(client: RouterServiceClient) {
    this.#client = client;
  }

  call<M extends RouterMethod>(method: M, request: RequestOf<M>, timeoutMs = callTimeoutMs): Promise<ResponseOf<M>> {
    const unary = this.#client[method] as unknown as UnaryCall<RequestOf<M>, ResponseOf<M>>;
    return new Promise((resolve, reject) => {
      unary.call(this.#client, request, new Metadata(), { deadline: new Date(Date.now() + timeoutMs) }, (error, response) => {
        if (error !== null) {
          reject(error);
          return;
        }
        resolve(response);
      });
    });
  }

  close(): void {
    this.#client.close();
  }
}

/** statusCodeOf is the gRPC status code an error carries, or undefined. */
export function statusCodeOf(error: Error | null): number | undefined {
  if (error === null || !('code' in error) || typeof error.code !== 'number') {
    return undefined;
  }
  return error.code;
}

/**
 * dialVsock connects a client over vsock loopback, as the runtime's daemon
 * would from the host, and waits until the service answers.
 */
export async function dialVsock(): Promise<RouterCalls> {
  const calls = new RouterCalls(createRouterClient(parseEndpoint(`vsock://1:${servicePort}`)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const health = await settle(calls.call('getHealth', HealthRequest.create(), 5_000));
    if (health.error === null) {
      return calls;
    }
    if (Date.now() > deadline) {
      calls.close();
      throw new Error(`router-service did not answer over vsock within 60s: ${health.error.message}`);
    }
    await sleep(200);
  }
}
