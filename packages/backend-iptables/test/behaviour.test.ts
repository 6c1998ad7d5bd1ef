// The shared firewall behaviour suite, with real packets, on this backend
// with each iptables variant.
import { firewallBackendSuite } from '@router-service/firewall-suite';
import { iptablesSuiteAdapter } from './adapter.js';

firewallBackendSuite('iptables (iptables-nft)', iptablesSuiteAdapter('nft'));
firewallBackendSuite('iptables (iptables-legacy)', iptablesSuiteAdapter('legacy'));
