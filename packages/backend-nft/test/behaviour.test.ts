// The shared firewall behaviour suite, with real packets, on this backend.
import { firewallBackendSuite } from '@router-service/firewall-suite';
import { nftSuiteAdapter } from './adapter.js';

firewallBackendSuite('nft', nftSuiteAdapter);
