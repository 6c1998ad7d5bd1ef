package store

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/router-service/router-service/internal/model"
)

func net(vlan uint16, subnet string) model.Network {
	p := netip.MustParsePrefix(subnet)
	return model.Network{VLAN: vlan, Subnet: p, Gateway: p.Addr().Next(), NAT: true}
}

func TestNetworksSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []model.Network{net(300, "10.3.0.0/16"), net(2, "10.2.0.0/16"), net(100, "10.1.0.0/16")} {
		if err := s.PutNetwork(n); err != nil {
			t.Fatal(err)
		}
	}
	changed := net(100, "10.100.0.0/16")
	changed.MTU, changed.NAT, changed.Name = 1400, false, "changed"
	if err := s.PutNetwork(changed); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteNetwork(2); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteNetwork(4000); err != nil {
		t.Fatalf("deleting an absent network: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Networks()
	if err != nil {
		t.Fatal(err)
	}
	want := []model.Network{changed, net(300, "10.3.0.0/16")}
	if !slices.Equal(got, want) {
		t.Fatalf("after reopen got %+v, want %+v", got, want)
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
