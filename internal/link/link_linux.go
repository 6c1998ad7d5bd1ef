package link

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/router-service/router-service/internal/model"
)

// Manager reads and changes links in one network namespace.
type Manager struct {
	h *netlink.Handle
	// confSockets carry the requests the netlink package has no call for.
	confSockets map[int]*nl.SocketHandle
}

// NewManager returns a Manager bound to ns; netns.None() binds it to the
// namespace of the calling process.
func NewManager(ns netns.NsHandle) (*Manager, error) {
	var h *netlink.Handle
	var err error
	// Only rtnetlink: asking for every family would also open an XFRM
	// socket, which fails on kernels without xfrm_user.
	if ns == netns.None() {
		h, err = netlink.NewHandle(unix.NETLINK_ROUTE)
	} else {
		h, err = netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	}
	if err != nil {
		return nil, fmt.Errorf("opening netlink handle: %w", err)
	}
	sock, err := nl.GetNetlinkSocketAt(ns, netns.None(), unix.NETLINK_ROUTE)
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("opening netlink socket: %w", err)
	}
	return &Manager{h: h, confSockets: map[int]*nl.SocketHandle{unix.NETLINK_ROUTE: {Socket: sock}}}, nil
}

// Close releases the netlink sockets.
func (m *Manager) Close() {
	m.h.Close()
	for _, s := range m.confSockets {
		s.Close()
	}
}

// Uplink describes the parent interface name, or, when name is empty, the
// interface that holds the IPv4 default route.
func (m *Manager) Uplink(name string) (model.Uplink, error) {
	if name == "" {
		var err error
		if name, err = m.defaultRouteInterface(); err != nil {
			return model.Uplink{}, err
		}
	}
	l, err := m.linkByName(name)
	if err != nil {
		return model.Uplink{}, err
	}
	if l == nil {
		return model.Uplink{}, model.Precondition("parent interface %s does not exist", name)
	}
	addrs, err := m.addrs(l)
	if err != nil {
		return model.Uplink{}, err
	}
	up := model.Uplink{Name: name, MTU: uint32(l.Attrs().MTU)}
	for _, a := range addrs {
		up.Prefixes = append(up.Prefixes, a.Masked())
	}
	return up, nil
}

func (m *Manager) defaultRouteInterface() (string, error) {
	routes, err := retryDump(func() ([]netlink.Route, error) {
		return m.h.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	})
	if err != nil {
		return "", fmt.Errorf("listing routes: %w", err)
	}
	best := -1
	for i, r := range routes {
		if r.Dst != nil {
			if ones, _ := r.Dst.Mask.Size(); ones != 0 {
				continue
			}
		}
		if r.LinkIndex == 0 {
			continue
		}
		if best < 0 || r.Priority < routes[best].Priority {
			best = i
		}
	}
	if best < 0 {
		return "", model.Precondition("no interface holds an IPv4 default route: name the parent interface with --parent")
	}
	l, err := m.h.LinkByIndex(routes[best].LinkIndex)
	if err != nil {
		return "", fmt.Errorf("default route interface %d: %w", routes[best].LinkIndex, err)
	}
	return l.Attrs().Name, nil
}

// EnsureVLAN converges the link <Parent>.<ID> to v: an 802.1Q link on the
// parent, tagged as ours, with v's MTU and Address as its only IPv4 address,
// and up. It refuses to touch a link of that name that is not ours.
func (m *Manager) EnsureVLAN(v VLAN) (Status, error) {
	name := model.InterfaceName(v.Parent, v.ID)
	parent, err := m.linkByName(v.Parent)
	if err != nil {
		return Status{}, err
	}
	if parent == nil {
		return Status{}, model.Precondition("parent interface %s does not exist", v.Parent)
	}
	l, err := m.linkByName(name)
	if err != nil {
		return Status{}, err
	}
	if l != nil && l.Attrs().Alias != OwnerAlias {
		return Status{}, model.Precondition("interface %s exists and is not managed by router-service: remove or rename it", name)
	}
	if l != nil && !matchesVLAN(l, parent.Attrs().Index, v.ID) {
		if err := m.h.LinkDel(l); err != nil {
			return Status{}, fmt.Errorf("replacing drifted link %s: %w", name, err)
		}
		l = nil
	}
	mtu := int(v.MTU)
	if mtu == 0 {
		mtu = parent.Attrs().MTU
	}
	if l == nil {
		attrs := netlink.NewLinkAttrs()
		attrs.Name = name
		attrs.ParentIndex = parent.Attrs().Index
		attrs.MTU = mtu
		vl := &netlink.Vlan{LinkAttrs: attrs, VlanId: int(v.ID), VlanProtocol: netlink.VLAN_PROTOCOL_8021Q}
		if err := m.h.LinkAdd(vl); err != nil {
			if errors.Is(err, unix.EOPNOTSUPP) {
				return Status{}, fmt.Errorf("creating VLAN link %s: the kernel has no 802.1Q support (load module 8021q): %w", name, err)
			}
			if errors.Is(err, unix.EEXIST) {
				return Status{}, model.Precondition("VLAN %d already exists on %s under another name: remove that link first", v.ID, v.Parent)
			}
			return Status{}, fmt.Errorf("creating VLAN link %s: %w", name, err)
		}
		if l, err = m.h.LinkByName(name); err != nil {
			return Status{}, fmt.Errorf("reading new link %s: %w", name, err)
		}
	}
	if l.Attrs().Alias != OwnerAlias {
		if err := m.h.LinkSetAlias(l, OwnerAlias); err != nil {
			return Status{}, fmt.Errorf("tagging %s as ours: %w", name, err)
		}
	}
	// Harden the link before it gets an address, so it never answers for
	// other VLANs, even briefly.
	if err := m.setIPv4Conf(l.Attrs().Index, isolation); err != nil {
		return Status{}, err
	}
	if l.Attrs().MTU != mtu {
		if err := m.h.LinkSetMTU(l, mtu); err != nil {
			return Status{}, fmt.Errorf("setting MTU %d on %s: %w", mtu, name, err)
		}
	}
	if err := m.setAddress(l, v.Address); err != nil {
		return Status{}, err
	}
	if l.Attrs().Flags&net.FlagUp == 0 {
		if err := m.h.LinkSetUp(l); err != nil {
			return Status{}, fmt.Errorf("bringing %s up: %w", name, err)
		}
	}
	st, found, err := m.Status(name)
	if err == nil && !found {
		err = fmt.Errorf("link %s vanished while it was configured", name)
	}
	return st, err
}

func matchesVLAN(l netlink.Link, parentIndex int, id uint16) bool {
	vl, ok := l.(*netlink.Vlan)
	return ok && vl.ParentIndex == parentIndex && vl.VlanId == int(id) &&
		(vl.VlanProtocol == netlink.VLAN_PROTOCOL_8021Q || vl.VlanProtocol == netlink.VLAN_PROTOCOL_UNKNOWN)
}

// SetAddress makes want the only IPv4 address of the named link. The new
// address is added before stale ones are removed, so the gateway never
// disappears while it is being changed.
func (m *Manager) SetAddress(name string, want netip.Prefix) error {
	l, err := m.h.LinkByName(name)
	if err != nil {
		return fmt.Errorf("link %s: %w", name, err)
	}
	return m.setAddress(l, want)
}

func (m *Manager) setAddress(l netlink.Link, want netip.Prefix) error {
	have, err := m.addrs(l)
	if err != nil {
		return err
	}
	name := l.Attrs().Name
	// A new gateway in the same subnet is added as a secondary address; the
	// kernel deletes secondaries along with their primary unless told to
	// promote them.
	if err := m.setIPv4Conf(l.Attrs().Index, map[uint16]uint32{devconfPromoteSecondaries: 1}); err != nil {
		return err
	}
	if !slices.Contains(have, want) {
		if err := m.h.AddrReplace(l, toNetlinkAddr(want)); err != nil {
			return fmt.Errorf("adding address %s to %s: %w", want, name, err)
		}
	}
	var errs []error
	for _, a := range have {
		if a == want {
			continue
		}
		if err := m.h.AddrDel(l, toNetlinkAddr(a)); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
			errs = append(errs, fmt.Errorf("removing stale address %s from %s: %w", a, name, err))
		}
	}
	return errors.Join(errs...)
}

// DeleteVLAN removes the named link if it exists and is ours. An absent link
// is not an error; a foreign one is left alone and reported.
func (m *Manager) DeleteVLAN(name string) error {
	l, err := m.linkByName(name)
	if err != nil || l == nil {
		return err
	}
	if l.Attrs().Alias != OwnerAlias {
		return model.Precondition("interface %s is not managed by router-service: leaving it alone", name)
	}
	if err := m.h.LinkDel(l); err != nil && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("deleting link %s: %w", name, err)
	}
	return nil
}

// Status reads the live state of the named link; found is false when it
// does not exist.
func (m *Manager) Status(name string) (st Status, found bool, err error) {
	l, err := m.linkByName(name)
	if err != nil || l == nil {
		return Status{}, false, err
	}
	st, err = m.status(l)
	return st, err == nil, err
}

// Owned lists the live state of every link tagged as ours.
func (m *Manager) Owned() ([]Status, error) {
	links, err := retryDump(m.h.LinkList)
	if err != nil {
		return nil, fmt.Errorf("listing links: %w", err)
	}
	var out []Status
	for _, l := range links {
		if l.Attrs().Alias != OwnerAlias {
			continue
		}
		st, err := m.status(l)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

func (m *Manager) status(l netlink.Link) (Status, error) {
	a := l.Attrs()
	addrs, err := m.addrs(l)
	if err != nil {
		return Status{}, err
	}
	st := Status{
		Name:  a.Name,
		Index: a.Index,
		MAC:   a.HardwareAddr.String(),
		MTU:   uint32(a.MTU),
		Up:    a.Flags&net.FlagUp != 0 && a.OperState != netlink.OperDown && a.OperState != netlink.OperLowerLayerDown,
		Owned: a.Alias == OwnerAlias,
		Addrs: addrs,
	}
	if vl, ok := l.(*netlink.Vlan); ok {
		st.VLANID = uint16(vl.VlanId)
	}
	return st, nil
}

func (m *Manager) linkByName(name string) (netlink.Link, error) {
	l, err := m.h.LinkByName(name)
	var notFound netlink.LinkNotFoundError
	if errors.As(err, &notFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("looking up link %s: %w", name, err)
	}
	return l, nil
}

// addrs lists the link's global IPv4 addresses.
func (m *Manager) addrs(l netlink.Link) ([]netip.Prefix, error) {
	list, err := retryDump(func() ([]netlink.Addr, error) { return m.h.AddrList(l, netlink.FAMILY_V4) })
	if err != nil {
		return nil, fmt.Errorf("listing addresses of %s: %w", l.Attrs().Name, err)
	}
	var out []netip.Prefix
	for _, a := range list {
		if a.Scope != unix.RT_SCOPE_UNIVERSE {
			continue
		}
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		ones, _ := a.Mask.Size()
		out = append(out, netip.PrefixFrom(ip.Unmap(), ones))
	}
	return out, nil
}

func toNetlinkAddr(p netip.Prefix) *netlink.Addr {
	return &netlink.Addr{IPNet: &net.IPNet{
		IP:   p.Addr().AsSlice(),
		Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen()),
	}}
}

// retryDump repeats a netlink dump that the kernel interrupted because the
// table changed underneath it; the partial result is never used.
func retryDump[T any](dump func() ([]T, error)) ([]T, error) {
	for range 5 {
		out, err := dump()
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			return out, err
		}
	}
	return dump()
}
