/**
 * vm-driver runs inside the helper VM. It builds the test topology, starts
 * router-service as the router, and either runs the end-to-end scenario and
 * the bundled suites (--mode test) or narrates a demo (--mode demo).
 *
 * Topology: the router's eth0 is one end of a veth whose other end sits on a
 * Linux bridge in the "fabric" namespace. Container namespaces attach to that
 * bridge and put their address on a VLAN subinterface of their own, as
 * container VMs do; for the firewall and DNS checks an outside host joins
 * the bridge untagged, as the LAN behind the uplink, with the fake upstream
 * resolver the gateways' dnsmasq forwards to. The client reaches the daemon
 * over vsock loopback (CID 1).
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { attachments } from './attachments.js';
import { asError, Checks, errorOf } from './checks.js';
import { dialVsock } from './client.js';
import { daemonLog, startDaemon } from './daemon.js';
import { runDemo } from './demo.js';
import { firewalls } from './firewall.js';
import { restart } from './restart.js';
import { scenario } from './scenario.js';
import { runSuites } from './suites.js';
import { addContainer, buildFabric, net100, net200, setContainerAddr } from './topology.js';

async function runScenario(checks: Checks): Promise<void> {
  await buildFabric();
  for (const container of ['c100', 'c200', 'rogue']) {
    await addContainer(container);
  }
  for (const network of [net100, net200]) {
    await setContainerAddr(network.container, network.vlan, network.containerAddr);
  }
  const daemon = await startDaemon();
  const router = await dialVsock().catch(async (error: unknown) => {
    await daemon.stop();
    throw error;
  });
  try {
    await scenario(checks, router);
    await attachments(checks, router);
  } finally {
    router.close();
  }
  checks.check('router-service stops gracefully on SIGTERM', await daemon.stop());
  await restart(checks);
}

async function runTest(): Promise<boolean> {
  const checks = new Checks();
  const aborted = await errorOf(runScenario(checks));
  if (aborted !== null) {
    checks.check('the scenario runs to its end', aborted);
  }
  const firewallsAborted = await errorOf(firewalls(checks));
  if (firewallsAborted !== null) {
    checks.check('the firewall scenario runs to its end', firewallsAborted);
  }
  if (checks.failed > 0) {
    const log = await readFile(daemonLog, 'utf8').catch(() => undefined);
    if (log !== undefined) {
      process.stdout.write(`--- router-service log ---\n${log}--- end of log ---\n`);
    }
  }
  await runSuites(checks);
  console.log(checks.summary());
  return checks.failed === 0;
}

async function main(): Promise<boolean> {
  const { values } = parseArgs({ options: { mode: { type: 'string', default: 'test' } } });
  switch (values.mode) {
    case 'test':
      return runTest();
    case 'demo':
      await runDemo();
      return true;
    default:
      throw new Error(`unknown mode "${values.mode}"`);
  }
}

// Exit explicitly: a client channel left open must not keep the VM from powering off.
main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (error: unknown) => {
    console.log(`vm-driver: ${asError(error).message}`);
    process.exit(1);
  },
);
