/** The daemon's lifecycle with the iptables firewall backend. */
import { IPTABLES_FIREWALL } from '../src/iptables-firewall.js';
import { lifecycleSuite } from '../src/lifecycle-suite.js';

lifecycleSuite(IPTABLES_FIREWALL);
