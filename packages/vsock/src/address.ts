import { VMADDR_CID_ANY } from './constants.js';

/** A vsock endpoint: context id (which machine) and port. */
export interface VsockAddress {
  readonly cid: number;
  readonly port: number;
}

/** `cid:port` for messages, with the wildcard CID spelled out. */
export function formatVsockAddress(address: VsockAddress): string {
  const cid = address.cid === VMADDR_CID_ANY ? 'ANY' : String(address.cid);
  return `${cid}:${address.port}`;
}
