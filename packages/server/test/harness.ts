/**
 * A router-service gRPC server on a unix socket in a temp dir, over a Router
 * with a memory store and a fake VLAN backend, and clients to call it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client, ServiceError } from '@grpc/grpc-js';
import { Router, createMemoryStore, silentLogger } from '@router-service/core';
import { RouterServiceClient } from '@router-service/proto';
import { createClient, parseEndpoint, serveEndpoint, type ClientConstructor, type ServedEndpoint } from '@router-service/transport';
import { createGrpcServer } from '../src/daemon.js';
import type { HealthService } from '../src/health-service.js';
import { FakeVlanBackend } from './fake-vlan-backend.js';

export interface Harness {
  vlan: FakeVlanBackend;
  router: Router;
  health: HealthService;
  address: string;
  client: RouterServiceClient;
  /** A client of another service on the same server. */
  clientOf<T extends Client>(Constructor: ClientConstructor<T>): T;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'router-service-test-'));
  const vlan = new FakeVlanBackend();
  const router = await Router.open({ store: createMemoryStore(), vlan, parent: 'eth0' });
  const { server, health } = createGrpcServer(router, silentLogger);
  const address = `unix://${join(dir, 'router.sock')}`;
  const served: ServedEndpoint = await serveEndpoint(server, parseEndpoint(address));
  const clients: Client[] = [];
  const clientOf = <T extends Client>(Constructor: ClientConstructor<T>): T => {
    const client = createClient(address, Constructor);
    clients.push(client);
    return client;
  };
  const client = clientOf(RouterServiceClient);
  return {
    vlan,
    router,
    health,
    address,
    client,
    clientOf,
    async close() {
      for (const c of clients) c.close();
      health.shutdown();
      await served.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      await router.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}


/** A unary call as a promise: `rpc<R>((done) => client.method(request, done))`. */
export function rpc<Res>(invoke: (done: (err: ServiceError | null, response: Res) => void) => unknown): Promise<Res> {
  return new Promise((resolve, reject) => {
    invoke((err, response) => (err ? reject(err) : resolve(response)));
  });
}
