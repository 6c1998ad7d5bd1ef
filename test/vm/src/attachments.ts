import { status } from '@grpc/grpc-js';
import {
  AddPortMappingRequest,
  ConfigureDNSRequest,
  ConfigureNATRequest,
  CreateVLANRequest,
  GetStateRequest,
  PortMapping,
  RemoveDNSHostsRequest,
  RemoveNATRequest,
  RemovePortMappingRequest,
  type GetStateResponse,
} from '@router-service/proto';
import { errorOf, settle, type Checks } from './checks.js';
import { statusCodeOf, type RouterCalls } from './client.js';
import { ip, waitFor } from './command.js';
import { checkKernelVlan, linkByName, linkIndex } from './kernel.js';
import { net100, net200, ping, type TestNetwork } from './topology.js';
import { createRequest } from './scenario.js';

function errorText(error: Error | null): string {
  return `err=${error?.message ?? '<nil>'}`;
}

/**
 * attachments drives the RPCs beyond links (NAT, DNS, port mappings and the
 * state calls) against real VLANs, and in-place changes and drift repair of
 * the links themselves.
 */
export async function attachments(checks: Checks, router: RouterCalls): Promise<void> {
  let err = await errorOf(
    router.call('createVlan', CreateVLANRequest.create({ vlanId: 300, subnet: '172.30.0.0/16', mtu: 9000 })),
  );
  checks.checkThat(
    "CreateVLAN with an MTU above the parent's is InvalidArgument",
    statusCodeOf(err) === status.INVALID_ARGUMENT,
    () => errorText(err),
  );
  err = await errorOf(router.call('createVlan', CreateVLANRequest.create({ vlanId: 300, subnet: '172.18.128.0/17' })));
  checks.checkThat(
    'CreateVLAN overlapping VLAN 100 is AlreadyExists',
    statusCodeOf(err) === status.ALREADY_EXISTS,
    () => errorText(err),
  );
  const rejected = await settle(linkByName('eth0.300'));
  checks.checkThat('rejected CreateVLAN leaves no link', rejected.error !== null, () => 'eth0.300 exists');

  const recreated = await settle(router.call('createVlan', createRequest(net200)));
  checks.checkThat(
    'CreateVLAN 200 again after its deletion',
    recreated.error === null && recreated.value.success,
    () => errorText(recreated.error),
  );
  checks.checkThat(
    'container on VLAN 200 pings its gateway again',
    await ping('c200', net200.gateway),
    () => 'no reply',
  );

  const before = (await settle(linkByName('eth0.200'))).value;
  const changed = CreateVLANRequest.create({
    vlanId: 200,
    subnet: '172.19.0.0/16',
    gateway: '172.19.0.254',
    mtu: 1400,
    enableNat: false,
  });
  checks.check(
    'CreateVLAN 200 with a new gateway and MTU succeeds',
    await errorOf(router.call('createVlan', changed)),
  );
  const moved: TestNetwork = { ...net200, gateway: '172.19.0.254' };
  const after = (await settle(linkByName('eth0.200'))).value;
  checks.check(
    'eth0.200 converged in place to the new gateway only',
    await errorOf(checkKernelVlan(moved, before?.vlan?.parentIndex ?? -1)),
  );
  checks.checkThat(
    'eth0.200 has MTU 1400 and kept its ifindex',
    after !== undefined && after.mtu === 1400 && after.index === before?.index,
    () => `link ${JSON.stringify(after) ?? '<nil>'}`,
  );
  checks.checkThat(
    'container on VLAN 200 pings the new gateway',
    await ping('c200', moved.gateway),
    () => 'no reply',
  );
  checks.checkThat(
    'the old gateway 172.19.0.1 is gone',
    !(await ping('c200', net200.gateway)),
    () => 'old gateway still answers',
  );
  checks.check('CreateVLAN 200 back to its first spec', await errorOf(router.call('createVlan', createRequest(net200))));

  const calls: { name: string; call: () => Promise<unknown> }[] = [
    {
      name: 'ConfigureNAT 100 with an extra source',
      call: () =>
        router.call('configureNat', ConfigureNATRequest.create({ vlanId: 100, sourceSubnet: '192.0.2.0/24' })),
    },
    {
      name: 'RemoveNAT 200 (own subnet)',
      call: () => router.call('removeNat', RemoveNATRequest.create({ vlanId: 200, sourceSubnet: net200.subnet })),
    },
    {
      name: 'ConfigureDNS 100',
      call: () =>
        router.call(
          'configureDns',
          ConfigureDNSRequest.create({
            vlanId: 100,
            subnet: net100.subnet,
            gateway: net100.gateway,
            domain: 'frontend',
            hosts: { web: '172.18.0.2', db: '172.18.0.3', old: '172.18.0.4' },
          }),
        ),
    },
    {
      name: 'RemoveDNSHosts 100 old',
      call: () => router.call('removeDnsHosts', RemoveDNSHostsRequest.create({ vlanId: 100, names: ['old'] })),
    },
    {
      name: 'AddPortMapping 8080/tcp -> 172.18.0.2:80',
      call: () =>
        router.call(
          'addPortMapping',
          AddPortMappingRequest.create({
            containerIp: '172.18.0.2',
            containerPort: 80,
            hostPort: 8080,
            protocol: 'tcp',
            vlanId: 100,
          }),
        ),
    },
    {
      name: 'AddPortMapping 5353/udp -> 172.19.0.2:53',
      call: () =>
        router.call(
          'addPortMapping',
          AddPortMappingRequest.create({
            containerIp: '172.19.0.2',
            containerPort: 53,
            hostPort: 5353,
            protocol: 'udp',
            vlanId: 200,
          }),
        ),
    },
    {
      name: 'AddPortMapping 9999/tcp, later removed',
      call: () =>
        router.call(
          'addPortMapping',
          AddPortMappingRequest.create({
            containerIp: '172.18.0.3',
            containerPort: 99,
            hostPort: 9999,
            protocol: 'tcp',
            vlanId: 100,
          }),
        ),
    },
    {
      name: 'RemovePortMapping 9999/tcp',
      call: () =>
        router.call('removePortMapping', RemovePortMappingRequest.create({ hostPort: 9999, protocol: 'tcp' })),
    },
  ];
  for (const { name, call } of calls) {
    // Every call twice: the repeat must succeed and change nothing.
    let callError = await errorOf(call());
    if (callError === null) {
      callError = await errorOf(call());
    }
    checks.check(`${name} (twice)`, callError);
  }
  err = await errorOf(
    router.call(
      'addPortMapping',
      AddPortMappingRequest.create({
        containerIp: '172.18.0.3',
        containerPort: 81,
        hostPort: 8080,
        protocol: 'tcp',
        vlanId: 100,
      }),
    ),
  );
  checks.checkThat(
    'AddPortMapping of a taken host port is AlreadyExists',
    statusCodeOf(err) === status.ALREADY_EXISTS,
    () => errorText(err),
  );
  err = await errorOf(
    router.call('configureDns', ConfigureDNSRequest.create({ vlanId: 100, hosts: { bad_name: '172.18.0.2' } })),
  );
  checks.checkThat(
    'ConfigureDNS with an invalid hostname is InvalidArgument',
    statusCodeOf(err) === status.INVALID_ARGUMENT,
    () => errorText(err),
  );
  err = await errorOf(router.call('configureNat', ConfigureNATRequest.create({ vlanId: 999 })));
  checks.checkThat(
    'ConfigureNAT on an absent VLAN is NotFound',
    statusCodeOf(err) === status.NOT_FOUND,
    () => errorText(err),
  );

  checks.check(
    'GetState returns every network and mapping',
    await errorOf(router.call('getState', GetStateRequest.create()).then(checkState)),
  );

  // Drift repair: the link vanishes behind the service's back and the
  // periodic resync restores it.
  const deleted = await errorOf(ip('link', 'del', 'eth0.100'));
  checks.checkThat(
    'periodic resync restores a deleted link',
    deleted === null &&
      (await waitFor(20_000, async () => (await errorOf(checkKernelVlan(net100, await linkIndex('eth0')))) === null)),
    () => (deleted === null ? 'eth0.100 not restored' : `eth0.100 could not be deleted: ${deleted.message}`),
  );
  checks.checkThat(
    'container on VLAN 100 pings its gateway after the repair',
    await ping('c100', net100.gateway),
    () => 'no reply',
  );
}

/** checkState checks GetState against what attachments configured. */
export function checkState(state: GetStateResponse): void {
  const [n100, n200] = state.networks;
  if (state.networks.length !== 2 || n100 === undefined || n200 === undefined) {
    throw new Error(`${state.networks.length} networks: ${JSON.stringify(state.networks)}`);
  }
  if (n100.natSources.length !== 1 || n100.natSources[0] !== '192.0.2.0/24' || !n100.vlan?.natEnabled) {
    throw new Error(`VLAN 100 NAT: ${JSON.stringify(n100)}`);
  }
  if (n200.vlan?.natEnabled) {
    throw new Error(`VLAN 200 NAT still on: ${JSON.stringify(n200)}`);
  }
  const dns = n100.dns;
  if (dns?.domain !== 'frontend' || !sameHosts(dns.hosts, { web: '172.18.0.2', db: '172.18.0.3' })) {
    throw new Error(`VLAN 100 DNS: ${JSON.stringify(dns) ?? '<nil>'}`);
  }
  const want = [
    PortMapping.create({ protocol: 'tcp', hostPort: 8080, hostPortEnd: 8080, containerIp: '172.18.0.2', containerPort: 80, vlanId: 100 }),
    PortMapping.create({ protocol: 'udp', hostPort: 5353, hostPortEnd: 5353, containerIp: '172.19.0.2', containerPort: 53, vlanId: 200 }),
  ];
  if (state.portMappings.length !== want.length) {
    throw new Error(`port mappings: ${JSON.stringify(state.portMappings)}`);
  }
  for (const [i, expected] of want.entries()) {
    const got = state.portMappings[i];
    if (got === undefined || !samePortMapping(got, expected)) {
      throw new Error(`port mapping ${i}: ${JSON.stringify(got)}, want ${JSON.stringify(expected)}`);
    }
  }
}

function sameHosts(got: Record<string, string>, want: Record<string, string>): boolean {
  const gotNames = Object.keys(got);
  return gotNames.length === Object.keys(want).length && gotNames.every((name) => got[name] === want[name]);
}

function samePortMapping(a: PortMapping, b: PortMapping): boolean {
  return Buffer.from(PortMapping.encode(a).finish()).equals(PortMapping.encode(b).finish());
}
