export { CommandError, runChecked, runProcess, type Completed, type RunOptions } from './run-process.js';
export { childPids, childrenRunning, killAndReap } from './children.js';
export { withScript } from './temp-script.js';
export { IP, Netns, createNetnsWithEth0, netnsExecArgv, type Argv, type Eth0Options } from './netns.js';
export { vethArgs, type VethEnd } from './veth.js';
export {
  DNS_TYPES,
  NOERROR,
  NXDOMAIN,
  RCODES,
  TcpMessageReader,
  decodeMessage,
  encodeName,
  encodeQuery,
  encodeResponse,
  frameTcp,
  rcodeName,
  reverseName,
  type DnsMessage,
  type DnsQueryType,
  type DnsQuestion,
  type DnsRecord,
  type DnsReply,
} from './dns-wire.js';
export { askDns, formatQuestionSpec, parseQuestionSpec, type DnsQuestionSpec, type DnsResult, type DnsServerSpec, type DnsTransport } from './dns-ask.js';
export { DNS_TOOL_SCRIPT, DnsToolProcess, dnsToolArgv, type ToolEvent } from './dns-tool-process.js';
export { FakeUpstream, type ReceivedQuery } from './dns-fake-upstream.js';
export { queryDnsIn, type DnsQueryOptions } from './dns-query.js';
export { DnsQueryLoop, type DnsLoopSummary, type DnsQueryLoopOptions } from './dns-query-loop.js';
