/**
 * Making calls and printing what they return: the one path every command
 * takes to the service and to stdout.
 */
import { Metadata, type MethodDefinition } from '@grpc/grpc-js';
import { RouterServiceService, type RouterServiceClient } from '@router-service/proto';
import { renderJson } from './json.js';

/** A method of router.RouterService, by its ts-proto name. */
export type RpcName = keyof typeof RouterServiceService;
export type RequestOf<K extends RpcName> = Parameters<(typeof RouterServiceService)[K]['requestSerialize']>[0];
export type ResponseOf<K extends RpcName> = ReturnType<(typeof RouterServiceService)[K]['responseDeserialize']>;

// The service definition seen through a mapped type, so that indexing it
// with a generic method name keeps its request and response types paired.
const METHODS: { readonly [K in RpcName]: MethodDefinition<RequestOf<K>, ResponseOf<K>> } = RouterServiceService;

/** What a command runs with: the connection, the output mode and the call deadline. */
export interface Session {
  readonly client: RouterServiceClient;
  readonly json: boolean;
  readonly deadline: Date;
  readonly write: (text: string) => void;
}

/** Calls one method and resolves with its response, or rejects with the gRPC status. */
export function call<K extends RpcName>(session: Session, rpc: K, request: RequestOf<K>): Promise<ResponseOf<K>> {
  const method = METHODS[rpc];
  return new Promise((resolve, reject) => {
    session.client.makeUnaryRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      new Metadata(),
      { deadline: session.deadline },
      (error, response) => {
        if (error !== null) reject(error);
        else if (response === undefined) reject(new Error(`${method.path} returned no response`));
        else resolve(response);
      },
    );
  });
}

/** Prints a response: as JSON with --json, else as the command's text. */
export function print<T extends object>(session: Session, response: T, text: (response: T) => string): void {
  session.write(session.json ? renderJson(response) : text(response));
}

/** Calls one method and prints its response; most commands are just this. */
export async function callAndPrint<K extends RpcName>(
  session: Session,
  rpc: K,
  request: RequestOf<K>,
  text: (response: ResponseOf<K>) => string,
): Promise<ResponseOf<K>> {
  const response = await call(session, rpc, request);
  print(session, response, text);
  return response;
}
