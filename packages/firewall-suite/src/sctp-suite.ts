/**
 * SCTP with real packets, for kernels that speak it (the helper VM's; not
 * every build host's). `firewallBackendSuite` runs it when the adapter's
 * capabilities say so; a harness may also call it alone. Probes are socat's
 * SCTP-LISTEN and SCTP-CONNECT.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FirewallBackend, FirewallState } from '@router-service/core';
import type { FirewallSuiteAdapter } from './adapter.js';
import { expectAll } from './expect-all.js';
import { baseState, suiteMapping, withMappings } from './states.js';
import { NET100, NET200, OUTSIDE_IP, OUTSIDE_SECOND_IP, ROUTER_SECOND_IP, ROUTER_UPLINK_IP, Topology } from './topology.js';

const SCTP_ANY = 3868; // on every address -> c200:3868
const SCTP_RANGE_FIRST = 3900; // ..3902 on ROUTER_SECOND_IP -> c100:4900..4902, only from OUTSIDE_IP
const SCTP_RANGE_LAST = 3902;
const CONTAINER_RANGE_FIRST = 4900;
const OUTSIDE_PORT = 7000;

function sctpState(): FirewallState {
  return withMappings(baseState(), (ms) => [
    ...ms,
    suiteMapping('sctp', '', SCTP_ANY, NET200, SCTP_ANY),
    suiteMapping('sctp', ROUTER_SECOND_IP, SCTP_RANGE_FIRST, NET100, CONTAINER_RANGE_FIRST, {
      hostPortEnd: SCTP_RANGE_LAST,
      sources: [`${OUTSIDE_IP}/32`],
    }),
  ]);
}

/** Registers the SCTP packet checks of one backend, on a topology of their own. */
export function firewallSctpSuite(name: string, adapter: FirewallSuiteAdapter): void {
  describe(`firewall backend ${name}: SCTP packets`, () => {
    let topology: Topology;
    let backend: FirewallBackend;

    before(async () => {
      topology = await Topology.create();
      const { outside, c100, c200 } = topology;
      await topology.serve(outside, 'sctp', '0.0.0.0', OUTSIDE_PORT);
      await topology.serve(c200, 'sctp', '0.0.0.0', SCTP_ANY);
      await topology.serve(c100, 'sctp', '0.0.0.0', CONTAINER_RANGE_FIRST);
      await topology.serve(c100, 'sctp', '0.0.0.0', CONTAINER_RANGE_FIRST + (SCTP_RANGE_LAST - SCTP_RANGE_FIRST));
      await topology.serve(c100, 'sctp', '0.0.0.0', CONTAINER_RANGE_FIRST + (SCTP_RANGE_LAST - SCTP_RANGE_FIRST) + 1);
      backend = adapter.make(topology.router.name);
      await backend.sync(sctpState());
    });
    after(async () => {
      await backend?.close?.();
      await topology?.destroy();
    });

    test('SCTP from a NAT network leaves as the router; SCTP between networks is dropped', async () => {
      await expectAll([
        ['to the outside', topology.connect(topology.c100, 'sctp', OUTSIDE_IP, OUTSIDE_PORT), ROUTER_UPLINK_IP],
        ['to the other network', topology.connect(topology.c100, 'sctp', NET200.container, SCTP_ANY), undefined],
      ]);
    });

    test('published SCTP ports answer on every address, in a range, and only the allowed sources', async () => {
      const { outside } = topology;
      await expectAll([
        ['every address', topology.connect(outside, 'sctp', ROUTER_UPLINK_IP, SCTP_ANY), OUTSIDE_IP],
        ['first port of the range', topology.connect(outside, 'sctp', ROUTER_SECOND_IP, SCTP_RANGE_FIRST), OUTSIDE_IP],
        ['last port of the range', topology.connect(outside, 'sctp', ROUTER_SECOND_IP, SCTP_RANGE_LAST), OUTSIDE_IP],
        ['the port after the range', topology.connect(outside, 'sctp', ROUTER_SECOND_IP, SCTP_RANGE_LAST + 1), undefined],
        ['the range from another source', topology.connect(outside, 'sctp', ROUTER_SECOND_IP, SCTP_RANGE_FIRST, { from: OUTSIDE_SECOND_IP }), undefined],
        ['the range on another address', topology.connect(outside, 'sctp', ROUTER_UPLINK_IP, SCTP_RANGE_FIRST), undefined],
        ['the outside straight to a container', topology.connect(outside, 'sctp', NET200.container, SCTP_ANY), undefined],
      ]);
    });

    test('an SCTP mapping removed by update stops answering', async () => {
      const without = withMappings(sctpState(), (ms) => ms.filter((m) => m.hostPort !== SCTP_ANY));
      try {
        await backend.update(sctpState(), without);
        assert.equal(await topology.connect(topology.outside, 'sctp', ROUTER_UPLINK_IP, SCTP_ANY), undefined);
        assert.equal(await backend.drift(without), '');
      } finally {
        await backend.sync(sctpState());
      }
    });
  });
}
