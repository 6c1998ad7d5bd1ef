/**
 * Pins the field numbers, types and names that existing clients of
 * router.RouterService depend on, read from the compiler's own descriptors
 * (the ones reflection serves). A failure here means a change would break
 * them: add new fields, messages and RPCs instead.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createFileRegistry, fromBinary, ScalarType, type DescField, type DescMessage, type DescMethod } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { fileDescriptorSetBase64 } from '../src/index.js';

const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, Buffer.from(fileDescriptorSetBase64, 'base64')));

/** The original contract, then today's extensions (new fields only). */
const contract: Record<string, string[]> = {
  CreateVLANRequest: ['1 vlan_id uint32', '2 subnet string', '3 gateway string', '4 network_name string', '5 mtu uint32', '6 enable_nat bool optional', '7 internal bool'],
  CreateVLANResponse: ['1 success bool', '2 interface_name string', '3 mac_address string', '4 error string'],
  DeleteVLANRequest: ['1 vlan_id uint32'],
  DeleteVLANResponse: ['1 success bool', '2 error string'],
  ConfigureNATRequest: ['1 vlan_id uint32', '2 source_subnet string'],
  ConfigureNATResponse: ['1 success bool', '2 error string'],
  RemoveNATRequest: ['1 vlan_id uint32', '2 source_subnet string'],
  RemoveNATResponse: ['1 success bool', '2 error string'],
  ConfigureDNSRequest: ['1 vlan_id uint32', '2 subnet string', '3 gateway string', '4 domain string', '5 hosts map<string,string>', '6 replace_hosts bool', '7 host_addresses repeated router.DNSHost'],
  DNSHost: ['1 name string', '2 addresses repeated string'],
  ConfigureDNSResponse: ['1 success bool', '2 error string'],
  AddPortMappingRequest: ['1 container_ip string', '2 container_port uint32', '3 host_port uint32', '4 protocol string', '5 vlan_id uint32', '6 host_ip string', '7 host_port_end uint32', '8 allowed_sources repeated string'],
  AddPortMappingResponse: ['1 success bool', '2 error string'],
  RemovePortMappingRequest: ['1 host_port uint32', '2 protocol string', '3 host_ip string', '4 host_port_end uint32'],
  RemovePortMappingResponse: ['1 success bool', '2 error string'],
  ListVLANsRequest: ['1 vlan_id uint32'],
  ListVLANsResponse: ['1 vlans repeated router.VLANInterface', '2 error string'],
  VLANInterface: ['1 vlan_id uint32', '2 interface_name string', '3 gateway string', '4 subnet string', '5 mac_address string', '6 mtu uint32', '7 is_up bool', '8 nat_enabled bool', '9 network_name string', '10 internal bool'],
  HealthRequest: ['1 check_kernel bool'],
  HealthResponse: ['1 healthy bool', '2 status string', '3 active_vlans uint32', '4 uptime_seconds uint64', '5 firewall_backend string', '6 dns_backend string', '7 kernel_in_sync bool', '8 kernel_drift string', '9 kernel_checked bool'],
  RemoveDNSHostsRequest: ['1 vlan_id uint32', '2 names repeated string'],
  RemoveDNSHostsResponse: ['1 success bool', '2 error string'],
  GetStateRequest: ['1 vlan_id uint32'],
  GetStateResponse: ['1 networks repeated router.NetworkState', '2 port_mappings repeated router.PortMapping'],
  NetworkState: ['1 vlan router.VLANInterface', '2 nat_sources repeated string', '3 dns router.DNSConfig'],
  DNSConfig: ['1 enabled bool', '2 domain string', '3 hosts map<string,string>', '4 host_addresses repeated router.DNSHost'],
  PortMapping: ['1 protocol string', '2 host_ip string', '3 host_port uint32', '4 container_ip string', '5 container_port uint32', '6 vlan_id uint32', '7 host_port_end uint32', '8 allowed_sources repeated string'],
};

const rpcs: Record<string, [input: string, output: string]> = {
  CreateVLAN: ['CreateVLANRequest', 'CreateVLANResponse'],
  DeleteVLAN: ['DeleteVLANRequest', 'DeleteVLANResponse'],
  ConfigureNAT: ['ConfigureNATRequest', 'ConfigureNATResponse'],
  RemoveNAT: ['RemoveNATRequest', 'RemoveNATResponse'],
  ConfigureDNS: ['ConfigureDNSRequest', 'ConfigureDNSResponse'],
  AddPortMapping: ['AddPortMappingRequest', 'AddPortMappingResponse'],
  RemovePortMapping: ['RemovePortMappingRequest', 'RemovePortMappingResponse'],
  ListVLANs: ['ListVLANsRequest', 'ListVLANsResponse'],
  GetHealth: ['HealthRequest', 'HealthResponse'],
  RemoveDNSHosts: ['RemoveDNSHostsRequest', 'RemoveDNSHostsResponse'],
  GetState: ['GetStateRequest', 'GetStateResponse'],
};

function scalarName(type: ScalarType): string {
  return ScalarType[type].toLowerCase();
}

/** Renders a field as "<number> <name> <type>[ optional]", the contract's notation. */
function describe(field: DescField): string {
  const head = `${field.number} ${field.name}`;
  switch (field.fieldKind) {
    case 'map':
      return `${head} map<${scalarName(field.mapKey)},${field.mapKind === 'scalar' ? scalarName(field.scalar) : field.mapKind}>`;
    case 'list':
      return `${head} repeated ${field.listKind === 'message' ? field.message.typeName : field.listKind === 'scalar' ? scalarName(field.scalar) : field.listKind}`;
    case 'scalar':
      return `${head} ${scalarName(field.scalar)}${field.proto.proto3Optional ? ' optional' : ''}`;
    case 'message':
      return `${head} ${field.message.typeName}`;
    case 'enum':
      return `${head} ${field.enum.typeName}`;
  }
}

function message(name: string): DescMessage {
  const desc = registry.getMessage(`router.${name}`);
  assert.ok(desc, `message router.${name} is missing`);
  return desc;
}

for (const [name, fields] of Object.entries(contract)) {
  test(`router.${name} keeps its fields`, () => {
    const desc = message(name);
    for (const want of fields) {
      const number = Number(want.split(' ')[0]);
      const field = desc.fields.find((f) => f.number === number);
      assert.ok(field, `${name}: field ${number} is missing`);
      assert.equal(describe(field), want, `${name}: field ${number}`);
    }
  });
}

test('router.RouterService keeps every RPC, unary, with its messages', () => {
  const service = registry.getService('router.RouterService');
  assert.ok(service, 'service router.RouterService is missing');
  for (const [name, [input, output]] of Object.entries(rpcs)) {
    const method: DescMethod | undefined = service.methods.find((m) => m.name === name);
    assert.ok(method, `rpc ${name} is missing`);
    assert.deepEqual(
      [method.input.typeName, method.output.typeName, method.methodKind],
      [`router.${input}`, `router.${output}`, 'unary'],
      `rpc ${name}`,
    );
  }
});

test('the generated service definition uses the wire method paths', async () => {
  const { RouterServiceService } = await import('../src/index.js');
  const paths = Object.values(RouterServiceService).map((m) => m.path).sort();
  assert.deepEqual(paths, Object.keys(rpcs).map((name) => `/router.RouterService/${name}`).sort());
});
