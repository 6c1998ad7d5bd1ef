package link_test

import (
	"errors"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/router-service/router-service/internal/link"
	"github.com/router-service/router-service/internal/model"
	"github.com/router-service/router-service/internal/testutil"
)

func newManager(t *testing.T) (*link.Manager, *testutil.NetNS) {
	t.Helper()
	ns := testutil.NewNetNS(t)
	m, err := link.NewManager(ns.Handle)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m, ns
}

func TestUplinkFollowsDefaultRoute(t *testing.T) {
	m, ns := newManager(t)
	ns.IP(t, "link", "add", "uplink0", "mtu", "1400", "type", "veth", "peer", "name", "other0")
	ns.IP(t, "addr", "add", "192.168.77.2/24", "dev", "uplink0")
	ns.IP(t, "link", "set", "uplink0", "up")
	ns.IP(t, "link", "set", "other0", "up")

	_, err := m.Uplink("")
	var me *model.Error
	if !errors.As(err, &me) || me.Kind != model.KindPrecondition || !strings.Contains(err.Error(), "--parent") {
		t.Fatalf("Uplink without a default route = %v, want a precondition error naming --parent", err)
	}

	ns.IP(t, "route", "add", "default", "via", "192.168.77.1", "dev", "uplink0")
	up, err := m.Uplink("")
	if err != nil {
		t.Fatal(err)
	}
	want := model.Uplink{Name: "uplink0", MTU: 1400, Prefixes: []netip.Prefix{netip.MustParsePrefix("192.168.77.0/24")}}
	if up.Name != want.Name || up.MTU != want.MTU || !slices.Equal(up.Prefixes, want.Prefixes) {
		t.Fatalf("Uplink = %+v, want %+v", up, want)
	}
	if _, err := m.Uplink("nonexistent0"); err == nil || !strings.Contains(err.Error(), "nonexistent0") {
		t.Fatalf("Uplink(nonexistent0) = %v", err)
	}
}

func TestSetAddressReplacesOnlyIPv4Globals(t *testing.T) {
	m, ns := newManager(t)
	ns.IP(t, "link", "add", "gw0", "type", "veth", "peer", "name", "gw1")
	ns.IP(t, "addr", "add", "10.1.0.1/16", "dev", "gw0")
	ns.IP(t, "addr", "add", "10.2.0.1/16", "dev", "gw0")
	want := netip.MustParsePrefix("10.3.0.1/24")
	for range 2 {
		if err := m.SetAddress("gw0", want); err != nil {
			t.Fatal(err)
		}
		st, _, err := m.Status("gw0")
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Addrs; !slices.Equal(got, []netip.Prefix{want}) {
			t.Fatalf("addresses %v, want only %v", got, want)
		}
	}
}

func TestForeignLinksAreLeftAlone(t *testing.T) {
	m, ns := newManager(t)
	ns.IP(t, "link", "add", "eth0", "type", "veth", "peer", "name", "peer0")
	// Someone else's link with the name our VLAN 100 link would take.
	ns.IP(t, "link", "add", "eth0.100", "type", "veth", "peer", "name", "peer100")
	ns.IP(t, "addr", "add", "10.100.0.9/24", "dev", "eth0.100")

	_, err := m.EnsureVLAN(link.VLAN{Parent: "eth0", ID: 100, Address: netip.MustParsePrefix("10.100.0.1/24")})
	var me *model.Error
	if !errors.As(err, &me) || me.Kind != model.KindPrecondition {
		t.Fatalf("EnsureVLAN over a foreign link = %v, want precondition error", err)
	}
	if err := m.DeleteVLAN("eth0.100"); !errors.As(err, &me) || me.Kind != model.KindPrecondition {
		t.Fatalf("DeleteVLAN of a foreign link = %v, want precondition error", err)
	}
	st, found, err := m.Status("eth0.100")
	if err != nil || !found {
		t.Fatalf("foreign link gone: found=%t err=%v", found, err)
	}
	if st.Owned || !slices.Equal(st.Addrs, []netip.Prefix{netip.MustParsePrefix("10.100.0.9/24")}) {
		t.Fatalf("foreign link changed: %+v", st)
	}
	owned, err := m.Owned()
	if err != nil || len(owned) != 0 {
		t.Fatalf("Owned = %v, %v; want none", owned, err)
	}
}

func TestOwnedLinksAreFoundAndDeleted(t *testing.T) {
	m, ns := newManager(t)
	ns.IP(t, "link", "add", "eth0.7", "type", "veth", "peer", "name", "peer7")
	ns.IP(t, "link", "set", "eth0.7", "alias", link.OwnerAlias)
	owned, err := m.Owned()
	if err != nil || len(owned) != 1 || owned[0].Name != "eth0.7" || !owned[0].Owned {
		t.Fatalf("Owned = %+v, %v", owned, err)
	}
	for range 2 {
		if err := m.DeleteVLAN("eth0.7"); err != nil {
			t.Fatal(err)
		}
	}
	if _, found, err := m.Status("eth0.7"); found || err != nil {
		t.Fatalf("link survived deletion: found=%t err=%v", found, err)
	}
}

func TestSetAddressWithinTheSameSubnet(t *testing.T) {
	m, ns := newManager(t)
	ns.IP(t, "link", "add", "gw0", "type", "veth", "peer", "name", "gw1")
	ns.IP(t, "addr", "add", "10.1.0.1/16", "dev", "gw0")
	// The new gateway joins as a secondary of 10.1.0.1's subnet; removing
	// the old primary must not take it along.
	want := netip.MustParsePrefix("10.1.0.254/16")
	if err := m.SetAddress("gw0", want); err != nil {
		t.Fatal(err)
	}
	st, _, err := m.Status("gw0")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(st.Addrs, []netip.Prefix{want}) {
		t.Fatalf("addresses %v, want only %v", st.Addrs, want)
	}
}

// TestIsolateStopsARPForOtherInterfaces sends real ARP requests from a
// client namespace plugged into the router's b0 for an address the router
// holds on a0: the weak host model answers them until b0 is isolated.
func TestIsolateStopsARPForOtherInterfaces(t *testing.T) {
	m, router := newManager(t)
	client := testutil.NewNetNS(t)
	router.IP(t, "link", "add", "a0", "type", "veth", "peer", "name", "a1")
	router.IP(t, "link", "add", "b0", "type", "veth", "peer", "name", "eth0", "netns", client.Name)
	router.IP(t, "addr", "add", "10.1.0.1/24", "dev", "a0")
	router.IP(t, "addr", "add", "10.2.0.1/24", "dev", "b0")
	for _, l := range []string{"a0", "a1", "b0"} {
		router.IP(t, "link", "set", l, "up")
	}
	client.IP(t, "addr", "add", "10.1.0.50/24", "dev", "eth0")
	client.IP(t, "link", "set", "eth0", "up")

	arping := func(target string) bool {
		return exec.Command("ip", "netns", "exec", client.Name, "busybox", "arping", "-f", "-c", "2", "-w", "2", "-I", "eth0", target).Run() == nil
	}
	if !arping("10.1.0.1") {
		t.Fatal("control: the router did not answer ARP for 10.1.0.1 on b0 before isolation, so this test proves nothing")
	}
	if err := m.Isolate("b0"); err != nil {
		t.Fatal(err)
	}
	if arping("10.1.0.1") {
		t.Fatal("after Isolate(b0) the router still answers ARP on b0 for a0's address")
	}
	client.IP(t, "addr", "add", "10.2.0.50/24", "dev", "eth0")
	if !arping("10.2.0.1") {
		t.Fatal("after Isolate(b0) the router no longer answers ARP for b0's own address")
	}
}
