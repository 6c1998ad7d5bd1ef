package store

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/router-service/router-service/internal/model"
)

func network(vlan uint16, subnet string) model.Network {
	p := netip.MustParsePrefix(subnet)
	return model.Network{NetworkSpec: model.NetworkSpec{VLAN: vlan, Subnet: p, Gateway: p.Addr().Next(), NAT: true}}
}

func port(proto string, hostIP string, hostPort uint16, vlan uint16, target string) model.PortMapping {
	k := model.PortKey{Protocol: proto, HostPort: hostPort}
	if hostIP != "" {
		k.HostIP = netip.MustParseAddr(hostIP)
	}
	return model.PortMapping{PortKey: k, ContainerIP: netip.MustParseAddr(target), ContainerPort: 80, VLAN: vlan}
}

func TestStateSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	changed := network(100, "10.100.0.0/16")
	changed.MTU, changed.NAT, changed.Name, changed.Internal = 1400, false, "changed", true
	changed.NATSources = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	changed.DNS = &model.DNS{Domain: "internal", Hosts: map[string]netip.Addr{"web": netip.MustParseAddr("10.100.0.2")}}
	steps := []func(*Tx) error{
		func(tx *Tx) error { return tx.PutNetwork(network(300, "10.3.0.0/16")) },
		func(tx *Tx) error { return tx.PutNetwork(network(2, "10.2.0.0/16")) },
		func(tx *Tx) error { return tx.PutNetwork(network(100, "10.1.0.0/16")) },
		func(tx *Tx) error { return tx.PutNetwork(changed) },
		func(tx *Tx) error { return tx.DeleteNetwork(2) },
		func(tx *Tx) error { return tx.DeleteNetwork(4000) },
		func(tx *Tx) error { return tx.PutPort(port("tcp", "", 8080, 100, "10.100.0.2")) },
		func(tx *Tx) error { return tx.PutPort(port("udp", "127.0.0.1", 53, 300, "10.3.0.9")) },
		func(tx *Tx) error { return tx.PutPort(port("tcp", "", 9090, 300, "10.3.0.9")) },
		func(tx *Tx) error { return tx.DeletePort(model.PortKey{Protocol: "tcp", HostPort: 9090}) },
	}
	for _, step := range steps {
		if err := s.Update(step); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Networks) != 2 || got.Networks[1].VLAN != 300 || got.Networks[0].VLAN != 100 {
		t.Fatalf("networks after reopen: %+v", got.Networks)
	}
	n := got.Networks[0]
	if n.NetworkSpec != changed.NetworkSpec || !slices.Equal(n.NATSources, changed.NATSources) || !n.DNS.Equal(changed.DNS) {
		t.Fatalf("network 100 after reopen is %+v, want %+v", n, changed)
	}
	wantPorts := []model.PortMapping{port("tcp", "", 8080, 100, "10.100.0.2"), port("udp", "127.0.0.1", 53, 300, "10.3.0.9")}
	slices.SortFunc(got.Ports, func(a, b model.PortMapping) int { return strings.Compare(a.PortKey.String(), b.PortKey.String()) })
	slices.SortFunc(wantPorts, func(a, b model.PortMapping) int { return strings.Compare(a.PortKey.String(), b.PortKey.String()) })
	if !slices.Equal(got.Ports, wantPorts) {
		t.Fatalf("ports after reopen: %+v, want %+v", got.Ports, wantPorts)
	}
}

func TestFailedUpdateChangesNothing(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Update(func(tx *Tx) error {
		if err := tx.PutNetwork(network(5, "10.5.0.0/16")); err != nil {
			return err
		}
		return model.Invalid("rejected half-way")
	})
	if err == nil {
		t.Fatal("Update returned no error")
	}
	if st, _ := s.Load(); len(st.Networks) != 0 {
		t.Fatalf("a failed update was kept: %+v", st.Networks)
	}
}

func TestSecondOpenFailsFast(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "another router-service holds it") {
		t.Fatalf("second Open = %v, want lock error", err)
	}
}

func TestParentSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := s.Parent(); err != nil || p != "" {
		t.Fatalf("new store's parent = %q, %v", p, err)
	}
	if err := s.SetParent("eth0"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if p, err := s.Parent(); err != nil || p != "eth0" {
		t.Fatalf("parent after reopen = %q, %v", p, err)
	}
}

// TestStateAtFullScale stores every VLAN id and 100,000 port mappings and
// reads them back after a reopen.
func TestStateAtFullScale(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	const mappings = 100_000
	err = s.Update(func(tx *Tx) error {
		for vlan := uint16(1); vlan <= model.MaxVLAN; vlan++ {
			subnet := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(vlan >> 8), byte(vlan), 0}), 24)
			if err := tx.PutNetwork(network(vlan, subnet.String())); err != nil {
				return err
			}
		}
		for i := range mappings {
			hostIP := fmt.Sprintf("127.0.%d.%d", i/65000, 1+i/65000)
			m := port("tcp", hostIP, uint16(1+i%65000), 1, "10.0.1.2")
			if err := tx.PutPort(m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Networks) != model.MaxVLAN || len(st.Ports) != mappings {
		t.Fatalf("loaded %d networks and %d mappings, want %d and %d", len(st.Networks), len(st.Ports), model.MaxVLAN, mappings)
	}
}
