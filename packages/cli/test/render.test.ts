import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { GetStateResponse, HealthResponse, VLANInterface } from '@router-service/proto';
import { renderJson } from '../src/json.js';
import { formatPorts } from '../src/port.js';
import { formatHealth, formatStatus } from '../src/status.js';
import { formatTable } from '../src/table.js';
import { formatVlans } from '../src/vlan.js';

const web: VLANInterface = {
  vlanId: 100,
  interfaceName: 'eth0.100',
  gateway: '172.18.0.1',
  subnet: '172.18.0.0/16',
  macAddress: '02:42:ac:12:00:01',
  mtu: 1500,
  isUp: true,
  natEnabled: true,
  networkName: 'web',
  internal: false,
};

const backend: VLANInterface = {
  vlanId: 2000,
  interfaceName: 'eth0.2000',
  gateway: '10.20.0.1',
  subnet: '10.20.0.0/24',
  macAddress: '',
  mtu: 1400,
  isUp: false,
  natEnabled: false,
  networkName: '',
  internal: true,
};

const health: HealthResponse = {
  healthy: true,
  status: 'ok',
  activeVlans: 2,
  uptimeSeconds: 3725,
  firewallBackend: 'nft',
  dnsBackend: 'none',
  kernelInSync: true,
  kernelDrift: '',
  kernelChecked: true,
};

/** The health a service answers that predates the backend and kernel fields. */
const olderHealth: HealthResponse = { ...health, firewallBackend: '', dnsBackend: '', kernelInSync: false, kernelDrift: '', kernelChecked: false };

const state: GetStateResponse = {
  networks: [
    {
      vlan: web,
      natSources: ['10.99.0.0/16'],
      dns: {
        enabled: true,
        domain: '',
        hosts: { web: '172.18.0.2', db: '172.18.0.10' },
        hostAddresses: [{ name: 'db', addresses: ['172.18.0.10'] }, { name: 'web', addresses: ['172.18.0.2', '172.18.0.3'] }],
      },
    },
    { vlan: backend, natSources: [], dns: undefined },
  ],
  portMappings: [
    { protocol: 'tcp', hostIp: '', hostPort: 8080, containerIp: '172.18.0.2', containerPort: 80, vlanId: 100, hostPortEnd: 8080, allowedSources: [] },
    { protocol: 'udp', hostIp: '192.168.64.2', hostPort: 53, containerIp: '172.18.0.10', containerPort: 5353, vlanId: 100, hostPortEnd: 53, allowedSources: [] },
  ],
};

describe('tables', () => {
  test('columns are as wide as their widest cell plus two, the last one unpadded', () => {
    assert.equal(formatTable([['a', 'bb', 'c'], ['aaaa', 'b', 'cccccc']]), 'a     bb  c\naaaa  b   cccccc\n');
  });

  test('a column spans only the consecutive rows that have it, as in tabwriter', () => {
    assert.equal(
      formatTable([['x', 'y'], ['long text'], ['xxxxx', 'y']]),
      'x  y\nlong text\nxxxxx  y\n',
    );
  });

  test('widths count characters, not bytes', () => {
    assert.equal(formatTable([['é', '1'], ['ab', '2']]), 'é   1\nab  2\n');
  });

  test('networks', () => {
    assert.equal(
      formatVlans([web, backend]),
      [
        'VLAN  NAME  INTERFACE  SUBNET         GATEWAY     MTU   STATE  NAT       MAC',
        '100   web   eth0.100   172.18.0.0/16  172.18.0.1  1500  up     on        02:42:ac:12:00:01',
        '2000  -     eth0.2000  10.20.0.0/24   10.20.0.1   1400  down   internal  ',
        '',
      ].join('\n'),
    );
  });

  test('no networks is the heading alone', () => {
    assert.equal(formatVlans([]), 'VLAN  NAME  INTERFACE  SUBNET  GATEWAY  MTU  STATE  NAT  MAC\n');
  });

  test('port mappings', () => {
    assert.equal(
      formatPorts(state.portMappings),
      [
        'PROTO  HOST             CONTAINER         VLAN  SOURCES',
        'tcp    *:8080           172.18.0.2:80     100   any',
        'udp    192.168.64.2:53  172.18.0.10:5353  100   any',
        '',
      ].join('\n'),
    );
  });

  test('port ranges and sources; a service that predates ranges sends no last port', () => {
    assert.equal(
      formatPorts([
        { protocol: 'sctp', hostIp: '', hostPort: 8000, containerIp: '172.18.0.2', containerPort: 9000, vlanId: 100, hostPortEnd: 8010, allowedSources: ['10.0.0.0/8', '192.0.2.7/32'] },
        { protocol: 'tcp', hostIp: '', hostPort: 8080, containerIp: '172.18.0.3', containerPort: 80, vlanId: 100, hostPortEnd: 0, allowedSources: [] },
      ]),
      [
        'PROTO  HOST         CONTAINER             VLAN  SOURCES',
        'sctp   *:8000-8010  172.18.0.2:9000-9010  100   10.0.0.0/8,192.0.2.7/32',
        'tcp    *:8080       172.18.0.3:80         100   any',
        '',
      ].join('\n'),
    );
  });

  test('health', () => {
    assert.equal(
      formatHealth(health),
      'healthy   true\nstatus    ok\nnetworks  2\nuptime    1h2m5s\nfirewall  nft\ndns       none\nkernel    in sync\n',
    );
  });

  test('health of a drifted kernel', () => {
    assert.match(
      formatHealth({ ...health, kernelInSync: false, kernelDrift: 'set published_any_tcp_addr: 3 elements differ' }),
      /\nkernel {4}DRIFT set published_any_tcp_addr: 3 elements differ\n$/,
    );
  });

  test('health from a service that predates the backend fields', () => {
    assert.equal(formatHealth(olderHealth), 'healthy   true\nstatus    ok\nnetworks  2\nuptime    1h2m5s\n');
  });

  test('status', () => {
    assert.equal(
      formatStatus(health, state),
      [
        'health: ok, 2 networks, 2 port mappings, up 1h2m5s',
        'backends: firewall nft, dns none',
        'kernel: in sync',
        '',
        'VLAN  NAME  INTERFACE  SUBNET         GATEWAY     MTU   STATE  NAT       MAC',
        '100   web   eth0.100   172.18.0.0/16  172.18.0.1  1500  up     on        02:42:ac:12:00:01',
        '2000  -     eth0.2000  10.20.0.0/24   10.20.0.1   1400  down   internal  ',
        '',
        'VLAN 100 also masquerades: 10.99.0.0/16',
        '',
        'VLAN 100 DNS (domain -):',
        '  db   172.18.0.10',
        '  web  172.18.0.2, 172.18.0.3',
        '',
        'PROTO  HOST             CONTAINER         VLAN  SOURCES',
        'tcp    *:8080           172.18.0.2:80     100   any',
        'udp    192.168.64.2:53  172.18.0.10:5353  100   any',
        '',
      ].join('\n'),
    );
  });

  test('status of an empty service', () => {
    assert.equal(
      formatStatus({ ...olderHealth, activeVlans: 0, uptimeSeconds: 0 }, { networks: [], portMappings: [] }),
      'health: ok, 0 networks, 0 port mappings, up 0s\n\nVLAN  NAME  INTERFACE  SUBNET  GATEWAY  MTU  STATE  NAT  MAC\n',
    );
  });

  test('status of a drifted kernel', () => {
    const drifted = { ...health, activeVlans: 0, uptimeSeconds: 0, kernelInSync: false, kernelDrift: 'table inet router_service missing' };
    assert.equal(
      formatStatus(drifted, { networks: [], portMappings: [] }).split('\n').slice(0, 3).join('\n'),
      'health: ok, 0 networks, 0 port mappings, up 0s\nbackends: firewall nft, dns none\nkernel: DRIFT table inet router_service missing',
    );
  });
});

describe('JSON', () => {
  test('every field, lowerCamelCase, 64-bit integers as strings', () => {
    assert.equal(
      renderJson(health),
      '{\n  "healthy": true,\n  "status": "ok",\n  "activeVlans": 2,\n  "uptimeSeconds": "3725",\n' +
        '  "firewallBackend": "nft",\n  "dnsBackend": "none",\n  "kernelInSync": true,\n  "kernelDrift": "",\n  "kernelChecked": true\n}\n',
    );
  });

  test('empty lists stay, an unset message is null, map keys are sorted', () => {
    assert.equal(renderJson({ vlans: [], error: '' }), '{\n  "vlans": [],\n  "error": ""\n}\n');
    assert.equal(
      renderJson({ networks: [{ vlan: undefined, natSources: [], dns: { enabled: true, domain: 'x', hosts: { web: '1', db: '2' }, hostAddresses: [{ name: 'db', addresses: ['2'] }] } }], portMappings: [] }),
      [
        '{',
        '  "networks": [',
        '    {',
        '      "vlan": null,',
        '      "natSources": [],',
        '      "dns": {',
        '        "enabled": true,',
        '        "domain": "x",',
        '        "hosts": {',
        '          "db": "2",',
        '          "web": "1"',
        '        },',
        '        "hostAddresses": [',
        '          {',
        '            "name": "db",',
        '            "addresses": [',
        '              "2"',
        '            ]',
        '          }',
        '        ]',
        '      }',
        '    }',
        '  ],',
        '  "portMappings": []',
        '}',
        '',
      ].join('\n'),
    );
  });
});
