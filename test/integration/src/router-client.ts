/**
 * A router.RouterService client built from router.proto when the tests run,
 * as any client of the wire contract would build it: no generated code.
 * Messages are plain objects with the proto's own field names.
 */
import {
  credentials,
  loadPackageDefinition,
  Metadata,
  type Client,
  type GrpcObject,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { routerProtoPath } from './artifacts.js';

export interface VlanInterface {
  vlan_id: number;
  interface_name: string;
  gateway: string;
  subnet: string;
  mac_address: string;
  mtu: number;
  is_up: boolean;
  nat_enabled: boolean;
  network_name: string;
  internal: boolean;
}

export interface PortMapping {
  protocol: string;
  host_ip: string;
  host_port: number;
  container_ip: string;
  container_port: number;
  vlan_id: number;
  host_port_end: number;
  allowed_sources: string[];
}

export interface DnsHost {
  name: string;
  addresses: string[];
}

export interface NetworkState {
  vlan: VlanInterface | null;
  nat_sources: string[];
  dns: { enabled: boolean; domain: string; hosts: Record<string, string>; host_addresses: DnsHost[] } | null;
}

export interface GetStateResponse {
  networks: NetworkState[];
  port_mappings: PortMapping[];
}

export interface Outcome {
  success: boolean;
  error: string;
}

/** The methods of router.RouterService: request and response as this client sends and receives them. */
export interface RouterMethods {
  CreateVLAN: [
    {
      vlan_id: number;
      subnet?: string;
      gateway?: string;
      network_name?: string;
      mtu?: number;
      enable_nat?: boolean;
      internal?: boolean;
    },
    Outcome & { interface_name: string; mac_address: string },
  ];
  DeleteVLAN: [{ vlan_id: number }, Outcome];
  ConfigureNAT: [{ vlan_id: number; source_subnet?: string }, Outcome];
  RemoveNAT: [{ vlan_id: number; source_subnet?: string }, Outcome];
  ConfigureDNS: [
    {
      vlan_id: number;
      subnet?: string;
      gateway?: string;
      domain?: string;
      hosts?: Record<string, string>;
      replace_hosts?: boolean;
      host_addresses?: DnsHost[];
    },
    Outcome,
  ];
  AddPortMapping: [
    {
      container_ip?: string;
      container_port?: number;
      host_port?: number;
      protocol?: string;
      vlan_id?: number;
      host_ip?: string;
      host_port_end?: number;
      allowed_sources?: string[];
    },
    Outcome,
  ];
  RemovePortMapping: [{ host_port?: number; protocol?: string; host_ip?: string; host_port_end?: number }, Outcome];
  ListVLANs: [{ vlan_id?: number }, { vlans: VlanInterface[]; error: string }];
  GetHealth: [
    { check_kernel?: boolean },
    // uint64 arrives as a decimal string (proto-loader's longs: String).
    {
      healthy: boolean;
      status: string;
      active_vlans: number;
      uptime_seconds: string;
      firewall_backend: string;
      dns_backend: string;
      kernel_in_sync: boolean;
      kernel_drift: string;
      kernel_checked: boolean;
    },
  ];
  RemoveDNSHosts: [{ vlan_id: number; names?: string[] }, Outcome];
  GetState: [{ vlan_id?: number }, GetStateResponse];
}

export type MethodName = keyof RouterMethods;

export interface RouterClient {
  call<M extends MethodName>(method: M, request: RouterMethods[M][0]): Promise<RouterMethods[M][1]>;
  close(): void;
}

let serviceConstructor: ServiceClientConstructor | undefined;

function routerService(): ServiceClientConstructor {
  if (serviceConstructor === undefined) {
    const definition = loadSync(routerProtoPath(), { keepCase: true, defaults: true, oneofs: true, longs: String });
    const router = loadPackageDefinition(definition)['router'] as GrpcObject | undefined;
    const service = router?.['RouterService'];
    if (typeof service !== 'function') throw new Error(`${routerProtoPath()} defines no router.RouterService`);
    serviceConstructor = service;
  }
  return serviceConstructor;
}

/** A client of the service listening on a unix socket. */
export function connectRouter(socketPath: string, timeoutMs = 20_000): RouterClient {
  const Service = routerService();
  const client: Client = new Service(`unix://${socketPath}`, credentials.createInsecure());
  return {
    call(method, request) {
      const definition = Service.service[method];
      if (definition === undefined) throw new Error(`router.proto has no method ${method}`);
      return new Promise((resolve, reject) => {
        client.makeUnaryRequest(
          definition.path,
          definition.requestSerialize,
          definition.responseDeserialize,
          request,
          new Metadata(),
          { deadline: Date.now() + timeoutMs },
          (error: ServiceError | null, response?: unknown) => {
            if (error !== null) reject(error);
            // The shape is router.proto's, decoded by proto-loader with defaults.
            else resolve(response as RouterMethods[typeof method][1]);
          },
        );
      });
    },
    close() {
      client.close();
    },
  };
}

/** A rejected call: its gRPC status code and message. */
export function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && typeof (error as Partial<ServiceError>).code === 'number';
}
