// The shared firewall behaviour suite, with real packets, on this backend.
import { firewallBackendSuite } from '@router-service/firewall-suite';
import { createNftFirewallBackend } from '../src/index.js';

firewallBackendSuite('nft', (netns) => createNftFirewallBackend({ netns }));
