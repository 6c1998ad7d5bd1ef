package server

import (
	"context"
	"maps"
	"slices"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	pb "github.com/router-service/router-service/api/router"
	"github.com/router-service/router-service/internal/link"
	"github.com/router-service/router-service/internal/testutil"
)

// withNetworks returns a harness with VLAN 100 (172.18.0.0/16) and VLAN 200
// (172.19.0.0/16, internal).
func withNetworks(t *testing.T) *harness {
	h := newTestHarness(t)
	ctx := context.Background()
	if _, err := h.client.CreateVLAN(ctx, create(100, "172.18.0.0/16")); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.CreateVLAN(ctx, &pb.CreateVLANRequest{VlanId: 200, Subnet: "172.19.0.0/16", Internal: true}); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) state(vlan uint32) *pb.GetStateResponse {
	h.t.Helper()
	st, err := h.client.GetState(context.Background(), &pb.GetStateRequest{VlanId: vlan})
	if err != nil {
		h.t.Fatal(err)
	}
	return st
}

func TestNAT(t *testing.T) {
	h := withNetworks(t)
	ctx := context.Background()
	steps := []struct {
		name      string
		call      func() error
		code      codes.Code
		msg       string
		sources   []string
		natOnList bool
	}{
		{"add a source", func() error {
			_, err := h.client.ConfigureNAT(ctx, &pb.ConfigureNATRequest{VlanId: 100, SourceSubnet: "192.0.2.0/24"})
			return err
		}, codes.OK, "", []string{"192.0.2.0/24"}, true},
		{"repeat is a no-op", func() error {
			_, err := h.client.ConfigureNAT(ctx, &pb.ConfigureNATRequest{VlanId: 100, SourceSubnet: "192.0.2.0/24"})
			return err
		}, codes.OK, "", []string{"192.0.2.0/24"}, true},
		{"remove the network's own NAT", func() error {
			_, err := h.client.RemoveNAT(ctx, &pb.RemoveNATRequest{VlanId: 100, SourceSubnet: "172.18.0.0/16"})
			return err
		}, codes.OK, "", []string{"192.0.2.0/24"}, true},
		{"remove everything", func() error {
			_, err := h.client.RemoveNAT(ctx, &pb.RemoveNATRequest{VlanId: 100})
			return err
		}, codes.OK, "", nil, false},
		{"remove again", func() error {
			_, err := h.client.RemoveNAT(ctx, &pb.RemoveNATRequest{VlanId: 100})
			return err
		}, codes.OK, "", nil, false},
		{"empty source means the network's subnet", func() error {
			_, err := h.client.ConfigureNAT(ctx, &pb.ConfigureNATRequest{VlanId: 100})
			return err
		}, codes.OK, "", nil, true},
		{"malformed source", func() error {
			_, err := h.client.ConfigureNAT(ctx, &pb.ConfigureNATRequest{VlanId: 100, SourceSubnet: "192.0.2.0"})
			return err
		}, codes.InvalidArgument, "not a CIDR", nil, true},
		{"default route as source", func() error {
			_, err := h.client.ConfigureNAT(ctx, &pb.ConfigureNATRequest{VlanId: 100, SourceSubnet: "0.0.0.0/0"})
			return err
		}, codes.InvalidArgument, "every source", nil, true},
		{"unknown network", func() error {
			_, err := h.client.ConfigureNAT(ctx, &pb.ConfigureNATRequest{VlanId: 300})
			return err
		}, codes.NotFound, "VLAN 300 does not exist", nil, true},
		{"internal network", func() error {
			_, err := h.client.ConfigureNAT(ctx, &pb.ConfigureNATRequest{VlanId: 200})
			return err
		}, codes.FailedPrecondition, "internal", nil, true},
		{"removing from an absent network succeeds", func() error {
			_, err := h.client.RemoveNAT(ctx, &pb.RemoveNATRequest{VlanId: 300})
			return err
		}, codes.OK, "", nil, true},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			wantCode(t, st.call(), st.code, st.msg)
			got := h.state(100).GetNetworks()[0]
			if !slices.Equal(got.GetNatSources(), st.sources) || got.GetVlan().GetNatEnabled() != st.natOnList {
				t.Fatalf("NAT state %v, want sources %v enabled %t", got, st.sources, st.natOnList)
			}
		})
	}
}

func TestDNS(t *testing.T) {
	h := withNetworks(t)
	ctx := context.Background()
	configure := func(req *pb.ConfigureDNSRequest) error {
		_, err := h.client.ConfigureDNS(ctx, req)
		return err
	}
	hosts := func() map[string]string { return h.state(100).GetNetworks()[0].GetDns().GetHosts() }

	if err := configure(&pb.ConfigureDNSRequest{VlanId: 100, Subnet: "172.18.0.0/16", Gateway: "172.18.0.1", Domain: "Frontend.internal.",
		Hosts: map[string]string{"web": "172.18.0.2", "DB": "172.18.0.3"}}); err != nil {
		t.Fatal(err)
	}
	dns := h.state(100).GetNetworks()[0].GetDns()
	if !dns.GetEnabled() || dns.GetDomain() != "frontend.internal" || !maps.Equal(dns.GetHosts(), map[string]string{"web": "172.18.0.2", "db": "172.18.0.3"}) {
		t.Fatalf("DNS after configure: %v", dns)
	}
	// Merge: a later call adds and updates without dropping other names.
	if err := configure(&pb.ConfigureDNSRequest{VlanId: 100, Domain: "frontend.internal", Hosts: map[string]string{"web": "172.18.0.9", "cache": "172.18.0.4"}}); err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"web": "172.18.0.9", "db": "172.18.0.3", "cache": "172.18.0.4"}; !maps.Equal(hosts(), want) {
		t.Fatalf("hosts after merge %v, want %v", hosts(), want)
	}
	for range 2 {
		if _, err := h.client.RemoveDNSHosts(ctx, &pb.RemoveDNSHostsRequest{VlanId: 100, Names: []string{"cache", "absent"}}); err != nil {
			t.Fatal(err)
		}
	}
	if want := map[string]string{"web": "172.18.0.9", "db": "172.18.0.3"}; !maps.Equal(hosts(), want) {
		t.Fatalf("hosts after removal %v, want %v", hosts(), want)
	}
	if err := configure(&pb.ConfigureDNSRequest{VlanId: 100, Domain: "frontend.internal", Hosts: map[string]string{"api": "172.18.0.5"}, ReplaceHosts: true}); err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"api": "172.18.0.5"}; !maps.Equal(hosts(), want) {
		t.Fatalf("hosts after replace %v, want %v", hosts(), want)
	}

	rejects := []struct {
		name string
		req  *pb.ConfigureDNSRequest
		code codes.Code
		msg  string
	}{
		{"unknown network", &pb.ConfigureDNSRequest{VlanId: 300}, codes.NotFound, "VLAN 300"},
		{"subnet mismatch", &pb.ConfigureDNSRequest{VlanId: 100, Subnet: "172.19.0.0/16"}, codes.InvalidArgument, "does not match"},
		{"gateway mismatch", &pb.ConfigureDNSRequest{VlanId: 100, Gateway: "172.18.0.2"}, codes.InvalidArgument, "does not match"},
		{"invalid name", &pb.ConfigureDNSRequest{VlanId: 100, Hosts: map[string]string{"web_1": "172.18.0.2"}}, codes.InvalidArgument, "not a valid hostname"},
		{"name with a leading hyphen", &pb.ConfigureDNSRequest{VlanId: 100, Hosts: map[string]string{"-web": "172.18.0.2"}}, codes.InvalidArgument, "hyphen"},
		{"invalid domain", &pb.ConfigureDNSRequest{VlanId: 100, Domain: "bad..domain"}, codes.InvalidArgument, "empty or over-long"},
		{"IP does not parse", &pb.ConfigureDNSRequest{VlanId: 100, Hosts: map[string]string{"web": "172.18.0.300"}}, codes.InvalidArgument, "not an IP address"},
		{"IP outside the subnet", &pb.ConfigureDNSRequest{VlanId: 100, Hosts: map[string]string{"web": "10.0.0.1"}}, codes.InvalidArgument, "not inside subnet"},
	}
	for _, r := range rejects {
		t.Run(r.name, func(t *testing.T) {
			wantCode(t, configure(r.req), r.code, r.msg)
			if want := map[string]string{"api": "172.18.0.5"}; !maps.Equal(hosts(), want) {
				t.Fatalf("rejected request changed hosts to %v", hosts())
			}
		})
	}
	_, err := h.client.RemoveDNSHosts(ctx, &pb.RemoveDNSHostsRequest{VlanId: 100, Names: []string{"bad name"}})
	wantCode(t, err, codes.InvalidArgument, "not a valid hostname")
}

func TestPortMappings(t *testing.T) {
	h := withNetworks(t)
	ctx := context.Background()
	add := func(req *pb.AddPortMappingRequest) error {
		_, err := h.client.AddPortMapping(ctx, req)
		return err
	}
	web := &pb.AddPortMappingRequest{ContainerIp: "172.18.0.2", ContainerPort: 80, HostPort: 8080, Protocol: "tcp", VlanId: 100}
	for range 2 {
		if err := add(web); err != nil {
			t.Fatal(err)
		}
	}
	// Same port, other protocol; same port on one address of another target
	// is fine once the every-address mapping is gone.
	if err := add(&pb.AddPortMappingRequest{ContainerIp: "172.18.0.3", ContainerPort: 53, HostPort: 8080, Protocol: "UDP", VlanId: 100}); err != nil {
		t.Fatal(err)
	}
	// vlan_id 0: the network is found by the container's address.
	if err := add(&pb.AddPortMappingRequest{ContainerIp: "172.19.0.7", ContainerPort: 5432, HostPort: 5432, Protocol: "tcp", HostIp: "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}

	rejects := []struct {
		name string
		req  *pb.AddPortMappingRequest
		code codes.Code
		msg  string
	}{
		{"host port 0", &pb.AddPortMappingRequest{ContainerIp: "172.18.0.2", ContainerPort: 80, HostPort: 0, Protocol: "tcp", VlanId: 100}, codes.InvalidArgument, "host_port 0"},
		{"host port too large", &pb.AddPortMappingRequest{ContainerIp: "172.18.0.2", ContainerPort: 80, HostPort: 65536, Protocol: "tcp", VlanId: 100}, codes.InvalidArgument, "host_port 65536"},
		{"container port 0", &pb.AddPortMappingRequest{ContainerIp: "172.18.0.2", HostPort: 81, Protocol: "tcp", VlanId: 100}, codes.InvalidArgument, "container_port 0"},
		{"unknown protocol", &pb.AddPortMappingRequest{ContainerIp: "172.18.0.2", ContainerPort: 80, HostPort: 81, Protocol: "sctp", VlanId: 100}, codes.InvalidArgument, "use tcp or udp"},
		{"container IP outside the subnet", &pb.AddPortMappingRequest{ContainerIp: "172.19.0.2", ContainerPort: 80, HostPort: 81, Protocol: "tcp", VlanId: 100}, codes.InvalidArgument, "not inside subnet"},
		{"container IP is the gateway", &pb.AddPortMappingRequest{ContainerIp: "172.18.0.1", ContainerPort: 80, HostPort: 81, Protocol: "tcp", VlanId: 100}, codes.InvalidArgument, "gateway"},
		{"container IP does not parse", &pb.AddPortMappingRequest{ContainerIp: "web", ContainerPort: 80, HostPort: 81, Protocol: "tcp", VlanId: 100}, codes.InvalidArgument, "not an IP address"},
		{"host IP does not parse", &pb.AddPortMappingRequest{ContainerIp: "172.18.0.2", ContainerPort: 80, HostPort: 81, Protocol: "tcp", VlanId: 100, HostIp: "localhost"}, codes.InvalidArgument, "host_ip"},
		{"unknown network", &pb.AddPortMappingRequest{ContainerIp: "172.18.0.2", ContainerPort: 80, HostPort: 81, Protocol: "tcp", VlanId: 300}, codes.NotFound, "VLAN 300"},
		{"no network holds the IP", &pb.AddPortMappingRequest{ContainerIp: "10.0.0.2", ContainerPort: 80, HostPort: 81, Protocol: "tcp"}, codes.NotFound, "no network"},
		{"port published to another target", &pb.AddPortMappingRequest{ContainerIp: "172.18.0.9", ContainerPort: 80, HostPort: 8080, Protocol: "tcp", VlanId: 100}, codes.AlreadyExists, "already published to 172.18.0.2:80"},
		{"specific address over every-address", &pb.AddPortMappingRequest{ContainerIp: "172.18.0.9", ContainerPort: 80, HostPort: 8080, Protocol: "tcp", VlanId: 100, HostIp: "127.0.0.1"}, codes.AlreadyExists, "already published"},
		{"every-address over specific address", &pb.AddPortMappingRequest{ContainerIp: "172.19.0.8", ContainerPort: 5432, HostPort: 5432, Protocol: "tcp", VlanId: 200}, codes.AlreadyExists, "127.0.0.1:5432/tcp"},
	}
	for _, r := range rejects {
		t.Run(r.name, func(t *testing.T) {
			wantCode(t, add(r.req), r.code, r.msg)
			if n := len(h.state(0).GetPortMappings()); n != 3 {
				t.Fatalf("rejected request changed mappings: %d", n)
			}
		})
	}

	want := []*pb.PortMapping{
		{Protocol: "tcp", HostPort: 5432, HostIp: "127.0.0.1", ContainerIp: "172.19.0.7", ContainerPort: 5432, VlanId: 200},
		{Protocol: "tcp", HostPort: 8080, ContainerIp: "172.18.0.2", ContainerPort: 80, VlanId: 100},
		{Protocol: "udp", HostPort: 8080, ContainerIp: "172.18.0.3", ContainerPort: 53, VlanId: 100},
	}
	got := h.state(0).GetPortMappings()
	if len(got) != len(want) {
		t.Fatalf("mappings %v", got)
	}
	for i := range want {
		if !proto.Equal(got[i], want[i]) {
			t.Errorf("mapping %d: %v, want %v", i, got[i], want[i])
		}
	}

	for range 2 {
		if _, err := h.client.RemovePortMapping(ctx, &pb.RemovePortMappingRequest{HostPort: 8080, Protocol: "udp"}); err != nil {
			t.Fatal(err)
		}
	}
	// A removal names the host address it was published on.
	if _, err := h.client.RemovePortMapping(ctx, &pb.RemovePortMappingRequest{HostPort: 5432, Protocol: "tcp"}); err != nil {
		t.Fatal(err)
	}
	if n := len(h.state(0).GetPortMappings()); n != 2 {
		t.Fatalf("after removals %d mappings, want 2", n)
	}
	_, err := h.client.RemovePortMapping(ctx, &pb.RemovePortMappingRequest{HostPort: 70000, Protocol: "tcp"})
	wantCode(t, err, codes.InvalidArgument, "host_port 70000")
	_, err = h.client.RemovePortMapping(ctx, &pb.RemovePortMappingRequest{HostPort: 80, Protocol: "icmp"})
	wantCode(t, err, codes.InvalidArgument, "protocol")
}

func TestSubnetChangeMustNotStrandAttachments(t *testing.T) {
	h := withNetworks(t)
	ctx := context.Background()
	if _, err := h.client.AddPortMapping(ctx, &pb.AddPortMappingRequest{ContainerIp: "172.18.5.2", ContainerPort: 80, HostPort: 8080, Protocol: "tcp", VlanId: 100}); err != nil {
		t.Fatal(err)
	}
	_, err := h.client.CreateVLAN(ctx, create(100, "172.18.0.0/24"))
	wantCode(t, err, codes.FailedPrecondition, "port mapping")
	if _, err := h.client.RemovePortMapping(ctx, &pb.RemovePortMappingRequest{HostPort: 8080, Protocol: "tcp"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.ConfigureDNS(ctx, &pb.ConfigureDNSRequest{VlanId: 100, Hosts: map[string]string{"web": "172.18.5.2"}}); err != nil {
		t.Fatal(err)
	}
	_, err = h.client.CreateVLAN(ctx, create(100, "172.18.0.0/24"))
	wantCode(t, err, codes.FailedPrecondition, "DNS name web")
	if got := h.state(100).GetNetworks()[0].GetVlan().GetSubnet(); got != "172.18.0.0/16" {
		t.Fatalf("rejected change applied: subnet %s", got)
	}
}

func TestDeleteVLANRemovesEverythingOfTheNetwork(t *testing.T) {
	dir := t.TempDir()
	links := testutil.NewFakeLinks(testUplink)
	h := newHarness(t, dir, links)
	ctx := context.Background()
	calls := []func() error{
		func() error { _, err := h.client.CreateVLAN(ctx, create(100, "172.18.0.0/16")); return err },
		func() error { _, err := h.client.CreateVLAN(ctx, create(200, "172.19.0.0/16")); return err },
		func() error {
			_, err := h.client.ConfigureNAT(ctx, &pb.ConfigureNATRequest{VlanId: 100, SourceSubnet: "192.0.2.0/24"})
			return err
		},
		func() error {
			_, err := h.client.ConfigureDNS(ctx, &pb.ConfigureDNSRequest{VlanId: 100, Hosts: map[string]string{"web": "172.18.0.2"}})
			return err
		},
		func() error {
			_, err := h.client.AddPortMapping(ctx, &pb.AddPortMappingRequest{ContainerIp: "172.18.0.2", ContainerPort: 80, HostPort: 8080, Protocol: "tcp", VlanId: 100})
			return err
		},
		func() error {
			_, err := h.client.AddPortMapping(ctx, &pb.AddPortMappingRequest{ContainerIp: "172.19.0.2", ContainerPort: 80, HostPort: 9090, Protocol: "tcp", VlanId: 200})
			return err
		},
		func() error { _, err := h.client.DeleteVLAN(ctx, &pb.DeleteVLANRequest{VlanId: 100}); return err },
	}
	for i, call := range calls {
		if err := call(); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	check := func(when string) {
		st := h.state(0)
		if len(st.GetNetworks()) != 1 || st.GetNetworks()[0].GetVlan().GetVlanId() != 200 {
			t.Fatalf("%s: networks %v", when, st.GetNetworks())
		}
		if len(st.GetPortMappings()) != 1 || st.GetPortMappings()[0].GetHostPort() != 9090 {
			t.Fatalf("%s: port mappings %v", when, st.GetPortMappings())
		}
	}
	check("after delete")
	// Re-creating the network starts clean: no NAT sources or DNS left over.
	if _, err := h.client.CreateVLAN(ctx, create(100, "172.18.0.0/16")); err != nil {
		t.Fatal(err)
	}
	if n := h.state(100).GetNetworks()[0]; len(n.GetNatSources()) != 0 || n.GetDns() != nil {
		t.Fatalf("re-created network inherited %v", n)
	}
	if _, err := h.client.DeleteVLAN(ctx, &pb.DeleteVLANRequest{VlanId: 100}); err != nil {
		t.Fatal(err)
	}
	h.stop()
	h = newHarness(t, dir, links)
	check("after restart")
}

func TestAttachmentsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	links := testutil.NewFakeLinks(testUplink)
	h := newHarness(t, dir, links)
	ctx := context.Background()
	if _, err := h.client.CreateVLAN(ctx, &pb.CreateVLANRequest{VlanId: 100, Subnet: "172.18.0.0/16", NetworkName: "frontend", Mtu: 1400, EnableNat: proto.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.ConfigureNAT(ctx, &pb.ConfigureNATRequest{VlanId: 100, SourceSubnet: "192.0.2.0/24"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.ConfigureDNS(ctx, &pb.ConfigureDNSRequest{VlanId: 100, Domain: "fe", Hosts: map[string]string{"web": "172.18.0.2"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.AddPortMapping(ctx, &pb.AddPortMappingRequest{ContainerIp: "172.18.0.2", ContainerPort: 80, HostPort: 8080, Protocol: "tcp", VlanId: 100, HostIp: "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	before := h.state(0)
	h.stop()
	h = newHarness(t, dir, links)
	if err := h.srv.Resync(); err != nil {
		t.Fatal(err)
	}
	if after := h.state(0); !proto.Equal(before, after) {
		t.Fatalf("state changed across restart:\nbefore %v\nafter  %v", before, after)
	}
	if v := before.GetNetworks()[0].GetVlan(); v.GetNetworkName() != "frontend" || v.GetMtu() != 1400 || !v.GetNatEnabled() {
		t.Fatalf("state before restart lacks what was set: %v", v)
	}
}

func TestRepeatedCreateAfterDNSAtTheGateway(t *testing.T) {
	h := withNetworks(t)
	ctx := context.Background()
	if _, err := h.client.ConfigureDNS(ctx, &pb.ConfigureDNSRequest{VlanId: 100, Hosts: map[string]string{"gw": "172.18.0.1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.CreateVLAN(ctx, create(100, "172.18.0.0/16")); err != nil {
		t.Fatalf("identical CreateVLAN after DNS named the gateway: %v", err)
	}
	// Narrowing must not leave a name on what becomes the broadcast address.
	if _, err := h.client.ConfigureDNS(ctx, &pb.ConfigureDNSRequest{VlanId: 100, Hosts: map[string]string{"edge": "172.18.0.255"}}); err != nil {
		t.Fatal(err)
	}
	_, err := h.client.CreateVLAN(ctx, create(100, "172.18.0.0/24"))
	wantCode(t, err, codes.FailedPrecondition, "DNS name edge")
}

func TestMakingANetworkInternalNeedsItsNATRemoved(t *testing.T) {
	h := withNetworks(t)
	ctx := context.Background()
	if _, err := h.client.ConfigureNAT(ctx, &pb.ConfigureNATRequest{VlanId: 100, SourceSubnet: "10.9.0.0/16"}); err != nil {
		t.Fatal(err)
	}
	_, err := h.client.CreateVLAN(ctx, &pb.CreateVLANRequest{VlanId: 100, Subnet: "172.18.0.0/16", Internal: true})
	wantCode(t, err, codes.FailedPrecondition, "remove that NAT")
	if v := h.state(100).GetNetworks()[0].GetVlan(); v.GetInternal() {
		t.Fatalf("rejected change applied: %v", v)
	}
}

func TestDeletingANeverCreatedNetworkLeavesForeignLinksAlone(t *testing.T) {
	h := newTestHarness(t)
	h.links.Put(link.Status{Name: "eth0.100", VLANID: 100})
	if err := h.srv.Resync(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := h.client.DeleteVLAN(context.Background(), &pb.DeleteVLANRequest{VlanId: 100}); err != nil {
			t.Fatalf("DeleteVLAN of a network that never existed: %v", err)
		}
	}
	if _, ok, _ := h.links.Status("eth0.100"); !ok {
		t.Fatal("foreign link removed")
	}
	if health, _ := h.client.GetHealth(context.Background(), &pb.HealthRequest{}); !health.GetHealthy() {
		t.Fatalf("deleting nothing made the service unhealthy: %v", health)
	}
}
