package model

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"unicode"
)

const (
	// MinVLAN and MaxVLAN bound usable 802.1Q ids; 0 and 4095 are reserved.
	MinVLAN = 1
	MaxVLAN = 4094
	// MinMTU is the smallest MTU IPv4 allows on a link (RFC 791).
	MinMTU = 68
	// MaxIfNameLen is IFNAMSIZ minus the terminating NUL.
	MaxIfNameLen = 15
	// maxNetworkNameLen bounds the free-form network label.
	maxNetworkNameLen = 128
)

// NetworkSpec is a network as CreateVLAN defines it.
type NetworkSpec struct {
	VLAN    uint16       `json:"vlan"`
	Name    string       `json:"name,omitempty"`
	Subnet  netip.Prefix `json:"subnet"`
	Gateway netip.Addr   `json:"gateway"`
	// MTU 0 follows the parent interface's MTU.
	MTU uint32 `json:"mtu,omitempty"`
	// NAT masquerades traffic from Subnet leaving through the uplink.
	NAT bool `json:"nat"`
	// Internal networks have no route to the outside.
	Internal bool `json:"internal,omitempty"`
}

// Network is the desired state of one VLAN network: its spec and what later
// calls attached to it.
type Network struct {
	NetworkSpec
	// NATSources are further source subnets to masquerade (ConfigureNAT).
	NATSources []netip.Prefix `json:"nat_sources,omitempty"`
	// DNS is nil until ConfigureDNS enables the network's resolver.
	DNS *DNS `json:"dns,omitempty"`
}

// NATEnabled reports whether any traffic of the network is masqueraded.
func (n Network) NATEnabled() bool { return n.NAT || len(n.NATSources) > 0 }

// GatewayPrefix is the address the router puts on the VLAN link: the gateway
// with the subnet's prefix length, so the kernel installs the connected route.
func (n NetworkSpec) GatewayPrefix() netip.Prefix {
	return netip.PrefixFrom(n.Gateway, n.Subnet.Bits())
}

// InterfaceName is the kernel name of the network's VLAN link on parent.
func InterfaceName(parent string, vlan uint16) string {
	return fmt.Sprintf("%s.%d", parent, vlan)
}

// NetworkRequest is a CreateVLAN request as received, before validation.
type NetworkRequest struct {
	VLAN    uint32
	Subnet  string
	Gateway string
	Name    string
	MTU     uint32
	// NAT nil means the default: on, unless the network is internal.
	NAT      *bool
	Internal bool
}

// Uplink describes the parent interface that VLAN links are created on.
type Uplink struct {
	Name string
	MTU  uint32
	// Prefixes are the uplink's own IPv4 networks; VLAN subnets may not
	// overlap them or traffic to the uplink's neighbours would be misrouted.
	Prefixes []netip.Prefix
}

// ValidateVLANID checks that id is a usable 802.1Q VLAN id.
func ValidateVLANID(id uint32) error {
	if id < MinVLAN || id > MaxVLAN {
		return Invalid("vlan_id %d is out of range: use %d to %d", id, MinVLAN, MaxVLAN)
	}
	return nil
}

// ParseNetwork validates req against the uplink it will live on and returns
// the normalized spec. It does not check other networks; see CheckOverlap.
func ParseNetwork(req NetworkRequest, up Uplink) (NetworkSpec, error) {
	if err := ValidateVLANID(req.VLAN); err != nil {
		return NetworkSpec{}, err
	}
	if req.Internal && req.NAT != nil && *req.NAT {
		return NetworkSpec{}, Invalid("an internal network has no route to the outside and cannot enable NAT: drop enable_nat or internal")
	}
	n := NetworkSpec{VLAN: uint16(req.VLAN), Name: req.Name, MTU: req.MTU, Internal: req.Internal,
		NAT: !req.Internal && (req.NAT == nil || *req.NAT)}
	if err := validateNetworkName(req.Name); err != nil {
		return NetworkSpec{}, err
	}
	subnet, err := ParseSubnet(req.Subnet)
	if err != nil {
		return NetworkSpec{}, err
	}
	n.Subnet = subnet
	if req.Gateway == "" {
		n.Gateway = subnet.Addr().Next()
	} else {
		gw, err := netip.ParseAddr(req.Gateway)
		if err != nil {
			return NetworkSpec{}, Invalid("gateway %q is not an IP address", req.Gateway)
		}
		if err := checkHostAddress(subnet, gw.Unmap(), "gateway"); err != nil {
			return NetworkSpec{}, err
		}
		n.Gateway = gw.Unmap()
	}
	if name := InterfaceName(up.Name, n.VLAN); len(name) > MaxIfNameLen {
		return NetworkSpec{}, Invalid("interface name %q is longer than the kernel's limit of %d characters: use a parent interface with a shorter name", name, MaxIfNameLen)
	}
	if n.MTU != 0 && (n.MTU < MinMTU || n.MTU > up.MTU) {
		return NetworkSpec{}, Invalid("mtu %d is out of range for parent %s: use %d to %d, or 0 for the parent's MTU", n.MTU, up.Name, MinMTU, up.MTU)
	}
	for _, p := range up.Prefixes {
		if p.Overlaps(subnet) {
			return NetworkSpec{}, Invalid("subnet %s overlaps the uplink %s network %s: choose a subnet outside it", subnet, up.Name, p.Masked())
		}
	}
	return n, nil
}

// ParseSubnet parses an IPv4 CIDR that names a network with room for a
// gateway and at least one container.
func ParseSubnet(s string) (netip.Prefix, error) {
	p, err := parseIPv4Network(s, "subnet")
	if err != nil {
		return netip.Prefix{}, err
	}
	if p.Bits() > 30 {
		return netip.Prefix{}, Invalid("subnet %s is too small: use a prefix of /30 or shorter to fit a gateway and a container", s)
	}
	return p, nil
}

// parseIPv4Network parses an IPv4 CIDR without host bits; field names the
// request field in errors.
func parseIPv4Network(s, field string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, Invalid("%s %q is not a CIDR such as 172.18.0.0/16", field, s)
	}
	if !p.Addr().Is4() {
		return netip.Prefix{}, Invalid("%s %s is not IPv4: only IPv4 networks are supported", field, s)
	}
	if p.Masked() != p {
		return netip.Prefix{}, Invalid("%s %s has host bits set: did you mean %s?", field, s, p.Masked())
	}
	return p, nil
}

// checkHostAddress reports whether a is a usable host address of subnet:
// inside it and neither its network nor its broadcast address.
func checkHostAddress(subnet netip.Prefix, a netip.Addr, what string) error {
	if !a.Is4() || !subnet.Contains(a) {
		return Invalid("%s %s is not inside subnet %s", what, a, subnet)
	}
	if a == subnet.Addr() {
		return Invalid("%s %s is the network address of %s: use a host address such as %s", what, a, subnet, subnet.Addr().Next())
	}
	if a == broadcast(subnet) {
		return Invalid("%s %s is the broadcast address of %s", what, a, subnet)
	}
	return nil
}

func broadcast(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	hostBits := 32 - p.Bits()
	for i := 3; i >= 0 && hostBits > 0; i-- {
		n := min(hostBits, 8)
		b[i] |= byte(1<<n - 1)
		hostBits -= n
	}
	return netip.AddrFrom4(b)
}

func validateNetworkName(name string) error {
	if len(name) > maxNetworkNameLen {
		return Invalid("network_name is %d characters long: the limit is %d", len(name), maxNetworkNameLen)
	}
	if strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return Invalid("network_name %q contains non-printable characters", name)
	}
	return nil
}

// CheckOverlap reports a conflict when n's subnet overlaps the subnet of any
// other network in existing (the network with n's own VLAN id is skipped, as
// it is being replaced).
func CheckOverlap(n NetworkSpec, existing []Network) error {
	for _, o := range existing {
		if o.VLAN != n.VLAN && o.Subnet.Overlaps(n.Subnet) {
			return Conflict("subnet %s overlaps subnet %s of VLAN %d: choose a subnet that no other network uses", n.Subnet, o.Subnet, o.VLAN)
		}
	}
	return nil
}

// Equal reports whether two networks have the same desired state.
func (n Network) Equal(o Network) bool {
	return n.NetworkSpec == o.NetworkSpec && slices.Equal(n.NATSources, o.NATSources) && n.DNS.Equal(o.DNS)
}

// CheckAttachmentsFit reports whether the network's NAT sources, DNS
// records and the given port mappings still fit the network after its spec
// changes to spec: a subnet change must not strand containers outside it,
// and an internal network has no NAT.
func (n Network) CheckAttachmentsFit(spec NetworkSpec, ports []PortMapping) error {
	if spec.Internal && len(n.NATSources) > 0 {
		return Precondition("VLAN %d masquerades %v: remove that NAT before making the network internal", n.VLAN, n.NATSources)
	}
	for _, m := range ports {
		if err := checkContainerAddress(spec, m.ContainerIP); err != nil {
			return Precondition("port mapping %s -> %s would not fit the new spec (%v): remove it first", m.PortKey, m.Target(), err)
		}
	}
	if n.DNS != nil {
		for name, a := range n.DNS.Hosts {
			if err := checkHostAddress(spec.Subnet, a, "address"); err != nil {
				return Precondition("DNS name %s -> %s would not fit the new spec (%v): remove it first", name, a, err)
			}
		}
	}
	return nil
}
