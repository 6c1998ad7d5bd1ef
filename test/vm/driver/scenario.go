package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"time"

	"github.com/vishvananda/netlink"
	"google.golang.org/protobuf/proto"

	pb "github.com/router-service/router-service/api/router"
)

// suite counts checks and prints one line per check.
type suite struct {
	passed, failed int
}

func (s *suite) check(name string, err error) bool {
	if err != nil {
		s.failed++
		fmt.Printf("FAIL %s: %v\n", name, err)
		return false
	}
	s.passed++
	fmt.Printf("PASS %s\n", name)
	return true
}

func (s *suite) checkf(name string, ok bool, format string, args ...any) bool {
	if ok {
		return s.check(name, nil)
	}
	return s.check(name, fmt.Errorf(format, args...))
}

type network struct {
	vlan            uint32
	subnet, gateway string
	container       string
	containerAddr   string
}

var (
	net100 = network{vlan: 100, subnet: "172.18.0.0/16", gateway: "172.18.0.1", container: "c100", containerAddr: "172.18.0.2/16"}
	net200 = network{vlan: 200, subnet: "172.19.0.0/16", gateway: "172.19.0.1", container: "c200", containerAddr: "172.19.0.2/16"}
)

func (n network) request() *pb.CreateVLANRequest {
	return &pb.CreateVLANRequest{VlanId: n.vlan, Subnet: n.subnet, Gateway: n.gateway, NetworkName: n.container + "-net"}
}

func (n network) ifname() string { return fmt.Sprintf("eth0.%d", n.vlan) }

func callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

func runScenario() error {
	if err := buildFabric(); err != nil {
		return err
	}
	for _, c := range []string{"c100", "c200", "rogue"} {
		if err := addContainer(c); err != nil {
			return err
		}
	}
	for _, n := range []network{net100, net200} {
		if err := setContainerAddr(n.container, int(n.vlan), n.containerAddr); err != nil {
			return err
		}
	}
	d, err := startDaemon()
	if err != nil {
		return err
	}
	client, closeClient, err := dialVsock()
	if err != nil {
		d.stop()
		return err
	}
	s := &suite{}
	s.scenario(client)
	s.attachments(client)
	closeClient()
	s.check("router-service stops gracefully on SIGTERM", d.stop())
	s.restart()
	if s.failed > 0 {
		if log, err := os.ReadFile(daemonLog); err == nil {
			fmt.Printf("--- router-service log ---\n%s--- end of log ---\n", log)
		}
	}
	fmt.Printf("%d passed, %d failed\n", s.passed, s.failed)
	if s.failed > 0 {
		return errors.New("scenario failed")
	}
	return nil
}

func (s *suite) scenario(client pb.RouterServiceClient) {
	ctx, cancel := callCtx()
	defer cancel()

	h, err := client.GetHealth(ctx, &pb.HealthRequest{})
	s.checkf("GetHealth over vsock CID 1 is healthy", err == nil && h.GetHealthy(), "health=%v err=%v", h, err)

	eth0, err := netlink.LinkByName("eth0")
	if !s.check("router has eth0", err) {
		return
	}
	created := map[uint32]*pb.CreateVLANResponse{}
	for _, n := range []network{net100, net200} {
		resp, err := client.CreateVLAN(ctx, n.request())
		created[n.vlan] = resp
		s.checkf(fmt.Sprintf("CreateVLAN %d returns success, %s and the MAC", n.vlan, n.ifname()),
			err == nil && resp.GetSuccess() && resp.GetInterfaceName() == n.ifname() && resp.GetMacAddress() == eth0.Attrs().HardwareAddr.String(),
			"resp=%v err=%v", resp, err)
		s.check(fmt.Sprintf("kernel shows %s as 802.1Q VLAN %d on eth0 with %s", n.ifname(), n.vlan, n.gateway), kernelHasVLAN(n, eth0.Attrs().Index))
	}

	s.checkf("container on VLAN 100 pings 172.18.0.1", ping("c100", net100.gateway), "no reply")
	s.checkf("container on VLAN 200 pings 172.19.0.1", ping("c200", net200.gateway), "no reply")

	// The rogue container first proves it can reach the gateway when it
	// tags correctly, so that the failures below are due to isolation.
	s.check("rogue container tagged 100", setContainerAddr("rogue", 100, "172.18.0.50/16"))
	s.checkf("rogue container tagged 100 pings 172.18.0.1", ping("rogue", net100.gateway), "no reply")
	s.checkf("rogue container tagged 100 resolves 172.18.0.1 by ARP", arpAnswered("rogue", "eth0.100", net100.gateway), "no ARP reply")
	s.check("rogue container untagged", setContainerAddr("rogue", 0, "172.18.0.50/16"))
	s.checkf("untagged frames cannot reach 172.18.0.1", !ping("rogue", net100.gateway), "gateway answered untagged frames")
	s.checkf("untagged ARP for 172.18.0.1 gets no answer", !arpAnswered("rogue", "eth0", net100.gateway), "router answered ARP on the untagged parent")
	s.check("rogue container tagged 200", setContainerAddr("rogue", 200, "172.18.0.50/16"))
	s.checkf("frames tagged 200 cannot reach 172.18.0.1", !ping("rogue", net100.gateway), "gateway of VLAN 100 answered on VLAN 200")
	s.checkf("ARP tagged 200 for 172.18.0.1 gets no answer", !arpAnswered("rogue", "eth0.200", net100.gateway), "router answered ARP for VLAN 100's gateway on VLAN 200")

	s.check("ListVLANs matches the kernel", listMatchesKernel(ctx, client, []network{net100, net200}, []bool{true, true}))
	one, err := client.ListVLANs(ctx, &pb.ListVLANsRequest{VlanId: 100})
	s.checkf("ListVLANs(100) lists only VLAN 100", err == nil && len(one.GetVlans()) == 1 && one.GetVlans()[0].GetVlanId() == 100, "resp=%v err=%v", one, err)

	before, _ := netlink.LinkByName(net100.ifname())
	again, err := client.CreateVLAN(ctx, net100.request())
	after, _ := netlink.LinkByName(net100.ifname())
	s.checkf("repeating CreateVLAN 100 is a no-op", err == nil && proto.Equal(again, created[100]) &&
		before != nil && after != nil && before.Attrs().Index == after.Attrs().Index,
		"resp=%v err=%v (link recreated or changed)", again, err)

	del, err := client.DeleteVLAN(ctx, &pb.DeleteVLANRequest{VlanId: 200})
	s.checkf("DeleteVLAN 200 succeeds", err == nil && del.GetSuccess(), "resp=%v err=%v", del, err)
	_, lerr := netlink.LinkByName(net200.ifname())
	var notFound netlink.LinkNotFoundError
	s.checkf("DeleteVLAN 200 removes eth0.200", errors.As(lerr, &notFound), "link still there (err=%v)", lerr)
	s.checkf("container on VLAN 200 no longer reaches 172.19.0.1", !ping("c200", net200.gateway), "gateway still answers")
	del, err = client.DeleteVLAN(ctx, &pb.DeleteVLANRequest{VlanId: 200})
	s.checkf("repeating DeleteVLAN 200 is a no-op", err == nil && del.GetSuccess(), "resp=%v err=%v", del, err)
	s.check("ListVLANs matches the kernel after the delete", listMatchesKernel(ctx, client, []network{net100}, []bool{true}))
	s.checkf("container on VLAN 100 still pings its gateway", ping("c100", net100.gateway), "no reply")

	h, err = client.GetHealth(ctx, &pb.HealthRequest{})
	s.checkf("GetHealth counts one network", err == nil && h.GetHealthy() && h.GetActiveVlans() == 1, "health=%v err=%v", h, err)
}

// kernelHasVLAN checks the link the kernel holds for n: an 802.1Q VLAN with
// n's id on the parent, tagged as ours, up, carrying exactly the gateway.
func kernelHasVLAN(n network, parentIndex int) error {
	l, err := netlink.LinkByName(n.ifname())
	if err != nil {
		return err
	}
	vl, ok := l.(*netlink.Vlan)
	if !ok {
		return fmt.Errorf("%s is a %s link, not vlan", n.ifname(), l.Type())
	}
	if vl.VlanId != int(n.vlan) || vl.ParentIndex != parentIndex || vl.VlanProtocol != netlink.VLAN_PROTOCOL_8021Q {
		return fmt.Errorf("%s: id %d parent %d protocol %v", n.ifname(), vl.VlanId, vl.ParentIndex, vl.VlanProtocol)
	}
	if vl.Attrs().Flags&net.FlagUp == 0 {
		return fmt.Errorf("%s is down", n.ifname())
	}
	addrs, err := netlink.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		return err
	}
	_, subnet, _ := net.ParseCIDR(n.subnet)
	want := &net.IPNet{IP: net.ParseIP(n.gateway).To4(), Mask: subnet.Mask}
	if len(addrs) != 1 || addrs[0].IPNet.String() != want.String() {
		return fmt.Errorf("%s has addresses %v, want only %s", n.ifname(), addrs, want)
	}
	return nil
}

// listMatchesKernel checks ListVLANs against the kernel's links; nat holds
// the expected nat_enabled per network.
func listMatchesKernel(ctx context.Context, client pb.RouterServiceClient, want []network, nat []bool) error {
	resp, err := client.ListVLANs(ctx, &pb.ListVLANsRequest{})
	if err != nil {
		return err
	}
	if len(resp.GetVlans()) != len(want) {
		return fmt.Errorf("listed %d networks, want %d: %v", len(resp.GetVlans()), len(want), resp.GetVlans())
	}
	for i, n := range want {
		v := resp.GetVlans()[i]
		l, err := netlink.LinkByName(n.ifname())
		if err != nil {
			return err
		}
		a := l.Attrs()
		got := []string{fmt.Sprint(v.GetVlanId()), v.GetInterfaceName(), v.GetSubnet(), v.GetGateway(), v.GetMacAddress(), fmt.Sprint(v.GetMtu()), fmt.Sprint(v.GetIsUp()), fmt.Sprint(v.GetNatEnabled())}
		exp := []string{fmt.Sprint(n.vlan), n.ifname(), n.subnet, n.gateway, a.HardwareAddr.String(), fmt.Sprint(a.MTU), "true", fmt.Sprint(nat[i])}
		if !slices.Equal(got, exp) {
			return fmt.Errorf("listed %v, kernel has %v", got, exp)
		}
	}
	return nil
}
