// The shared firewall behaviour suite on the helper VM's kernel, which
// speaks SCTP: the iptables backend with each iptables variant, SCTP
// packets included. bundle-test-payload.mjs bundles this source as it is;
// the adapter comes from the backend's compiled tests.
import { firewallBackendSuite } from '@router-service/firewall-suite';
import { iptablesSuiteAdapter } from '../../../packages/backend-iptables/dist/test/adapter.js';
import { withSctpPackets } from './sctp.js';

firewallBackendSuite('iptables (iptables-nft)', withSctpPackets(iptablesSuiteAdapter('nft')));
firewallBackendSuite('iptables (iptables-legacy)', withSctpPackets(iptablesSuiteAdapter('legacy')));
