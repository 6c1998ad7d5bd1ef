export { CommandError, runChecked, runProcess, type Completed, type RunOptions } from './run-process.js';
export { IP, Netns, createNetnsWithEth0, netnsExecArgv, type Argv, type Eth0Options } from './netns.js';
export { vethArgs, type VethEnd } from './veth.js';
