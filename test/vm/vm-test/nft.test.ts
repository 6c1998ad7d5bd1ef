// The shared firewall behaviour suite on the helper VM's kernel, which
// speaks SCTP: the nft backend, SCTP packets included. bundle-test-payload.mjs
// bundles this source as it is; the adapter comes from the backend's
// compiled tests.
import { firewallBackendSuite } from '@router-service/firewall-suite';
import { nftSuiteAdapter } from '../../../packages/backend-nft/dist/test/adapter.js';
import { withSctpPackets } from './sctp.js';

firewallBackendSuite('nft', withSctpPackets(nftSuiteAdapter));
