/**
 * The daemon's lifecycle with one firewall backend, against the real daemon
 * in throwaway namespaces: a backend's test file calls `lifecycleSuite`
 * and gets the kill -9 loop, repair of an outside flush, a UDP sender that
 * began before its port was published, the status it reports, and
 * restarts that keep exactly one copy of everything.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Daemon } from '@router-service/integration-tests/daemon';
import { NET100, OUTSIDE_IP, ROUTER_UPLINK_IP, Topology } from '@router-service/firewall-suite';
import { createRouterNs } from '@router-service/integration-tests/router-ns';
import { runRouterctl } from '@router-service/integration-tests/routerctl';
import type { FirewallUnderTest } from './firewall-under-test.js';
import { runKillLoop } from './kill-loop.js';
import { driftOf, readStoredState } from './kernel-checks.js';
import { createNetworksAndPublish, createPublishingTopology, publishedPortAnswers } from './published-port.js';
import { seedFromEnv } from './random.js';
import { RouterHome, startHealthy, stopCleanly, withDaemonLogs, type Health } from './router-daemon.js';
import { waitUntil } from './wait.js';

/** Kill points per backend unless LIFECYCLE_ITERATIONS says otherwise. */
const DEFAULT_ITERATIONS = 50;
/** Short streams keep an iteration near a second; the kill comes within this long. */
const STREAM_MS = 600;
/** Short enough that repairs come quickly, long enough that resyncs do not crowd out calls. */
const SHORT_RESYNC = '300ms';
/** Longer than any of these tests: no resync comes but the one at start. */
const NO_RESYNC = '1h';
const REPAIR_TIMEOUT_MS = 15_000;
/** The UDP flow that starts before its port is published: the outside's source port, the router's port, the container's. */
const EARLY_UDP = { sourcePort: 41053, hostPort: 5353, containerPort: 53 } as const;

function iterationsFromEnv(): number {
  const text = process.env['LIFECYCLE_ITERATIONS'];
  if (text === undefined || text === '') return DEFAULT_ITERATIONS;
  if (!/^[1-9][0-9]*$/.test(text)) throw new Error(`LIFECYCLE_ITERATIONS=${text} is not a positive number`);
  return Number(text);
}

/** A GetHealth request that compares the kernel with the desired state. */
const CHECK_KERNEL = { check_kernel: true };

/** The firewall fields of a GetHealth answer. */
function firewallHealth(health: Health): { backend: string; inSync: boolean; drift: string } {
  return { backend: health.firewall_backend, inSync: health.kernel_in_sync, drift: health.kernel_drift };
}

export function lifecycleSuite(firewall: FirewallUnderTest): void {
  const name = firewall.name;

  describe(`the daemon with the ${name} firewall`, () => {
    test(`kill -9 at random points of random call streams: the kernel is the stored state after each restart`, async (t) => {
      const seed = seedFromEnv('LIFECYCLE_SEED');
      t.diagnostic(`seed ${seed} (set LIFECYCLE_SEED to replay)`);
      const report = await runKillLoop(firewall, {
        iterations: iterationsFromEnv(),
        seed,
        streamMs: STREAM_MS,
        resyncInterval: SHORT_RESYNC,
      });
      t.diagnostic(
        `${name}: ${report.iterations} kills, ${report.killsDuringCalls} with calls in flight, ` +
          `${report.calls} calls, ${(report.elapsedMs / 1000).toFixed(1)} s`,
      );
    });

    test('an outside flush is repaired by the next resync, and the published port answers again', async () => {
      const topology = await createPublishingTopology();
      const home = await RouterHome.create();
      const daemons: Daemon[] = [];
      const options = { firewall: name, resyncInterval: SHORT_RESYNC };
      try {
        await withDaemonLogs(daemons, async () => {
          const setup = await startHealthy(topology.router, home, options);
          daemons.push(setup);
          await createNetworksAndPublish(setup.client);
          await stopCleanly(setup);
          const stored = readStoredState(home.stateDir);
          daemons.push(await startHealthy(topology.router, home, options));
          assert.equal(await driftOf(firewall, topology.router, stored.firewall), '', 'drift before the flush');
          assert.ok(await publishedPortAnswers(topology), 'the published port does not answer before the flush');

          await firewall.flush(topology.router);
          await waitUntil(`the ${name} rules after the flush`, REPAIR_TIMEOUT_MS, () => driftOf(firewall, topology.router, stored.firewall));
          await waitUntil('the published port after the flush', REPAIR_TIMEOUT_MS, async () =>
            (await publishedPortAnswers(topology)) ? '' : 'no answer',
          );
          assert.deepEqual(await firewall.copies(topology.router), []);
        });
      } finally {
        await topology.destroy().finally(() => home.remove());
      }
    });

    test('a UDP sender that began before its port was published reaches the container once it is', async () => {
      const topology = await Topology.create();
      const home = await RouterHome.create();
      const daemons: Daemon[] = [];
      try {
        await topology.serve(topology.c100, 'udp', '0.0.0.0', EARLY_UDP.containerPort);
        await withDaemonLogs(daemons, async () => {
          const daemon = await startHealthy(topology.router, home, { firewall: name, resyncInterval: NO_RESYNC });
          daemons.push(daemon);
          await daemon.client.call('CreateVLAN', { vlan_id: NET100.vlan, subnet: NET100.subnet, gateway: NET100.gateway });
          // One flow: every datagram from the same source port. The router has nothing on the port, so nothing answers.
          const send = () => topology.connect(topology.outside, 'udp', ROUTER_UPLINK_IP, EARLY_UDP.hostPort, { fromPort: EARLY_UDP.sourcePort });
          assert.equal(await send(), undefined, 'an answer before the port was published');
          const published = await daemon.client.call('AddPortMapping', {
            protocol: 'udp',
            host_port: EARLY_UDP.hostPort,
            container_ip: NET100.container,
            container_port: EARLY_UDP.containerPort,
            vlan_id: NET100.vlan,
          });
          assert.deepEqual([published.success, published.error], [true, '']);
          assert.equal(await send(), OUTSIDE_IP, 'the early flow still passes the published port by');
        });
      } finally {
        await topology.destroy().finally(() => home.remove());
      }
    });

    test('GetHealth and routerctl status report the backend and drift, and reporting drift repairs it', async () => {
      const ns = await createRouterNs();
      const home = await RouterHome.create();
      const daemons: Daemon[] = [];
      try {
        await withDaemonLogs(daemons, async () => {
          const daemon = await startHealthy(ns, home, { firewall: name, resyncInterval: NO_RESYNC });
          daemons.push(daemon);
          await daemon.client.call('CreateVLAN', { vlan_id: 11, subnet: '10.11.0.0/24' });
          await daemon.client.call('AddPortMapping', { protocol: 'tcp', host_port: 8000, container_ip: '10.11.0.2', container_port: 80 });

          const synced = firewallHealth(await daemon.client.call('GetHealth', CHECK_KERNEL));
          assert.deepEqual(synced, { backend: name, inSync: true, drift: '' });

          // Whoever sees the drift first sees it: seeing it asks for the
          // resync that repairs it. So GetHealth, then routerctl, each after
          // a flush of its own.
          await firewall.flush(ns);
          // A plain GetHealth, as the original clients send it, reads nothing from the kernel.
          const plain = await daemon.client.call('GetHealth', {});
          assert.deepEqual([plain.healthy, plain.kernel_checked, plain.kernel_drift], [true, false, '']);
          const drifted = firewallHealth(await daemon.client.call('GetHealth', CHECK_KERNEL));
          assert.equal(drifted.backend, name);
          assert.equal(drifted.inSync, false, 'kernel_in_sync after an outside flush');
          assert.notEqual(drifted.drift, '', 'kernel_drift after an outside flush');
          await waitUntil('the repair that reported drift asks for', REPAIR_TIMEOUT_MS, async () => {
            const health = await daemon.client.call('GetHealth', CHECK_KERNEL);
            return health.kernel_in_sync ? '' : health.kernel_drift;
          });

          await firewall.flush(ns);
          const status = await runRouterctl(daemon.socketPath, ['status']);
          assert.equal(status.code, 0, status.output);
          assert.ok(status.stdout.includes(`firewall ${name}`), `routerctl status does not name the ${name} backend:\n${status.stdout}`);
          const firstLine = drifted.drift.split('\n')[0] ?? '';
          assert.ok(status.stdout.includes(firstLine), `routerctl status does not show the drift ${JSON.stringify(firstLine)}:\n${status.stdout}`);
        });
      } finally {
        await ns.delete().finally(() => home.remove());
      }
    });

    test('three restarts on the same state leave the same single copy of every object', async () => {
      const ns = await createRouterNs();
      const home = await RouterHome.create();
      const daemons: Daemon[] = [];
      const options = { firewall: name, resyncInterval: NO_RESYNC };
      try {
        await withDaemonLogs(daemons, async () => {
          const setup = await startHealthy(ns, home, options);
          daemons.push(setup);
          await createNetworksAndPublish(setup.client);
          await stopCleanly(setup);
          const stored = readStoredState(home.stateDir);
          const first = await firewall.dump(ns);
          assert.notEqual(first, '', `no ${name} objects after the first run`);
          for (let round = 1; round <= 3; round++) {
            const daemon = await startHealthy(ns, home, options);
            daemons.push(daemon);
            await stopCleanly(daemon);
            assert.equal(await firewall.dump(ns), first, `the ${name} objects after restart ${round}`);
            assert.deepEqual(await firewall.copies(ns), [], `copies after restart ${round}`);
            assert.equal(await driftOf(firewall, ns, stored.firewall), '', `drift after restart ${round}`);
          }
        });
      } finally {
        await ns.delete().finally(() => home.remove());
      }
    });
  });
}
