import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FirewallState } from '../src/backends.js';
import type { PortMapping } from '../src/model.js';
import { connectionRemovals, pendingRemovals, wholeRemovals } from '../src/removals.js';
import { network, portMapping } from './helpers.js';

const net100 = { network: network(100, '172.18.0.0/16', '172.18.0.1'), interfaceName: 'eth0.100' };
const net200 = { network: network(200, '172.19.0.0/16', '172.19.0.1'), interfaceName: 'eth0.200' };

function firewallState(portMappings: PortMapping[], networks = [net100, net200]): FirewallState {
  return { uplink: 'eth0', networks, portMappings };
}

const ports = Array.from({ length: 50 }, (_, i) => portMapping('tcp', '', 8000 + i, 100, '172.18.0.2'));
const udpPorts = Array.from({ length: 3 }, (_, i) => portMapping('udp', '', 5000 + i, 100, '172.18.0.2'));

describe('connectionRemovals', () => {
  test('shared mapping objects are kept; the ones next lacks are removed, wherever they are', () => {
    const next = [...ports.slice(0, 10), ...ports.slice(11, 40), ...ports.slice(41)];
    assert.deepEqual(connectionRemovals(firewallState(ports), firewallState(next)).portMappings, [ports[10], ports[40]]);
  });

  test('equal copies count as kept; a changed target, range or source list as removed', () => {
    const [a, b, c, d] = ports as [PortMapping, PortMapping, PortMapping, PortMapping];
    const next = [{ ...a }, { ...b, containerIp: '172.18.0.9' }, { ...c, hostPortEnd: c.hostPort + 1 }, { ...d, sources: ['10.0.0.0/8'] }];
    assert.deepEqual(connectionRemovals(firewallState([a, b, c, d]), firewallState(next)).portMappings, [b, c, d]);
  });

  test('unordered states compare by key', () => {
    const shuffled = [...ports].reverse().map((m) => ({ ...m }));
    assert.deepEqual(connectionRemovals(firewallState(ports), firewallState(shuffled.filter((m) => m.hostPort !== 8000))).portMappings, [ports[0]]);
  });

  test('subnets of networks next no longer has', () => {
    assert.deepEqual(connectionRemovals(firewallState([]), firewallState([], [net200])).subnets, ['172.18.0.0/16']);
    assert.deepEqual(connectionRemovals(firewallState([]), firewallState([])).subnets, []);
  });

  test('publishes the UDP mappings next adds or changes, not equal copies and not TCP or SCTP', () => {
    const [a, b, c] = udpPorts as [PortMapping, PortMapping, PortMapping];
    const added = portMapping('udp', '10.1.2.3', 9000, 100, '172.18.0.3');
    const next = [{ ...a }, { ...b, containerPort: 81 }, added, ports[0] as PortMapping, portMapping('sctp', '', 9001, 100, '172.18.0.3')];
    const removals = connectionRemovals(firewallState([a, b, c]), firewallState(next));
    assert.deepEqual(removals.published, [{ ...b, containerPort: 81 }, added]);
    assert.deepEqual(removals.portMappings, [b, c], 'a changed mapping is also removed');
  });
});

describe('wholeRemovals', () => {
  test('publishes every UDP mapping of next, and removes what went away since previous', () => {
    const [a, b] = udpPorts as [PortMapping, PortMapping];
    assert.deepEqual(wholeRemovals(firewallState([a, b], [net100]), firewallState([a], [])), {
      portMappings: [b],
      subnets: ['172.18.0.0/16'],
      published: [a],
      strays: undefined,
    });
  });

  test('without previous (a start), every DNATed flow into the networks that no mapping explains is a stray', () => {
    const [a] = udpPorts as [PortMapping];
    const next = firewallState([a, ports[0] as PortMapping]);
    assert.deepEqual(wholeRemovals(undefined, next), {
      portMappings: [],
      subnets: [],
      published: [a],
      strays: { subnets: ['172.18.0.0/16', '172.19.0.0/16'], portMappings: next.portMappings },
    });
  });
});

describe('pendingRemovals', () => {
  test('joins what is owed with what is new, without what next holds again', () => {
    const [a, b, c] = ports as [PortMapping, PortMapping, PortMapping];
    const owed = { portMappings: [a, b], subnets: ['172.18.0.0/16', '10.9.0.0/16'], published: [], strays: undefined };
    const added = { portMappings: [b, c], subnets: [], published: [], strays: undefined };
    assert.deepEqual(pendingRemovals(owed, added, firewallState([{ ...a }], [net100])), {
      portMappings: [b, c],
      subnets: ['10.9.0.0/16'],
      published: [],
      strays: undefined,
    });
  });

  test('keeps published mappings only while next holds them as they were', () => {
    const [a, b, c] = udpPorts as [PortMapping, PortMapping, PortMapping];
    const owed = { portMappings: [], subnets: [], published: [a, b], strays: undefined };
    const added = { portMappings: [], subnets: [], published: [b, c], strays: undefined };
    assert.deepEqual(pendingRemovals(owed, added, firewallState([{ ...a }, { ...b, containerPort: 81 }, c])), {
      portMappings: [],
      subnets: [],
      published: [a, c],
      strays: undefined,
    });
  });

  test('owed strays are judged by next: its networks and mappings explain the flows', () => {
    const [a, b] = udpPorts as [PortMapping, PortMapping];
    const owed = { portMappings: [], subnets: [], published: [], strays: { subnets: ['172.18.0.0/16', '172.19.0.0/16'], portMappings: [a] } };
    const added = { portMappings: [], subnets: [], published: [b], strays: undefined };
    assert.deepEqual(pendingRemovals(owed, added, firewallState([a, b], [net100])).strays, { subnets: ['172.18.0.0/16'], portMappings: [a, b] });
  });
});
