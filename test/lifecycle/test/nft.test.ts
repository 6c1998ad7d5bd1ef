/** The daemon's lifecycle with the nft firewall backend. */
import { NFT_FIREWALL } from '../src/nft-firewall.js';
import { lifecycleSuite } from '../src/lifecycle-suite.js';

lifecycleSuite(NFT_FIREWALL);
