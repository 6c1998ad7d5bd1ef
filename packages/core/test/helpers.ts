/** Shared fixtures of the tests. */
import assert from 'node:assert/strict';
import { RouterError, type ErrorKind } from '../src/errors.js';
import type { Uplink } from '../src/backends.js';
import type { Network, PortMapping, Protocol } from '../src/model.js';

export const testUplink: Uplink = { name: 'eth0', mtu: 1500, prefixes: ['192.168.64.0/24'] };

/** Asserts that fn throws (or rejects with) a RouterError of kind whose message mentions part. */
export async function assertRouterError(
  fn: () => unknown,
  kind: ErrorKind,
  part: string,
): Promise<void> {
  await assert.rejects(
    async () => fn(),
    (err: unknown) => {
      assert.ok(err instanceof RouterError, `not a RouterError: ${String(err)}`);
      assert.equal(err.kind, kind, `kind of "${err.message}"`);
      assert.ok(err.message.includes(part), `message "${err.message}" does not say "${part}"`);
      return true;
    },
  );
}

/** A network with NAT on and nothing attached. */
export function network(vlan: number, subnet: string, gateway: string): Network {
  return { vlan, name: '', subnet, gateway, mtu: 0, nat: true, internal: false, natSources: [], dns: null };
}

/** A mapping of one host port to port 80, open to every source, unless fields say otherwise. */
export function portMapping(
  protocol: Protocol,
  hostIp: string,
  hostPort: number,
  vlan: number,
  containerIp: string,
  fields: Partial<PortMapping> = {},
): PortMapping {
  return { protocol, hostIp, hostPort, hostPortEnd: hostPort, containerIp, containerPort: 80, vlan, sources: [], ...fields };
}
