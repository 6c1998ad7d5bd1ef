package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/router-service/router-service/api/router"
	"github.com/router-service/router-service/internal/link"
	"github.com/router-service/router-service/internal/model"
	"github.com/router-service/router-service/internal/reconcile"
	"github.com/router-service/router-service/internal/store"
	"github.com/router-service/router-service/internal/testutil"
)

var testUplink = model.Uplink{Name: "eth0", MTU: 1500, Prefixes: []netip.Prefix{netip.MustParsePrefix("192.168.64.0/24")}}

// harness is a Server on a fake link layer, reached through a real gRPC
// connection over a unix socket.
type harness struct {
	t        *testing.T
	stateDir string
	links    *testutil.FakeLinks
	store    *store.Store
	srv      *Server
	client   pb.RouterServiceClient
	stop     func()
}

func newHarness(t *testing.T, stateDir string, links *testutil.FakeLinks) *harness {
	t.Helper()
	st, err := store.Open(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := New(st, reconcile.New(links, "eth0", log), log)
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "api.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	pb.RegisterRouterServiceServer(gs, srv)
	go gs.Serve(l)
	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, stateDir: stateDir, links: links, store: st, srv: srv, client: pb.NewRouterServiceClient(conn)}
	h.stop = func() {
		conn.Close()
		gs.Stop()
		st.Close()
	}
	t.Cleanup(func() { h.stop() })
	return h
}

func newTestHarness(t *testing.T) *harness {
	return newHarness(t, t.TempDir(), testutil.NewFakeLinks(testUplink))
}

func create(vlan uint32, subnet string) *pb.CreateVLANRequest {
	return &pb.CreateVLANRequest{VlanId: vlan, Subnet: subnet}
}

func wantCode(t *testing.T, err error, code codes.Code, msgPart string) {
	t.Helper()
	st, _ := status.FromError(err)
	if st.Code() != code || !strings.Contains(st.Message(), msgPart) {
		t.Fatalf("got %v, want %s mentioning %q", err, code, msgPart)
	}
}

func TestCreateVLANIsIdempotent(t *testing.T) {
	h := newTestHarness(t)
	ctx := context.Background()
	first, err := h.client.CreateVLAN(ctx, create(100, "172.18.0.0/16"))
	if err != nil {
		t.Fatal(err)
	}
	if !first.GetSuccess() || first.GetInterfaceName() != "eth0.100" || first.GetMacAddress() == "" {
		t.Fatalf("unexpected response %v", first)
	}
	index := mustStatus(t, h.links, "eth0.100").Index
	again, err := h.client.CreateVLAN(ctx, create(100, "172.18.0.0/16"))
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(first, again) {
		t.Fatalf("repeat returned %v, first %v", again, first)
	}
	if got := mustStatus(t, h.links, "eth0.100").Index; got != index {
		t.Fatalf("repeat recreated the link: index %d -> %d", index, got)
	}
}

func TestCreateVLANConvergesInPlace(t *testing.T) {
	h := newTestHarness(t)
	ctx := context.Background()
	if _, err := h.client.CreateVLAN(ctx, create(100, "172.18.0.0/16")); err != nil {
		t.Fatal(err)
	}
	changed := &pb.CreateVLANRequest{VlanId: 100, Subnet: "10.9.0.0/24", Gateway: "10.9.0.254", Mtu: 1400, EnableNat: proto.Bool(false)}
	if _, err := h.client.CreateVLAN(ctx, changed); err != nil {
		t.Fatal(err)
	}
	st := mustStatus(t, h.links, "eth0.100")
	if want := []netip.Prefix{netip.MustParsePrefix("10.9.0.254/24")}; !slices.Equal(st.Addrs, want) || st.MTU != 1400 {
		t.Fatalf("link has %v mtu %d, want %v mtu 1400", st.Addrs, st.MTU, want)
	}
	list, err := h.client.ListVLANs(ctx, &pb.ListVLANsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetVlans()) != 1 || list.GetVlans()[0].GetSubnet() != "10.9.0.0/24" || list.GetVlans()[0].GetNatEnabled() {
		t.Fatalf("list after change: %v", list)
	}
	// The old subnet is free again for another network.
	if _, err := h.client.CreateVLAN(ctx, create(200, "172.18.0.0/16")); err != nil {
		t.Fatalf("old subnet still held: %v", err)
	}
}

func TestCreateVLANRejectsAndChangesNothing(t *testing.T) {
	h := newTestHarness(t)
	ctx := context.Background()
	if _, err := h.client.CreateVLAN(ctx, create(100, "172.18.0.0/16")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		req  *pb.CreateVLANRequest
		code codes.Code
		msg  string
	}{
		{"vlan out of range", create(4095, "10.0.0.0/24"), codes.InvalidArgument, "out of range"},
		{"malformed subnet", create(300, "10.0.0.0/33"), codes.InvalidArgument, "not a CIDR"},
		{"gateway outside", &pb.CreateVLANRequest{VlanId: 300, Subnet: "10.0.0.0/24", Gateway: "10.0.1.1"}, codes.InvalidArgument, "not inside subnet"},
		{"mtu above parent", &pb.CreateVLANRequest{VlanId: 300, Subnet: "10.0.0.0/24", Mtu: 9000}, codes.InvalidArgument, "mtu 9000"},
		{"overlaps uplink", create(300, "192.168.64.0/25"), codes.InvalidArgument, "overlaps the uplink"},
		{"overlaps network 100", create(300, "172.18.5.0/24"), codes.AlreadyExists, "VLAN 100"},
		{"changing 100 onto bad gateway", &pb.CreateVLANRequest{VlanId: 100, Subnet: "172.18.0.0/16", Gateway: "172.18.255.255"}, codes.InvalidArgument, "broadcast"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.client.CreateVLAN(ctx, tt.req)
			wantCode(t, err, tt.code, tt.msg)
			stored := h.storedNetworks()
			if len(stored) != 1 || stored[0].VLAN != 100 || stored[0].Gateway.String() != "172.18.0.1" {
				t.Fatalf("store changed by a rejected request: %+v", stored)
			}
			if names := h.links.Names(); !slices.Equal(names, []string{"eth0.100"}) {
				t.Fatalf("kernel changed by a rejected request: %v", names)
			}
		})
	}
}

func TestFailedKernelChangeRollsBack(t *testing.T) {
	h := newTestHarness(t)
	ctx := context.Background()
	if _, err := h.client.CreateVLAN(ctx, create(100, "172.18.0.0/16")); err != nil {
		t.Fatal(err)
	}
	h.links.FailEnsure[100] = errors.New("injected netlink failure")
	h.links.FailEnsure[200] = errors.New("injected netlink failure")
	_, err := h.client.CreateVLAN(ctx, create(200, "172.19.0.0/16"))
	wantCode(t, err, codes.Internal, "injected netlink failure")
	_, err = h.client.CreateVLAN(ctx, create(100, "172.20.0.0/16"))
	wantCode(t, err, codes.Internal, "injected netlink failure")

	stored := h.storedNetworks()
	if len(stored) != 1 || stored[0].Subnet.String() != "172.18.0.0/16" {
		t.Fatalf("failed changes were kept in the store: %+v", stored)
	}
	if names := h.links.Names(); !slices.Equal(names, []string{"eth0.100"}) {
		t.Fatalf("failed create left links behind: %v", names)
	}
	health, err := h.client.GetHealth(ctx, &pb.HealthRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if health.GetHealthy() || !strings.Contains(health.GetStatus(), "injected netlink failure") {
		t.Fatalf("health after failure: %v", health)
	}
	clear(h.links.FailEnsure)
	if err := h.srv.Resync(); err != nil {
		t.Fatal(err)
	}
	if health, _ := h.client.GetHealth(ctx, &pb.HealthRequest{}); !health.GetHealthy() || health.GetStatus() != "ok" {
		t.Fatalf("health after successful resync: %v", health)
	}
}

func TestDeleteVLAN(t *testing.T) {
	h := newTestHarness(t)
	ctx := context.Background()
	if _, err := h.client.CreateVLAN(ctx, create(100, "172.18.0.0/16")); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		resp, err := h.client.DeleteVLAN(ctx, &pb.DeleteVLANRequest{VlanId: 100})
		if err != nil || !resp.GetSuccess() {
			t.Fatalf("delete #%d: %v %v", i+1, resp, err)
		}
	}
	if names := h.links.Names(); len(names) != 0 {
		t.Fatalf("links left after delete: %v", names)
	}
	if stored := h.storedNetworks(); len(stored) != 0 {
		t.Fatalf("store kept %v", stored)
	}
	_, err := h.client.DeleteVLAN(ctx, &pb.DeleteVLANRequest{VlanId: 0})
	wantCode(t, err, codes.InvalidArgument, "out of range")
}

func TestListVLANsMergesLiveState(t *testing.T) {
	h := newTestHarness(t)
	ctx := context.Background()
	for _, req := range []*pb.CreateVLANRequest{create(200, "172.19.0.0/16"), create(100, "172.18.0.0/16")} {
		if _, err := h.client.CreateVLAN(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	// Drift: the link of 200 vanished behind the service's back.
	if err := h.links.DeleteVLAN("eth0.200"); err != nil {
		t.Fatal(err)
	}
	list, err := h.client.ListVLANs(ctx, &pb.ListVLANsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	want := []*pb.VLANInterface{
		{VlanId: 100, InterfaceName: "eth0.100", Gateway: "172.18.0.1", Subnet: "172.18.0.0/16", MacAddress: mustStatus(t, h.links, "eth0.100").MAC, Mtu: 1500, IsUp: true, NatEnabled: true},
		{VlanId: 200, InterfaceName: "eth0.200", Gateway: "172.19.0.1", Subnet: "172.19.0.0/16", NatEnabled: true},
	}
	if len(list.GetVlans()) != len(want) {
		t.Fatalf("listed %v", list.GetVlans())
	}
	for i := range want {
		if !proto.Equal(list.GetVlans()[i], want[i]) {
			t.Errorf("entry %d: got %v, want %v", i, list.GetVlans()[i], want[i])
		}
	}
	one, err := h.client.ListVLANs(ctx, &pb.ListVLANsRequest{VlanId: 100})
	if err != nil || len(one.GetVlans()) != 1 || one.GetVlans()[0].GetVlanId() != 100 {
		t.Fatalf("ListVLANs(100) = %v, %v", one, err)
	}
	none, err := h.client.ListVLANs(ctx, &pb.ListVLANsRequest{VlanId: 300})
	if err != nil || len(none.GetVlans()) != 0 {
		t.Fatalf("ListVLANs(300) = %v, %v", none, err)
	}
}

func TestRestartConverges(t *testing.T) {
	dir := t.TempDir()
	links := testutil.NewFakeLinks(testUplink)
	h := newHarness(t, dir, links)
	ctx := context.Background()
	for _, req := range []*pb.CreateVLANRequest{create(100, "172.18.0.0/16"), create(200, "172.19.0.0/16")} {
		if _, err := h.client.CreateVLAN(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	h.stop()

	// While the service is down: an owned link is lost, an owned link that
	// is no longer desired lingers, and someone else adds a link of theirs.
	if err := links.DeleteVLAN("eth0.100"); err != nil {
		t.Fatal(err)
	}
	links.Put(link.Status{Name: "eth0.300", VLANID: 300, Owned: true})
	links.Put(link.Status{Name: "eth0.400", VLANID: 400})

	h = newHarness(t, dir, links)
	if err := h.srv.Resync(); err != nil {
		t.Fatal(err)
	}
	if got, want := links.Names(), []string{"eth0.100", "eth0.200", "eth0.400"}; !slices.Equal(got, want) {
		t.Fatalf("after restart links are %v, want %v", got, want)
	}
	if mustStatus(t, links, "eth0.400").Owned {
		t.Fatal("foreign link was adopted")
	}
	list, err := h.client.ListVLANs(ctx, &pb.ListVLANsRequest{})
	if err != nil || len(list.GetVlans()) != 2 {
		t.Fatalf("list after restart: %v %v", list, err)
	}
}

func TestForeignLinkIsNotTakenOver(t *testing.T) {
	h := newTestHarness(t)
	h.links.Put(link.Status{Name: "eth0.100", VLANID: 100})
	_, err := h.client.CreateVLAN(context.Background(), create(100, "172.18.0.0/16"))
	wantCode(t, err, codes.FailedPrecondition, "not managed by router-service")
	if mustStatus(t, h.links, "eth0.100").Owned {
		t.Fatal("foreign link was adopted")
	}
	if stored := h.storedNetworks(); len(stored) != 0 {
		t.Fatalf("store kept %v", stored)
	}
}

func TestConcurrentClients(t *testing.T) {
	h := newTestHarness(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 8 {
		wg.Go(func() {
			for i := range 8 {
				vlan := uint32(w*8 + i + 1)
				req := create(vlan, fmt.Sprintf("10.%d.0.0/16", vlan))
				if _, err := h.client.CreateVLAN(ctx, req); err != nil {
					errs <- err
					return
				}
				if _, err := h.client.ListVLANs(ctx, &pb.ListVLANsRequest{}); err != nil {
					errs <- err
					return
				}
				if i%2 == 1 {
					if _, err := h.client.DeleteVLAN(ctx, &pb.DeleteVLANRequest{VlanId: vlan}); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			if err := h.srv.Resync(); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	stored := h.storedNetworks()
	if len(stored) != 32 || len(h.links.Names()) != 32 {
		t.Fatalf("after concurrent calls: %d stored, %d links, want 32 each", len(stored), len(h.links.Names()))
	}
	for _, n := range stored {
		if n.VLAN%2 == 0 {
			t.Fatalf("VLAN %d should have been deleted", n.VLAN)
		}
	}
}

func mustStatus(t *testing.T, links *testutil.FakeLinks, name string) link.Status {
	t.Helper()
	st, ok, err := links.Status(name)
	if err != nil || !ok {
		t.Fatalf("link %s: found=%t err=%v", name, ok, err)
	}
	return st
}

func (h *harness) storedNetworks() []model.Network {
	h.t.Helper()
	st, err := h.store.Load()
	if err != nil {
		h.t.Fatal(err)
	}
	return st.Networks
}
