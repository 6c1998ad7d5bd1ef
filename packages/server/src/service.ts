/**
 * router.RouterService over core's Router: each handler translates the wire
 * messages, and every failure leaves through toServiceError. Successful
 * mutations always set success=true, which existing clients check.
 */
import type { handleUnaryCall, sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { errorKind, errorMessage, type Logger, type NetworkStateView, type NetworkView, type Router } from '@router-service/core';
import type {
  DNSConfig,
  DNSHost,
  GetStateResponse,
  PortMapping,
  RouterServiceServer,
  VLANInterface,
} from '@router-service/proto';
import { toServiceError } from './status.js';

/** The handlers of router.RouterService, for `server.addService(RouterServiceService, …)`. */
export function routerServiceHandlers(router: Router, log: Logger): RouterServiceServer {
  const unary = <Req, Res>(method: string, handle: (request: Req) => Promise<Res>): handleUnaryCall<Req, Res> =>
    (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      handle(call.request).then(
        (response) => callback(null, response),
        (err: unknown) => {
          if (errorKind(err) === 'internal') log.error({ method, err: errorMessage(err) }, 'call failed unexpectedly');
          callback(toServiceError(err));
        },
      );
    };

  return {
    createVlan: unary('CreateVLAN', async (req) => {
      const created = await router.createNetwork({
        vlan: req.vlanId,
        subnet: req.subnet,
        gateway: req.gateway,
        name: req.networkName,
        mtu: req.mtu,
        enableNat: req.enableNat,
        internal: req.internal,
      });
      return { success: true, interfaceName: created.interfaceName, macAddress: created.macAddress, error: '' };
    }),
    deleteVlan: unary('DeleteVLAN', async (req) => {
      await router.deleteNetwork(req.vlanId);
      return { success: true, error: '' };
    }),
    configureNat: unary('ConfigureNAT', async (req) => {
      await router.configureNat(req.vlanId, req.sourceSubnet);
      return { success: true, error: '' };
    }),
    removeNat: unary('RemoveNAT', async (req) => {
      await router.removeNat(req.vlanId, req.sourceSubnet);
      return { success: true, error: '' };
    }),
    configureDns: unary('ConfigureDNS', async (req) => {
      await router.configureDns({
        vlan: req.vlanId,
        subnet: req.subnet,
        gateway: req.gateway,
        domain: req.domain,
        hosts: req.hosts,
        hostAddresses: req.hostAddresses,
        replaceHosts: req.replaceHosts,
      });
      return { success: true, error: '' };
    }),
    removeDnsHosts: unary('RemoveDNSHosts', async (req) => {
      await router.removeDnsHosts(req.vlanId, req.names);
      return { success: true, error: '' };
    }),
    addPortMapping: unary('AddPortMapping', async (req) => {
      await router.addPortMapping({
        containerIp: req.containerIp,
        containerPort: req.containerPort,
        hostPort: req.hostPort,
        protocol: req.protocol,
        vlan: req.vlanId,
        hostIp: req.hostIp,
        hostPortEnd: req.hostPortEnd,
        sources: req.allowedSources,
      });
      return { success: true, error: '' };
    }),
    removePortMapping: unary('RemovePortMapping', async (req) => {
      await router.removePortMapping({
        hostPort: req.hostPort,
        protocol: req.protocol,
        hostIp: req.hostIp,
        hostPortEnd: req.hostPortEnd,
      });
      return { success: true, error: '' };
    }),
    listVlaNs: unary('ListVLANs', async (req) => {
      const networks = await router.listNetworks(req.vlanId);
      return { vlans: networks.map(vlanInterface), error: '' };
    }),
    getState: unary('GetState', async (req): Promise<GetStateResponse> => {
      const state = await router.getState(req.vlanId);
      return {
        networks: state.networks.map((n) => ({
          vlan: vlanInterface(n.network),
          natSources: [...n.natSources],
          dns: n.dns === null ? undefined : dnsConfig(n.dns),
        })),
        portMappings: state.portMappings.map(
          (m): PortMapping => ({
            protocol: m.protocol,
            hostIp: m.hostIp,
            hostPort: m.hostPort,
            containerIp: m.containerIp,
            containerPort: m.containerPort,
            vlanId: m.vlan,
            hostPortEnd: m.hostPortEnd,
            allowedSources: [...m.sources],
          }),
        ),
      };
    }),
    getHealth: unary('GetHealth', async (req) => {
      const status = await router.status({ checkKernel: req.checkKernel });
      return {
        healthy: status.healthy,
        status: status.status,
        activeVlans: status.activeNetworks,
        uptimeSeconds: status.uptimeSeconds,
        firewallBackend: status.firewallBackend,
        dnsBackend: status.dnsBackend,
        kernelInSync: status.kernelInSync,
        kernelDrift: status.kernelDrift,
        kernelChecked: status.kernelChecked,
      };
    }),
  };
}

function vlanInterface(n: NetworkView): VLANInterface {
  return {
    vlanId: n.vlan,
    interfaceName: n.interfaceName,
    gateway: n.gateway,
    subnet: n.subnet,
    macAddress: n.macAddress,
    mtu: n.mtu,
    isUp: n.up,
    natEnabled: n.natEnabled,
    networkName: n.name,
    internal: n.internal,
  };
}

/** A network's DNS: every address of each name, and for older clients each name's first address. */
function dnsConfig(dns: NonNullable<NetworkStateView['dns']>): DNSConfig {
  const hosts: Record<string, string> = {};
  const hostAddresses: DNSHost[] = [];
  for (const name of Object.keys(dns.hosts).sort()) {
    const addresses = dns.hosts[name] ?? [];
    hosts[name] = addresses[0] ?? '';
    hostAddresses.push({ name, addresses: [...addresses] });
  }
  return { enabled: true, domain: dns.domain, hosts, hostAddresses };
}
