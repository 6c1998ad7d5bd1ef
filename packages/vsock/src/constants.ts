// Well-known vsock addresses (linux/vm_sockets.h).

/** Bind to any local CID (listen on every transport). */
export const VMADDR_CID_ANY = 0xffff_ffff;
/** This machine's own loopback CID (needs the vsock_loopback transport). */
export const VMADDR_CID_LOCAL = 1;
/** The hypervisor's host side, seen from inside a VM. */
export const VMADDR_CID_HOST = 2;
/** Let the kernel pick a free port when listening. */
export const VMADDR_PORT_ANY = 0xffff_ffff;
