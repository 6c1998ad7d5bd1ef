/**
 * gRPC clients for an endpoint. unix and tcp are ordinary grpc-js targets.
 * grpc-js has no public way to dial a custom socket, so a vsock client talks
 * to a private unix socket of this process that forwards every connection to
 * the vsock address (see vsock-bridge.ts).
 */
import { isIPv6 } from 'node:net';
import { credentials, type ChannelCredentials, type Client, type ClientOptions } from '@grpc/grpc-js';
import { RouterServiceClient } from '@router-service/proto';
import { hostPort, parseEndpoint, type Endpoint } from './endpoint.js';
import { openVsockBridge } from './vsock-bridge.js';

/** A grpc-js client class: generated (ts-proto) or from makeGenericClientConstructor. */
export type ClientConstructor<T extends Client> = new (
  address: string,
  credentials: ChannelCredentials,
  options?: Partial<ClientOptions>,
) => T;

/**
 * A client of `Constructor` connected to `endpoint` (a URL or a parsed
 * endpoint). Its close() also releases what the connection needed.
 */
export function createClient<T extends Client>(
  endpoint: Endpoint | string,
  Constructor: ClientConstructor<T>,
  options: Partial<ClientOptions> = {},
): T {
  const target = typeof endpoint === 'string' ? parseEndpoint(endpoint) : endpoint;
  const insecure = credentials.createInsecure();
  switch (target.scheme) {
    case 'unix':
      return new Constructor(`unix://${target.path}`, insecure, options);
    case 'tcp':
      return new Constructor(`${isIPv6(target.host) ? 'ipv6' : 'ipv4'}:${hostPort(target)}`, insecure, options);
    case 'vsock': {
      const bridge = openVsockBridge(target);
      const client = new Constructor(`unix://${bridge.path}`, insecure, options);
      const closeClient = client.close.bind(client);
      client.close = () => {
        closeClient();
        bridge.close();
      };
      return client;
    }
  }
}

/** A router.RouterService client for `endpoint`. */
export function createRouterClient(endpoint: Endpoint | string, options: Partial<ClientOptions> = {}): RouterServiceClient {
  return createClient(endpoint, RouterServiceClient, options);
}
