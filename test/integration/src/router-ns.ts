/** The namespace a test daemon runs in. */
import { createNetnsWithEth0, type Netns } from '@router-service/test-support';

/**
 * A namespace shaped like the helper VM: eth0 (one end of a veth whose other
 * end, fabric0, stays in the namespace too) up with an address on
 * 192.168.64.0/24, and no default route.
 */
export function createRouterNs(): Promise<Netns> {
  return createNetnsWithEth0({ mtu: 1500, address: '192.168.64.2/24' });
}
