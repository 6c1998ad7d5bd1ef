// Package server implements router.RouterService: each handler validates
// its request, persists the desired state, then asks the reconciler to
// converge the kernel. Failures become gRPC status errors with a message a
// person can act on; successes always set success=true for existing clients.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/router-service/router-service/api/router"
	"github.com/router-service/router-service/internal/link"
	"github.com/router-service/router-service/internal/model"
	"github.com/router-service/router-service/internal/reconcile"
	"github.com/router-service/router-service/internal/store"
)

// Server serves router.RouterService.
type Server struct {
	pb.UnimplementedRouterServiceServer

	store   *store.Store
	rec     *reconcile.Reconciler
	log     *slog.Logger
	started time.Time

	// mu serialises every change of desired state together with its
	// reconcile, and the periodic resync, so that a resync never acts on a
	// snapshot that a concurrent call has already changed.
	mu       sync.Mutex
	networks map[uint16]model.Network
}

// New loads the desired state from st. Call Resync to converge the kernel.
func New(st *store.Store, rec *reconcile.Reconciler, log *slog.Logger) (*Server, error) {
	nets, err := st.Networks()
	if err != nil {
		return nil, err
	}
	s := &Server{store: st, rec: rec, log: log, started: time.Now(), networks: make(map[uint16]model.Network, len(nets))}
	for _, n := range nets {
		s.networks[n.VLAN] = n
	}
	return s, nil
}

// Resync converges the kernel to the whole desired state.
func (s *Server) Resync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.rec.Sync(s.sortedNetworks()); err != nil {
		s.log.Warn("reconcile failed", "err", err)
		return err
	}
	return nil
}

func (s *Server) sortedNetworks() []model.Network {
	out := make([]model.Network, 0, len(s.networks))
	for _, n := range s.networks {
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b model.Network) int { return int(a.VLAN) - int(b.VLAN) })
	return out
}

func (s *Server) CreateVLAN(ctx context.Context, req *pb.CreateVLANRequest) (*pb.CreateVLANResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	up, err := s.rec.Uplink()
	if err != nil {
		return nil, toStatus(fmt.Errorf("reading parent interface: %w", err))
	}
	n, err := model.ParseNetwork(model.NetworkRequest{
		VLAN: req.GetVlanId(), Subnet: req.GetSubnet(), Gateway: req.GetGateway(),
		Name: req.GetNetworkName(), MTU: req.GetMtu(), NAT: req.EnableNat,
	}, up)
	if err != nil {
		return nil, toStatus(err)
	}
	if err := model.CheckOverlap(n, s.sortedNetworks()); err != nil {
		return nil, toStatus(err)
	}
	prev, existed := s.networks[n.VLAN]
	if !existed || prev != n {
		if err := s.store.PutNetwork(n); err != nil {
			return nil, toStatus(err)
		}
		s.networks[n.VLAN] = n
	}
	st, err := s.rec.EnsureNetwork(n)
	if err != nil {
		s.rollbackNetwork(n.VLAN, prev, existed)
		return nil, toStatus(err)
	}
	if !existed || prev != n {
		s.log.Info("network configured", "vlan", n.VLAN, "interface", st.Name, "subnet", n.Subnet, "gateway", n.Gateway, "mtu", st.MTU, "nat", n.NAT)
	}
	return &pb.CreateVLANResponse{Success: true, InterfaceName: st.Name, MacAddress: st.MAC}, nil
}

// rollbackNetwork restores the previous desired state of a network whose
// change could not be applied, so a failed call leaves nothing half done.
func (s *Server) rollbackNetwork(vlan uint16, prev model.Network, existed bool) {
	var err error
	if existed {
		if err = s.store.PutNetwork(prev); err == nil {
			s.networks[vlan] = prev
			_, err = s.rec.EnsureNetwork(prev)
		}
	} else {
		if err = s.store.DeleteNetwork(vlan); err == nil {
			delete(s.networks, vlan)
			err = s.rec.RemoveNetwork(vlan)
		}
	}
	if err != nil {
		s.log.Error("rolling back failed change; the next resync retries", "vlan", vlan, "err", err)
	}
}

func (s *Server) DeleteVLAN(ctx context.Context, req *pb.DeleteVLANRequest) (*pb.DeleteVLANResponse, error) {
	if err := model.ValidateVLANID(req.GetVlanId()); err != nil {
		return nil, toStatus(err)
	}
	vlan := uint16(req.GetVlanId())
	s.mu.Lock()
	defer s.mu.Unlock()
	_, existed := s.networks[vlan]
	if existed {
		if err := s.store.DeleteNetwork(vlan); err != nil {
			return nil, toStatus(err)
		}
		delete(s.networks, vlan)
	}
	if err := s.rec.RemoveNetwork(vlan); err != nil {
		return nil, toStatus(err)
	}
	if existed {
		s.log.Info("network deleted", "vlan", vlan)
	}
	return &pb.DeleteVLANResponse{Success: true}, nil
}

func (s *Server) ListVLANs(ctx context.Context, req *pb.ListVLANsRequest) (*pb.ListVLANsResponse, error) {
	if req.GetVlanId() != 0 {
		if err := model.ValidateVLANID(req.GetVlanId()); err != nil {
			return nil, toStatus(err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	resp := &pb.ListVLANsResponse{}
	for _, n := range s.sortedNetworks() {
		if req.GetVlanId() != 0 && uint32(n.VLAN) != req.GetVlanId() {
			continue
		}
		st, found, err := s.rec.Status(n.VLAN)
		if err != nil {
			return nil, toStatus(err)
		}
		resp.Vlans = append(resp.Vlans, vlanInterface(n, st, found, s.rec.InterfaceName(n.VLAN)))
	}
	return resp, nil
}

// vlanInterface merges a network's desired state with its live link. A
// missing link reports down with no MAC, so drift is visible to operators.
func vlanInterface(n model.Network, st link.Status, found bool, name string) *pb.VLANInterface {
	v := &pb.VLANInterface{
		VlanId:        uint32(n.VLAN),
		InterfaceName: name,
		Gateway:       n.Gateway.String(),
		Subnet:        n.Subnet.String(),
		NatEnabled:    n.NAT,
		Mtu:           n.MTU,
	}
	if found {
		v.MacAddress = st.MAC
		v.Mtu = st.MTU
		v.IsUp = st.Up
	}
	return v
}

func (s *Server) GetHealth(ctx context.Context, _ *pb.HealthRequest) (*pb.HealthResponse, error) {
	s.mu.Lock()
	active := len(s.networks)
	s.mu.Unlock()
	h := s.rec.Health()
	resp := &pb.HealthResponse{
		Healthy:       h.OK,
		Status:        "ok",
		ActiveVlans:   uint32(active),
		UptimeSeconds: uint64(time.Since(s.started).Seconds()),
	}
	if !h.OK {
		resp.Status = "reconcile failed: " + h.Err
	}
	return resp, nil
}

// toStatus maps an error to a gRPC status: classified model errors keep
// their message and get their code; anything else is Internal.
func toStatus(err error) error {
	var me *model.Error
	if !errors.As(err, &me) {
		return status.Error(codes.Internal, err.Error())
	}
	code := map[model.Kind]codes.Code{
		model.KindInvalid:      codes.InvalidArgument,
		model.KindConflict:     codes.AlreadyExists,
		model.KindNotFound:     codes.NotFound,
		model.KindPrecondition: codes.FailedPrecondition,
	}[me.Kind]
	return status.Error(code, err.Error())
}
