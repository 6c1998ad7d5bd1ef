export { VMADDR_CID_ANY, VMADDR_CID_HOST, VMADDR_CID_LOCAL, VMADDR_PORT_ANY } from './constants.js';
export { formatVsockAddress, type VsockAddress } from './address.js';
export type { VsockArgumentError, VsockSystemError } from './errors.js';
export { vsockAddonCandidates, vsockAddonPath } from './native.js';
export { VsockSocket, type VsockSocketInit } from './vsock-socket.js';
export { listenVsock, VsockServer, type ListenVsockOptions, type VsockServerEvents } from './vsock-server.js';
export { connectVsock, type ConnectVsockOptions } from './connect-vsock.js';
