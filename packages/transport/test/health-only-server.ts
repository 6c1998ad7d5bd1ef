/** A router.RouterService server whose only working method is GetHealth, and a client call of it. */
import { Metadata, Server, type ServiceError } from '@grpc/grpc-js';
import { RouterServiceService, type HealthResponse, type RouterServiceServer } from '@router-service/proto';
import { createRouterClient } from '../src/index.js';

export const status: HealthResponse = {
  healthy: true,
  status: 'ok',
  activeVlans: 3,
  uptimeSeconds: 7,
  firewallBackend: 'none',
  dnsBackend: 'none',
  kernelInSync: true,
  kernelDrift: '',
  kernelChecked: true,
};

function unimplemented(): never {
  throw new Error('not called by these tests');
}

/** A server whose only working method is GetHealth. */
export function healthOnlyServer(): Server {
  const server = new Server();
  const handlers: RouterServiceServer = {
    createVlan: unimplemented,
    deleteVlan: unimplemented,
    configureNat: unimplemented,
    removeNat: unimplemented,
    configureDns: unimplemented,
    addPortMapping: unimplemented,
    removePortMapping: unimplemented,
    listVlaNs: unimplemented,
    removeDnsHosts: unimplemented,
    getState: unimplemented,
    getHealth: (_call, callback) => callback(null, status),
  };
  server.addService(RouterServiceService, handlers);
  return server;
}

export function getHealth(address: string, timeoutMs = 10_000): Promise<HealthResponse> {
  const client = createRouterClient(address);
  return new Promise<HealthResponse>((resolve, reject) => {
    client.getHealth({ checkKernel: false }, new Metadata(), { deadline: Date.now() + timeoutMs }, (err: ServiceError | null, response: HealthResponse) => (err ? reject(err) : resolve(response)));
  }).finally(() => client.close());
}

