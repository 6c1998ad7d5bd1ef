export { FlagSet, type Flag } from './flag-set.js';
export { FlagError, HelpRequest, UsageError, type FlagProblem } from './errors.js';
export { MAX_UINT32, parseBool, parseUint32 } from './values.js';
