package model

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
)

// PortKey identifies a published host port. A zero HostIP means every host
// address.
type PortKey struct {
	Protocol string     `json:"protocol"`
	HostIP   netip.Addr `json:"host_ip,omitzero"`
	HostPort uint16     `json:"host_port"`
}

func (k PortKey) String() string {
	ip := "*"
	if k.HostIP.IsValid() {
		ip = k.HostIP.String()
	}
	return fmt.Sprintf("%s:%d/%s", ip, k.HostPort, k.Protocol)
}

// PortMapping publishes a host port to a container address on a network.
type PortMapping struct {
	PortKey
	ContainerIP   netip.Addr `json:"container_ip"`
	ContainerPort uint16     `json:"container_port"`
	VLAN          uint16     `json:"vlan"`
}

// Target renders where the mapping forwards to.
func (m PortMapping) Target() string {
	return fmt.Sprintf("%s:%d (VLAN %d)", m.ContainerIP, m.ContainerPort, m.VLAN)
}

// SameTarget reports whether two mappings forward to the same place.
func (m PortMapping) SameTarget(o PortMapping) bool {
	return m.ContainerIP == o.ContainerIP && m.ContainerPort == o.ContainerPort && m.VLAN == o.VLAN
}

// PortRequest is an AddPortMapping request as received.
type PortRequest struct {
	ContainerIP   string
	ContainerPort uint32
	HostPort      uint32
	Protocol      string
	VLAN          uint32
	HostIP        string
}

// ParsePortKey validates the fields that identify a published port.
func ParsePortKey(protocol string, hostPort uint32, hostIP string) (PortKey, error) {
	proto := strings.ToLower(protocol)
	if proto != "tcp" && proto != "udp" {
		return PortKey{}, Invalid("protocol %q is not supported: use tcp or udp", protocol)
	}
	if err := checkPort(hostPort, "host_port"); err != nil {
		return PortKey{}, err
	}
	k := PortKey{Protocol: proto, HostPort: uint16(hostPort)}
	if hostIP != "" {
		ip, err := netip.ParseAddr(hostIP)
		if err != nil || !ip.Unmap().Is4() {
			return PortKey{}, Invalid("host_ip %q is not an IPv4 address", hostIP)
		}
		if !ip.Unmap().IsUnspecified() {
			k.HostIP = ip.Unmap()
		}
	}
	return k, nil
}

// ParsePortMapping validates req against the network it targets.
func ParsePortMapping(req PortRequest, n NetworkSpec) (PortMapping, error) {
	k, err := ParsePortKey(req.Protocol, req.HostPort, req.HostIP)
	if err != nil {
		return PortMapping{}, err
	}
	if err := checkPort(req.ContainerPort, "container_port"); err != nil {
		return PortMapping{}, err
	}
	ip, err := netip.ParseAddr(req.ContainerIP)
	if err != nil {
		return PortMapping{}, Invalid("container_ip %q is not an IP address", req.ContainerIP)
	}
	ip = ip.Unmap()
	if err := checkContainerAddress(n, ip); err != nil {
		return PortMapping{}, err
	}
	return PortMapping{PortKey: k, ContainerIP: ip, ContainerPort: uint16(req.ContainerPort), VLAN: n.VLAN}, nil
}

// checkContainerAddress reports whether ip can be a container on n: a host
// address of its subnet other than the gateway.
func checkContainerAddress(n NetworkSpec, ip netip.Addr) error {
	if err := checkHostAddress(n.Subnet, ip, "container_ip"); err != nil {
		return err
	}
	if ip == n.Gateway {
		return Invalid("container_ip %s is the gateway of VLAN %d, not a container", ip, n.VLAN)
	}
	return nil
}

func checkPort(p uint32, what string) error {
	if p == 0 || p > 65535 {
		return Invalid("%s %d is out of range: use 1 to 65535", what, p)
	}
	return nil
}

// PortSlot is a protocol and host port, whatever the host address.
type PortSlot struct {
	Protocol string
	HostPort uint16
}

// Slot is the protocol and host port of k.
func (k PortKey) Slot() PortSlot { return PortSlot{k.Protocol, k.HostPort} }

// CheckPortConflict reports a conflict when m's host port is already
// published to a different target, on the same address or where either side
// listens on every address. sameSlot holds the existing mappings with m's
// protocol and host port.
func CheckPortConflict(m PortMapping, sameSlot []PortMapping) error {
	for _, o := range sameSlot {
		overlaps := o.HostIP == m.HostIP || !o.HostIP.IsValid() || !m.HostIP.IsValid()
		if overlaps && (o.PortKey != m.PortKey || !o.SameTarget(m)) {
			return Conflict("host port %s is already published to %s: remove that mapping first", o.PortKey, o.Target())
		}
	}
	return nil
}

// PortTable holds port mappings indexed by protocol and host port, so that
// conflict checks look only at mappings of the same port.
type PortTable map[PortSlot]map[netip.Addr]PortMapping

// Get returns the mapping with key k.
func (t PortTable) Get(k PortKey) (PortMapping, bool) {
	m, ok := t[k.Slot()][k.HostIP]
	return m, ok
}

// Put adds or replaces m.
func (t PortTable) Put(m PortMapping) {
	slot := t[m.Slot()]
	if slot == nil {
		slot = map[netip.Addr]PortMapping{}
		t[m.Slot()] = slot
	}
	slot[m.HostIP] = m
}

// Delete removes the mapping with key k, if present.
func (t PortTable) Delete(k PortKey) {
	slot := t[k.Slot()]
	delete(slot, k.HostIP)
	if len(slot) == 0 {
		delete(t, k.Slot())
	}
}

// InSlot returns the mappings with the given protocol and host port.
func (t PortTable) InSlot(s PortSlot) []PortMapping {
	return slices.Collect(maps.Values(t[s]))
}

// Select returns the mappings for which keep is true, ordered by protocol,
// port and host address.
func (t PortTable) Select(keep func(PortMapping) bool) []PortMapping {
	var out []PortMapping
	for _, slot := range t {
		for _, m := range slot {
			if keep(m) {
				out = append(out, m)
			}
		}
	}
	slices.SortFunc(out, func(a, b PortMapping) int {
		if c := strings.Compare(a.Protocol, b.Protocol); c != 0 {
			return c
		}
		if a.HostPort != b.HostPort {
			return int(a.HostPort) - int(b.HostPort)
		}
		return a.HostIP.Compare(b.HostIP)
	})
	return out
}
