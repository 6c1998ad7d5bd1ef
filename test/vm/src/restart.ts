import { status } from '@grpc/grpc-js';
import { CreateVLANRequest, DeleteVLANRequest, GetStateRequest } from '@router-service/proto';
import { checkState } from './attachments.js';
import { errorOf, settle, shown, type Checks } from './checks.js';
import { dialVsock, statusCodeOf, type RouterCalls } from './client.js';
import { ip, run, succeeds, waitFor } from './command.js';
import { routerctlBin, startDaemon, unixSocket, type Daemon } from './daemon.js';
import { checkForeignIntact, checkKernelVlan, linkByName, linkIndex, LinkNotFoundError } from './kernel.js';
import { checkListMatchesKernel } from './scenario.js';
import { net100, net200, ping } from './topology.js';

/** Damage done while the service is stopped: a new start must converge it. */
const damage: readonly string[][] = [
  ['link', 'del', 'eth0.100'],
  ['addr', 'flush', 'dev', 'eth0.200'],
  ['addr', 'add', '172.19.9.9/16', 'dev', 'eth0.200'],
  ['link', 'set', 'eth0.200', 'mtu', '1300'],
  // An owned link that is no longer desired: ours to remove.
  ['link', 'add', 'link', 'eth0', 'name', 'eth0.400', 'type', 'vlan', 'id', '400'],
  ['link', 'set', 'eth0.400', 'alias', 'router-service'],
  // A foreign link: never ours to touch.
  ['link', 'add', 'link', 'eth0', 'name', 'eth0.300', 'type', 'vlan', 'id', '300'],
  ['addr', 'add', '10.30.0.1/24', 'dev', 'eth0.300'],
];

async function applyDamage(): Promise<void> {
  for (const command of damage) {
    await ip(...command);
  }
}

/**
 * restart damages what the stopped service owns and adds a foreign link,
 * then checks that a new start converges the kernel and keeps the state.
 */
export async function restart(checks: Checks): Promise<void> {
  const eth0 = await linkIndex('eth0');
  if (!checks.check('damage owned links and add a foreign one while stopped', await errorOf(applyDamage()))) {
    return;
  }
  const started = await settle(startDaemon());
  let daemon = started.value;
  if (!checks.check('router-service starts again', started.error) || daemon === undefined) {
    return;
  }
  try {
    const dialed = await settle(dialVsock());
    const router = dialed.value;
    if (!checks.check('client reconnects over vsock', dialed.error) || router === undefined) {
      return;
    }
    try {
      await convergedAfterRestart(checks, router, eth0);
      daemon = await vsockAllowList(checks, daemon);
    } finally {
      router.close();
    }
  } finally {
    checks.check('router-service stops gracefully again', await daemon.stop());
  }
}

async function convergedAfterRestart(checks: Checks, router: RouterCalls, eth0: number): Promise<void> {
  checks.check('deleted eth0.100 is recreated', await errorOf(checkKernelVlan(net100, eth0)));
  checks.check('drifted eth0.200 gets its gateway back', await errorOf(checkKernelVlan(net200, eth0)));
  const eth0200 = (await settle(linkByName('eth0.200'))).value;
  if (eth0200 !== undefined) {
    checks.checkThat('drifted eth0.200 gets its MTU back', eth0200.mtu === 1500, () => `mtu ${eth0200.mtu}`);
  }
  const eth0400 = await settle(linkByName('eth0.400'));
  checks.checkThat(
    'undesired owned eth0.400 is removed',
    eth0400.error instanceof LinkNotFoundError,
    () => `err=${eth0400.error?.message ?? '<nil>'}`,
  );
  checks.check('foreign eth0.300 is left untouched', await errorOf(checkForeignIntact()));
  const err = await errorOf(
    router.call('createVlan', CreateVLANRequest.create({ vlanId: 300, subnet: '10.30.0.0/24' })),
  );
  checks.checkThat(
    'CreateVLAN over the foreign 802.1Q eth0.300 is FailedPrecondition',
    statusCodeOf(err) === status.FAILED_PRECONDITION,
    () => `err=${err?.message ?? '<nil>'}`,
  );
  checks.check('the refused CreateVLAN left foreign eth0.300 untouched', await errorOf(checkForeignIntact()));

  checks.check(
    'NAT, DNS and port mappings survive the restart',
    await errorOf(router.call('getState', GetStateRequest.create()).then(checkState)),
  );
  checks.check(
    'ListVLANs matches the kernel after the restart',
    await errorOf(checkListMatchesKernel(router, [net100, net200], [true, false])),
  );
  checks.checkThat(
    'container on VLAN 100 pings its gateway after the restart',
    await ping('c100', net100.gateway),
    () => 'no reply',
  );
  checks.checkThat(
    'container on VLAN 200 pings its gateway after the restart',
    await ping('c200', net200.gateway),
    () => 'no reply',
  );

  const statusOut = await settle(run(routerctlBin, ['status']));
  const out = statusOut.value ?? '';
  checks.checkThat(
    'routerctl status shows networks, NAT, DNS names and port mappings',
    statusOut.error === null &&
      ['eth0.100', '192.0.2.0/24', 'web', '172.18.0.2:80'].every((part) => out.includes(part)),
    () => `err=${statusOut.error?.message ?? '<nil>'}\n${out}`,
  );

  for (const vlanId of [100, 100]) {
    checks.check(
      'DeleteVLAN 100 (twice)',
      await errorOf(router.call('deleteVlan', DeleteVLANRequest.create({ vlanId }))),
    );
  }
  const state = await settle(router.call('getState', GetStateRequest.create()));
  checks.checkThat(
    'DeleteVLAN 100 removed its port mappings and DNS',
    state.error === null &&
      state.value.networks.length === 1 &&
      state.value.portMappings.length === 1 &&
      state.value.portMappings[0]?.vlanId === 200,
    () => shown(state, 'state'),
  );
  checks.check('foreign eth0.300 is still untouched', await errorOf(checkForeignIntact()));
}

/**
 * vsockAllowList restarts the service accepting only vsock peer CID 3:
 * loopback clients (CID 1) are refused while the unix socket still serves.
 * It resolves to the daemon now running, for the caller to stop.
 */
async function vsockAllowList(checks: Checks, daemon: Daemon): Promise<Daemon> {
  checks.check('router-service stops for the allow-list check', await daemon.stop());
  const started = await settle(startDaemon(['--vsock-allow-cid', '3']));
  const allowOnly = started.value;
  if (!checks.check('router-service starts with --vsock-allow-cid 3', started.error) || allowOnly === undefined) {
    return daemon;
  }
  const servesUnix = await waitFor(20_000, () => succeeds(run(routerctlBin, ['--addr', `unix://${unixSocket}`, 'health'])));
  checks.checkThat('the unix socket serves with the allow-list', servesUnix, () => 'routerctl over unix failed');
  const overVsock = await settle(run(routerctlBin, ['--timeout', '3s', 'health']));
  checks.checkThat(
    'a vsock client from CID 1 is refused',
    overVsock.error !== null,
    () => `routerctl over vsock succeeded: ${overVsock.value ?? ''}`,
  );
  return allowOnly;
}
