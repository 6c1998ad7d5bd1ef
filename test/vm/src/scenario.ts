import {
  CreateVLANRequest,
  CreateVLANResponse,
  DeleteVLANRequest,
  HealthRequest,
  ListVLANsRequest,
} from '@router-service/proto';
import { errorOf, settle, shown, type Checks } from './checks.js';
import type { RouterCalls } from './client.js';
import { checkKernelVlan, linkByName, LinkNotFoundError } from './kernel.js';
import { arpAnswered, interfaceName, net100, net200, ping, setContainerAddr, type TestNetwork } from './topology.js';

export function createRequest(network: TestNetwork): CreateVLANRequest {
  return CreateVLANRequest.create({
    vlanId: network.vlan,
    subnet: network.subnet,
    gateway: network.gateway,
    networkName: `${network.container}-net`,
  });
}

/**
 * scenario creates both networks, proves each container reaches only its own
 * gateway and a rogue container nothing it is not tagged for, then deletes
 * one network and checks that the calls are idempotent.
 */
export async function scenario(checks: Checks, router: RouterCalls): Promise<void> {
  let health = await settle(router.call('getHealth', HealthRequest.create()));
  checks.checkThat('GetHealth over vsock CID 1 is healthy', health.error === null && health.value.healthy, () =>
    shown(health, 'health'),
  );

  const eth0Read = await settle(linkByName('eth0'));
  const eth0 = eth0Read.value;
  if (!checks.check('router has eth0', eth0Read.error) || eth0 === undefined) {
    return;
  }
  const created = new Map<number, CreateVLANResponse | undefined>();
  for (const network of [net100, net200]) {
    const ifname = interfaceName(network);
    const resp = await settle(router.call('createVlan', createRequest(network)));
    created.set(network.vlan, resp.value);
    checks.checkThat(
      `CreateVLAN ${network.vlan} returns success, ${ifname} and the MAC`,
      resp.error === null &&
        resp.value.success &&
        resp.value.interfaceName === ifname &&
        resp.value.macAddress === eth0.macAddress,
      () => shown(resp),
    );
    checks.check(
      `kernel shows ${ifname} as 802.1Q VLAN ${network.vlan} on eth0 with ${network.gateway}, IPv6 off`,
      await errorOf(checkKernelVlan(network, eth0.index)),
    );
  }

  checks.checkThat('container on VLAN 100 pings 172.18.0.1', await ping('c100', net100.gateway), () => 'no reply');
  checks.checkThat('container on VLAN 200 pings 172.19.0.1', await ping('c200', net200.gateway), () => 'no reply');

  // The rogue container first proves it can reach the gateway when it tags
  // correctly, so that the failures below are due to isolation.
  checks.check('rogue container tagged 100', await errorOf(setContainerAddr('rogue', 100, '172.18.0.50/16')));
  checks.checkThat('rogue container tagged 100 pings 172.18.0.1', await ping('rogue', net100.gateway), () => 'no reply');
  checks.checkThat(
    'rogue container tagged 100 resolves 172.18.0.1 by ARP',
    await arpAnswered('rogue', 'eth0.100', net100.gateway),
    () => 'no ARP reply',
  );
  checks.check('rogue container untagged', await errorOf(setContainerAddr('rogue', 0, '172.18.0.50/16')));
  checks.checkThat(
    'untagged frames cannot reach 172.18.0.1',
    !(await ping('rogue', net100.gateway)),
    () => 'gateway answered untagged frames',
  );
  checks.checkThat(
    'untagged ARP for 172.18.0.1 gets no answer',
    !(await arpAnswered('rogue', 'eth0', net100.gateway)),
    () => 'router answered ARP on the untagged parent',
  );
  checks.check('rogue container tagged 200', await errorOf(setContainerAddr('rogue', 200, '172.18.0.50/16')));
  checks.checkThat(
    'frames tagged 200 cannot reach 172.18.0.1',
    !(await ping('rogue', net100.gateway)),
    () => 'gateway of VLAN 100 answered on VLAN 200',
  );
  checks.checkThat(
    'ARP tagged 200 for 172.18.0.1 gets no answer',
    !(await arpAnswered('rogue', 'eth0.200', net100.gateway)),
    () => "router answered ARP for VLAN 100's gateway on VLAN 200",
  );

  checks.check(
    'ListVLANs matches the kernel',
    await errorOf(checkListMatchesKernel(router, [net100, net200], [true, true])),
  );
  const one = await settle(router.call('listVlaNs', ListVLANsRequest.create({ vlanId: 100 })));
  checks.checkThat(
    'ListVLANs(100) lists only VLAN 100',
    one.error === null && one.value.vlans.length === 1 && one.value.vlans[0]?.vlanId === 100,
    () => shown(one),
  );

  const before = await settle(linkByName(interfaceName(net100)));
  const again = await settle(router.call('createVlan', createRequest(net100)));
  const after = await settle(linkByName(interfaceName(net100)));
  const first = created.get(100);
  checks.checkThat(
    'repeating CreateVLAN 100 is a no-op',
    again.error === null &&
      first !== undefined &&
      sameResponse(again.value, first) &&
      before.value !== undefined &&
      after.value !== undefined &&
      before.value.index === after.value.index,
    () => `${shown(again)} (link recreated or changed)`,
  );

  let del = await settle(router.call('deleteVlan', DeleteVLANRequest.create({ vlanId: 200 })));
  checks.checkThat('DeleteVLAN 200 succeeds', del.error === null && del.value.success, () => shown(del));
  const gone = await settle(linkByName(interfaceName(net200)));
  checks.checkThat(
    'DeleteVLAN 200 removes eth0.200',
    gone.error instanceof LinkNotFoundError,
    () => `link still there (err=${gone.error?.message ?? '<nil>'})`,
  );
  checks.checkThat(
    'container on VLAN 200 no longer reaches 172.19.0.1',
    !(await ping('c200', net200.gateway)),
    () => 'gateway still answers',
  );
  del = await settle(router.call('deleteVlan', DeleteVLANRequest.create({ vlanId: 200 })));
  checks.checkThat('repeating DeleteVLAN 200 is a no-op', del.error === null && del.value.success, () => shown(del));
  checks.check(
    'ListVLANs matches the kernel after the delete',
    await errorOf(checkListMatchesKernel(router, [net100], [true])),
  );
  checks.checkThat(
    'container on VLAN 100 still pings its gateway',
    await ping('c100', net100.gateway),
    () => 'no reply',
  );

  health = await settle(router.call('getHealth', HealthRequest.create()));
  checks.checkThat(
    'GetHealth counts one network',
    health.error === null && health.value.healthy && health.value.activeVlans === 1,
    () => shown(health, 'health'),
  );
}

function sameResponse(a: CreateVLANResponse, b: CreateVLANResponse): boolean {
  return Buffer.from(CreateVLANResponse.encode(a).finish()).equals(CreateVLANResponse.encode(b).finish());
}

/** checkListMatchesKernel checks ListVLANs against the kernel's links; nat holds the expected nat_enabled per network. */
export async function checkListMatchesKernel(
  router: RouterCalls,
  want: readonly TestNetwork[],
  nat: readonly boolean[],
): Promise<void> {
  const resp = await router.call('listVlaNs', ListVLANsRequest.create());
  if (resp.vlans.length !== want.length) {
    throw new Error(`listed ${resp.vlans.length} networks, want ${want.length}: ${JSON.stringify(resp.vlans)}`);
  }
  for (const [i, network] of want.entries()) {
    const listed = resp.vlans[i];
    const link = await linkByName(interfaceName(network));
    const got = listed === undefined ? [] : [
      String(listed.vlanId),
      listed.interfaceName,
      listed.subnet,
      listed.gateway,
      listed.macAddress,
      String(listed.mtu),
      String(listed.isUp),
      String(listed.natEnabled),
    ];
    const expected = [
      String(network.vlan),
      interfaceName(network),
      network.subnet,
      network.gateway,
      link.macAddress,
      String(link.mtu),
      'true',
      String(nat[i]),
    ];
    if (got.join(' ') !== expected.join(' ')) {
      throw new Error(`listed [${got.join(' ')}], kernel has [${expected.join(' ')}]`);
    }
  }
}
