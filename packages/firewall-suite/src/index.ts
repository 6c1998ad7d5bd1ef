/**
 * The behaviour every FirewallBackend must show, checked with real packets
 * between throwaway network namespaces, and the desired states every
 * backend's golden tests render. A backend package's behaviour test is a
 * call of `firewallBackendSuite` with its adapter.
 */
export type { FirewallSuiteAdapter, FirewallSuiteCapabilities } from './adapter.js';
export { expectAll } from './expect-all.js';
export { goldenStates, mapping as goldenMapping, network as goldenNetwork } from './golden-states.js';
export { firewallSctpSuite } from './sctp-suite.js';
export { PORTS, RESTRICTED_SOURCES, baseState, suiteMapping, suiteNetwork, withMappings } from './states.js';
export { firewallBackendSuite } from './suite.js';
export * from './topology.js';
