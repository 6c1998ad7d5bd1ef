// Package link manages the router's VLAN links and their addresses through
// netlink. A Manager is bound to one network namespace through its netlink
// handle, so tests can drive it in a throwaway namespace without switching
// the namespace of any thread.
//
// Links created here are tagged with OwnerAlias in their ifalias, which is
// how a restarted service tells its own links from foreign ones.
package link

import (
	"net/netip"
)

// OwnerAlias is the ifalias that marks a link as created by router-service.
const OwnerAlias = "router-service"

// VLAN is the desired kernel state of one VLAN link.
type VLAN struct {
	Parent string
	ID     uint16
	// MTU 0 keeps the parent's MTU.
	MTU uint32
	// Address is the gateway address with the subnet's prefix length.
	Address netip.Prefix
}

// Status is the live kernel state of a link.
type Status struct {
	Name  string
	Index int
	// VLANID is 0 for links that are not 802.1Q VLANs.
	VLANID uint16
	MAC    string
	MTU    uint32
	Up     bool
	Owned  bool
	Addrs  []netip.Prefix
}
