package link

import (
	"fmt"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// Per-device IPv4 settings (IPV4_DEVCONF_* in linux/ip.h). They are set over
// rtnetlink rather than /proc/sys so that they reach the Manager's namespace.
const (
	devconfRPFilter           = 8
	devconfARPAnnounce        = 18
	devconfARPIgnore          = 19
	devconfPromoteSecondaries = 20
)

// isolation makes an interface answer ARP only for its own addresses, name
// only its own addresses as ARP sources, and drop packets whose source would
// not be routed back through it. Without this, the kernel's weak host model
// lets a host on one VLAN, or untagged on the parent, reach the gateway
// address of another VLAN.
var isolation = map[uint16]uint32{devconfARPIgnore: 1, devconfARPAnnounce: 2, devconfRPFilter: 1}

// setIPv4Conf sets per-device IPv4 settings of the link with the given index.
func (m *Manager) setIPv4Conf(index int, values map[uint16]uint32) error {
	req := &nl.NetlinkRequest{
		NlMsghdr: unix.NlMsghdr{
			Len:   uint32(unix.SizeofNlMsghdr),
			Type:  unix.RTM_SETLINK,
			Flags: unix.NLM_F_REQUEST | unix.NLM_F_ACK,
		},
		Sockets: m.confSockets,
	}
	msg := nl.NewIfInfomsg(unix.AF_UNSPEC)
	msg.Index = int32(index)
	req.AddData(msg)
	afSpec := nl.NewRtAttr(unix.IFLA_AF_SPEC, nil)
	conf := afSpec.AddRtAttr(unix.AF_INET, nil).AddRtAttr(unix.IFLA_INET_CONF, nil)
	for id, v := range values {
		conf.AddRtAttr(int(id), nl.Uint32Attr(v))
	}
	req.AddData(afSpec)
	if _, err := req.Execute(unix.NETLINK_ROUTE, 0); err != nil {
		return fmt.Errorf("setting IPv4 device settings of link %d: %w", index, err)
	}
	return nil
}

// Isolate hardens the named interface against cross-VLAN ARP and spoofed
// sources (see isolation).
func (m *Manager) Isolate(name string) error {
	l, err := m.h.LinkByName(name)
	if err != nil {
		return fmt.Errorf("link %s: %w", name, err)
	}
	if err := m.setIPv4Conf(l.Attrs().Index, isolation); err != nil {
		return fmt.Errorf("isolating %s: %w", name, err)
	}
	return nil
}
