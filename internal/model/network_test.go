package model

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

var uplink = Uplink{Name: "eth0", MTU: 1500, Prefixes: []netip.Prefix{netip.MustParsePrefix("192.168.64.0/24")}}

func boolPtr(b bool) *bool { return &b }

func TestParseNetworkAccepts(t *testing.T) {
	tests := []struct {
		name string
		req  NetworkRequest
		want NetworkSpec
	}{
		{
			name: "full request",
			req:  NetworkRequest{VLAN: 100, Subnet: "172.18.0.0/16", Gateway: "172.18.0.1", Name: "frontend", MTU: 1400},
			want: NetworkSpec{VLAN: 100, Name: "frontend", Subnet: netip.MustParsePrefix("172.18.0.0/16"), Gateway: netip.MustParseAddr("172.18.0.1"), MTU: 1400, NAT: true},
		},
		{
			name: "gateway defaults to the first host",
			req:  NetworkRequest{VLAN: 4094, Subnet: "10.1.2.0/24"},
			want: NetworkSpec{VLAN: 4094, Subnet: netip.MustParsePrefix("10.1.2.0/24"), Gateway: netip.MustParseAddr("10.1.2.1"), NAT: true},
		},
		{
			name: "explicit NAT off",
			req:  NetworkRequest{VLAN: 1, Subnet: "10.0.0.0/30", Gateway: "10.0.0.2", NAT: boolPtr(false)},
			want: NetworkSpec{VLAN: 1, Subnet: netip.MustParsePrefix("10.0.0.0/30"), Gateway: netip.MustParseAddr("10.0.0.2")},
		},
		{
			name: "internal network defaults to no NAT",
			req:  NetworkRequest{VLAN: 9, Subnet: "10.9.0.0/16", Internal: true},
			want: NetworkSpec{VLAN: 9, Subnet: netip.MustParsePrefix("10.9.0.0/16"), Gateway: netip.MustParseAddr("10.9.0.1"), Internal: true},
		},
		{
			name: "MTU at the parent's maximum",
			req:  NetworkRequest{VLAN: 7, Subnet: "10.7.0.0/16", MTU: 1500},
			want: NetworkSpec{VLAN: 7, Subnet: netip.MustParsePrefix("10.7.0.0/16"), Gateway: netip.MustParseAddr("10.7.0.1"), MTU: 1500, NAT: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseNetwork(tt.req, uplink)
			if err != nil {
				t.Fatalf("ParseNetwork: %v", err)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseNetworkRejects(t *testing.T) {
	valid := NetworkRequest{VLAN: 100, Subnet: "172.18.0.0/16", Gateway: "172.18.0.1"}
	tests := []struct {
		name    string
		edit    func(*NetworkRequest)
		up      Uplink
		wantMsg string
	}{
		{"vlan 0", func(r *NetworkRequest) { r.VLAN = 0 }, uplink, "vlan_id 0 is out of range"},
		{"vlan 4095", func(r *NetworkRequest) { r.VLAN = 4095 }, uplink, "vlan_id 4095 is out of range"},
		{"malformed CIDR", func(r *NetworkRequest) { r.Subnet = "172.18.0.0" }, uplink, "is not a CIDR"},
		{"IPv6 subnet", func(r *NetworkRequest) { r.Subnet = "fd00::/64" }, uplink, "not IPv4"},
		{"host bits set", func(r *NetworkRequest) { r.Subnet = "172.18.0.5/16" }, uplink, "did you mean 172.18.0.0/16"},
		{"subnet too small", func(r *NetworkRequest) { r.Subnet = "172.18.0.0/31"; r.Gateway = "" }, uplink, "too small"},
		{"gateway not an IP", func(r *NetworkRequest) { r.Gateway = "gw" }, uplink, "is not an IP address"},
		{"gateway outside subnet", func(r *NetworkRequest) { r.Gateway = "172.19.0.1" }, uplink, "not inside subnet"},
		{"gateway is network address", func(r *NetworkRequest) { r.Gateway = "172.18.0.0" }, uplink, "network address"},
		{"gateway is broadcast", func(r *NetworkRequest) { r.Gateway = "172.18.255.255" }, uplink, "broadcast address"},
		{"MTU below IPv4 minimum", func(r *NetworkRequest) { r.MTU = 67 }, uplink, "mtu 67 is out of range"},
		{"MTU above parent", func(r *NetworkRequest) { r.MTU = 1501 }, uplink, "mtu 1501 is out of range"},
		{"overlaps uplink", func(r *NetworkRequest) { r.Subnet = "192.168.0.0/16"; r.Gateway = "" }, uplink, "overlaps the uplink"},
		{"interface name too long", func(r *NetworkRequest) {}, Uplink{Name: "enp0s1f2abcd", MTU: 1500}, "longer than the kernel's limit"},
		{"name with control characters", func(r *NetworkRequest) { r.Name = "a\nb" }, uplink, "non-printable"},
		{"internal with NAT", func(r *NetworkRequest) { r.Internal = true; r.NAT = boolPtr(true) }, uplink, "cannot enable NAT"},
		{"name too long", func(r *NetworkRequest) { r.Name = strings.Repeat("n", 129) }, uplink, "the limit is 128"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := valid
			tt.edit(&req)
			_, err := ParseNetwork(req, tt.up)
			var me *Error
			if !errors.As(err, &me) || me.Kind != KindInvalid {
				t.Fatalf("got %v, want an invalid-argument error", err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("message %q does not say %q", err, tt.wantMsg)
			}
		})
	}
}

func TestCheckOverlap(t *testing.T) {
	existing := []Network{
		{NetworkSpec: NetworkSpec{VLAN: 100, Subnet: netip.MustParsePrefix("172.18.0.0/16")}},
		{NetworkSpec: NetworkSpec{VLAN: 200, Subnet: netip.MustParsePrefix("10.0.0.0/8")}},
	}
	tests := []struct {
		name     string
		n        NetworkSpec
		conflict bool
	}{
		{"disjoint", NetworkSpec{VLAN: 300, Subnet: netip.MustParsePrefix("172.19.0.0/16")}, false},
		{"same subnet other VLAN", NetworkSpec{VLAN: 300, Subnet: netip.MustParsePrefix("172.18.0.0/16")}, true},
		{"inside another", NetworkSpec{VLAN: 300, Subnet: netip.MustParsePrefix("10.5.0.0/16")}, true},
		{"containing another", NetworkSpec{VLAN: 300, Subnet: netip.MustParsePrefix("172.16.0.0/12")}, true},
		{"replacing itself", NetworkSpec{VLAN: 100, Subnet: netip.MustParsePrefix("172.18.0.0/24")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckOverlap(tt.n, existing)
			var me *Error
			if tt.conflict != (errors.As(err, &me) && me.Kind == KindConflict) {
				t.Fatalf("CheckOverlap = %v, want conflict %t", err, tt.conflict)
			}
		})
	}
}

func TestBroadcast(t *testing.T) {
	for in, want := range map[string]string{
		"172.18.0.0/16": "172.18.255.255",
		"10.0.0.0/30":   "10.0.0.3",
		"10.0.0.0/8":    "10.255.255.255",
		"192.0.2.64/27": "192.0.2.95",
	} {
		if got := broadcast(netip.MustParsePrefix(in)); got.String() != want {
			t.Errorf("broadcast(%s) = %s, want %s", in, got, want)
		}
	}
}
