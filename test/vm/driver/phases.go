package main

import (
	"errors"
	"fmt"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/router-service/router-service/api/router"
)

func codeIs(err error, code codes.Code) bool {
	st, _ := status.FromError(err)
	return st.Code() == code
}

// attachments drives the RPCs beyond links (NAT, DNS, port mappings and the
// state calls) against real VLANs, and in-place changes and drift repair of
// the links themselves.
func (s *suite) attachments(client pb.RouterServiceClient) {
	ctx, cancel := callCtx()
	defer cancel()

	_, err := client.CreateVLAN(ctx, &pb.CreateVLANRequest{VlanId: 300, Subnet: "172.30.0.0/16", Mtu: 9000})
	s.checkf("CreateVLAN with an MTU above the parent's is InvalidArgument", codeIs(err, codes.InvalidArgument), "err=%v", err)
	_, err = client.CreateVLAN(ctx, &pb.CreateVLANRequest{VlanId: 300, Subnet: "172.18.128.0/17"})
	s.checkf("CreateVLAN overlapping VLAN 100 is AlreadyExists", codeIs(err, codes.AlreadyExists), "err=%v", err)
	_, lerr := netlink.LinkByName("eth0.300")
	s.checkf("rejected CreateVLAN leaves no link", lerr != nil, "eth0.300 exists")

	resp, err := client.CreateVLAN(ctx, net200.request())
	s.checkf("CreateVLAN 200 again after its deletion", err == nil && resp.GetSuccess(), "err=%v", err)
	s.checkf("container on VLAN 200 pings its gateway again", ping("c200", net200.gateway), "no reply")

	before, _ := netlink.LinkByName("eth0.200")
	changed := &pb.CreateVLANRequest{VlanId: 200, Subnet: "172.19.0.0/16", Gateway: "172.19.0.254", Mtu: 1400, EnableNat: proto.Bool(false)}
	_, err = client.CreateVLAN(ctx, changed)
	s.check("CreateVLAN 200 with a new gateway and MTU succeeds", err)
	moved := net200
	moved.gateway = "172.19.0.254"
	after, _ := netlink.LinkByName("eth0.200")
	s.check("eth0.200 converged in place to the new gateway only", kernelHasVLAN(moved, before.Attrs().ParentIndex))
	s.checkf("eth0.200 has MTU 1400 and kept its ifindex", after != nil && after.Attrs().MTU == 1400 && after.Attrs().Index == before.Attrs().Index,
		"link %v", after.Attrs())
	s.checkf("container on VLAN 200 pings the new gateway", ping("c200", moved.gateway), "no reply")
	s.checkf("the old gateway 172.19.0.1 is gone", !ping("c200", net200.gateway), "old gateway still answers")
	_, err = client.CreateVLAN(ctx, net200.request())
	s.check("CreateVLAN 200 back to its first spec", err)

	calls := []struct {
		name string
		call func() error
	}{
		{"ConfigureNAT 100 with an extra source", func() error {
			_, err := client.ConfigureNAT(ctx, &pb.ConfigureNATRequest{VlanId: 100, SourceSubnet: "192.0.2.0/24"})
			return err
		}},
		{"RemoveNAT 200 (own subnet)", func() error {
			_, err := client.RemoveNAT(ctx, &pb.RemoveNATRequest{VlanId: 200, SourceSubnet: net200.subnet})
			return err
		}},
		{"ConfigureDNS 100", func() error {
			_, err := client.ConfigureDNS(ctx, &pb.ConfigureDNSRequest{VlanId: 100, Subnet: net100.subnet, Gateway: net100.gateway,
				Domain: "frontend", Hosts: map[string]string{"web": "172.18.0.2", "db": "172.18.0.3", "old": "172.18.0.4"}})
			return err
		}},
		{"RemoveDNSHosts 100 old", func() error {
			_, err := client.RemoveDNSHosts(ctx, &pb.RemoveDNSHostsRequest{VlanId: 100, Names: []string{"old"}})
			return err
		}},
		{"AddPortMapping 8080/tcp -> 172.18.0.2:80", func() error {
			_, err := client.AddPortMapping(ctx, &pb.AddPortMappingRequest{ContainerIp: "172.18.0.2", ContainerPort: 80, HostPort: 8080, Protocol: "tcp", VlanId: 100})
			return err
		}},
		{"AddPortMapping 5353/udp -> 172.19.0.2:53", func() error {
			_, err := client.AddPortMapping(ctx, &pb.AddPortMappingRequest{ContainerIp: "172.19.0.2", ContainerPort: 53, HostPort: 5353, Protocol: "udp", VlanId: 200})
			return err
		}},
		{"AddPortMapping 9999/tcp, later removed", func() error {
			_, err := client.AddPortMapping(ctx, &pb.AddPortMappingRequest{ContainerIp: "172.18.0.3", ContainerPort: 99, HostPort: 9999, Protocol: "tcp", VlanId: 100})
			return err
		}},
		{"RemovePortMapping 9999/tcp", func() error {
			_, err := client.RemovePortMapping(ctx, &pb.RemovePortMappingRequest{HostPort: 9999, Protocol: "tcp"})
			return err
		}},
	}
	for _, c := range calls {
		// Every call twice: the repeat must succeed and change nothing.
		err := c.call()
		if err == nil {
			err = c.call()
		}
		s.check(c.name+" (twice)", err)
	}
	_, err = client.AddPortMapping(ctx, &pb.AddPortMappingRequest{ContainerIp: "172.18.0.3", ContainerPort: 81, HostPort: 8080, Protocol: "tcp", VlanId: 100})
	s.checkf("AddPortMapping of a taken host port is AlreadyExists", codeIs(err, codes.AlreadyExists), "err=%v", err)
	_, err = client.ConfigureDNS(ctx, &pb.ConfigureDNSRequest{VlanId: 100, Hosts: map[string]string{"bad_name": "172.18.0.2"}})
	s.checkf("ConfigureDNS with an invalid hostname is InvalidArgument", codeIs(err, codes.InvalidArgument), "err=%v", err)
	_, err = client.ConfigureNAT(ctx, &pb.ConfigureNATRequest{VlanId: 999})
	s.checkf("ConfigureNAT on an absent VLAN is NotFound", codeIs(err, codes.NotFound), "err=%v", err)

	st, err := client.GetState(ctx, &pb.GetStateRequest{})
	s.check("GetState returns every network and mapping", stateMatches(st, err))

	// Drift repair: the link vanishes behind the service's back and the
	// periodic resync restores it.
	if l, err := netlink.LinkByName("eth0.100"); err == nil {
		netlink.LinkDel(l)
	}
	s.checkf("periodic resync restores a deleted link", waitFor(20*time.Second, func() bool {
		return kernelHasVLAN(net100, mustIndex("eth0")) == nil
	}), "eth0.100 not restored")
	s.checkf("container on VLAN 100 pings its gateway after the repair", ping("c100", net100.gateway), "no reply")
}

// stateMatches checks GetState against what attachments configured.
func stateMatches(st *pb.GetStateResponse, err error) error {
	if err != nil {
		return err
	}
	if len(st.GetNetworks()) != 2 {
		return fmt.Errorf("%d networks: %v", len(st.GetNetworks()), st.GetNetworks())
	}
	n100, n200 := st.GetNetworks()[0], st.GetNetworks()[1]
	if !slices.Equal(n100.GetNatSources(), []string{"192.0.2.0/24"}) || !n100.GetVlan().GetNatEnabled() {
		return fmt.Errorf("VLAN 100 NAT: %v", n100)
	}
	if n200.GetVlan().GetNatEnabled() {
		return fmt.Errorf("VLAN 200 NAT still on: %v", n200)
	}
	if d := n100.GetDns(); d.GetDomain() != "frontend" || !maps.Equal(d.GetHosts(), map[string]string{"web": "172.18.0.2", "db": "172.18.0.3"}) {
		return fmt.Errorf("VLAN 100 DNS: %v", d)
	}
	want := []*pb.PortMapping{
		{Protocol: "tcp", HostPort: 8080, ContainerIp: "172.18.0.2", ContainerPort: 80, VlanId: 100},
		{Protocol: "udp", HostPort: 5353, ContainerIp: "172.19.0.2", ContainerPort: 53, VlanId: 200},
	}
	if len(st.GetPortMappings()) != len(want) {
		return fmt.Errorf("port mappings: %v", st.GetPortMappings())
	}
	for i := range want {
		if !proto.Equal(st.GetPortMappings()[i], want[i]) {
			return fmt.Errorf("port mapping %d: %v, want %v", i, st.GetPortMappings()[i], want[i])
		}
	}
	return nil
}

// restart stops the service, damages what it owns and adds a foreign link,
// then checks that a new start converges the kernel and keeps the state.
func (s *suite) restart() {
	eth0 := mustIndex("eth0")
	damage := [][]string{
		{"link", "del", "eth0.100"},
		{"addr", "flush", "dev", "eth0.200"},
		{"addr", "add", "172.19.9.9/16", "dev", "eth0.200"},
		{"link", "set", "eth0.200", "mtu", "1300"},
		// An owned link that is no longer desired: ours to remove.
		{"link", "add", "link", "eth0", "name", "eth0.400", "type", "vlan", "id", "400"},
		{"link", "set", "eth0.400", "alias", "router-service"},
		// A foreign link: never ours to touch.
		{"link", "add", "link", "eth0", "name", "eth0.300", "type", "vlan", "id", "300"},
		{"addr", "add", "10.30.0.1/24", "dev", "eth0.300"},
	}
	var err error
	for _, d := range damage {
		if _, err = ip(d...); err != nil {
			break
		}
	}
	if !s.check("damage owned links and add a foreign one while stopped", err) {
		return
	}
	d, err := startDaemon()
	if !s.check("router-service starts again", err) {
		return
	}
	defer func() { s.check("router-service stops gracefully again", d.stop()) }()
	client, closeClient, err := dialVsock()
	if !s.check("client reconnects over vsock", err) {
		return
	}
	defer closeClient()
	ctx, cancel := callCtx()
	defer cancel()

	s.check("deleted eth0.100 is recreated", kernelHasVLAN(net100, eth0))
	s.check("drifted eth0.200 gets its gateway back", kernelHasVLAN(net200, eth0))
	if l, err := netlink.LinkByName("eth0.200"); err == nil {
		s.checkf("drifted eth0.200 gets its MTU back", l.Attrs().MTU == 1500, "mtu %d", l.Attrs().MTU)
	}
	_, err = netlink.LinkByName("eth0.400")
	var notFound netlink.LinkNotFoundError
	s.checkf("undesired owned eth0.400 is removed", errors.As(err, &notFound), "err=%v", err)
	s.check("foreign eth0.300 is left untouched", foreignIntact())
	_, err = client.CreateVLAN(ctx, &pb.CreateVLANRequest{VlanId: 300, Subnet: "10.30.0.0/24"})
	s.checkf("CreateVLAN over the foreign 802.1Q eth0.300 is FailedPrecondition", codeIs(err, codes.FailedPrecondition), "err=%v", err)
	s.check("the refused CreateVLAN left foreign eth0.300 untouched", foreignIntact())

	st, err := client.GetState(ctx, &pb.GetStateRequest{})
	s.check("NAT, DNS and port mappings survive the restart", stateMatches(st, err))
	s.check("ListVLANs matches the kernel after the restart", listMatchesKernel(ctx, client, []network{net100, net200}, []bool{true, false}))
	s.checkf("container on VLAN 100 pings its gateway after the restart", ping("c100", net100.gateway), "no reply")
	s.checkf("container on VLAN 200 pings its gateway after the restart", ping("c200", net200.gateway), "no reply")

	out, err := run("/usr/local/bin/routerctl", "status")
	s.checkf("routerctl status shows networks, NAT, DNS names and port mappings", err == nil &&
		strings.Contains(out, "eth0.100") && strings.Contains(out, "192.0.2.0/24") && strings.Contains(out, "web") &&
		strings.Contains(out, "172.18.0.2:80"), "err=%v\n%s", err, out)

	for _, vlan := range []uint32{100, 100} {
		_, err = client.DeleteVLAN(ctx, &pb.DeleteVLANRequest{VlanId: vlan})
		s.check("DeleteVLAN 100 (twice)", err)
	}
	st, err = client.GetState(ctx, &pb.GetStateRequest{})
	s.checkf("DeleteVLAN 100 removed its port mappings and DNS", err == nil && len(st.GetNetworks()) == 1 && len(st.GetPortMappings()) == 1 &&
		st.GetPortMappings()[0].GetVlanId() == 200, "state %v err %v", st, err)
	s.check("foreign eth0.300 is still untouched", foreignIntact())
	s.vsockAllowList(d)
}

// vsockAllowList restarts the service accepting only vsock peer CID 3:
// loopback clients (CID 1) are refused while the unix socket still serves.
func (s *suite) vsockAllowList(d *daemon) {
	s.check("router-service stops for the allow-list check", d.stop())
	allowOnly, err := startDaemon("--vsock-allow-cid", "3")
	if !s.check("router-service starts with --vsock-allow-cid 3", err) {
		return
	}
	*d = *allowOnly
	ok := waitFor(20*time.Second, func() bool {
		_, err := exec.Command("/usr/local/bin/routerctl", "--addr", "unix://"+unixSocket, "health").CombinedOutput()
		return err == nil
	})
	s.checkf("the unix socket serves with the allow-list", ok, "routerctl over unix failed")
	out, err := exec.Command("/usr/local/bin/routerctl", "--timeout", "3s", "health").CombinedOutput()
	s.checkf("a vsock client from CID 1 is refused", err != nil, "routerctl over vsock succeeded: %s", out)
}

func foreignIntact() error {
	l, err := netlink.LinkByName("eth0.300")
	if err != nil {
		return err
	}
	addrs, err := netlink.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		return err
	}
	if l.Attrs().Alias != "" || len(addrs) != 1 || addrs[0].IPNet.String() != "10.30.0.1/24" {
		return fmt.Errorf("alias %q addresses %v", l.Attrs().Alias, addrs)
	}
	return nil
}

func mustIndex(name string) int {
	l, err := netlink.LinkByName(name)
	if err != nil {
		return -1
	}
	return l.Attrs().Index
}

func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(250 * time.Millisecond)
	}
	return cond()
}
