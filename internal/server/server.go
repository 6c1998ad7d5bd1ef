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
	"net/netip"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/router-service/router-service/api/router"
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
	ports    model.PortTable
}

// New loads the desired state from st. Call Resync to converge the kernel.
func New(st *store.Store, rec *reconcile.Reconciler, log *slog.Logger) (*Server, error) {
	state, err := st.Load()
	if err != nil {
		return nil, err
	}
	s := &Server{store: st, rec: rec, log: log, started: time.Now(),
		networks: make(map[uint16]model.Network, len(state.Networks)), ports: model.PortTable{}}
	for _, n := range state.Networks {
		s.networks[n.VLAN] = n
	}
	for _, m := range state.Ports {
		s.ports.Put(m)
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
	spec, err := model.ParseNetwork(model.NetworkRequest{
		VLAN: req.GetVlanId(), Subnet: req.GetSubnet(), Gateway: req.GetGateway(), Name: req.GetNetworkName(),
		MTU: req.GetMtu(), NAT: req.EnableNat, Internal: req.GetInternal(),
	}, up)
	if err != nil {
		return nil, toStatus(err)
	}
	if err := model.CheckOverlap(spec, s.sortedNetworks()); err != nil {
		return nil, toStatus(err)
	}
	prev, existed := s.networks[spec.VLAN]
	next := model.Network{NetworkSpec: spec}
	if existed {
		if prev.NetworkSpec != spec {
			if err := prev.CheckAttachmentsFit(spec, s.networkPorts(spec.VLAN)); err != nil {
				return nil, toStatus(err)
			}
		}
		next.NATSources, next.DNS = prev.NATSources, prev.DNS
	}
	changed := !existed || !prev.Equal(next)
	if changed {
		if err := s.store.Update(func(tx *store.Tx) error { return tx.PutNetwork(next) }); err != nil {
			return nil, toStatus(err)
		}
		s.networks[spec.VLAN] = next
	}
	st, err := s.rec.EnsureNetwork(next)
	if err != nil {
		s.rollbackNetwork(spec.VLAN, prev, existed)
		return nil, toStatus(err)
	}
	if changed {
		s.log.Info("network configured", "vlan", spec.VLAN, "interface", st.Name, "subnet", spec.Subnet,
			"gateway", spec.Gateway, "mtu", st.MTU, "nat", spec.NAT, "internal", spec.Internal)
	}
	return &pb.CreateVLANResponse{Success: true, InterfaceName: st.Name, MacAddress: st.MAC}, nil
}

// rollbackNetwork restores the previous desired state of a network whose
// change could not be applied, so a failed call leaves nothing half done.
func (s *Server) rollbackNetwork(vlan uint16, prev model.Network, existed bool) {
	var err error
	if existed {
		if err = s.store.Update(func(tx *store.Tx) error { return tx.PutNetwork(prev) }); err == nil {
			s.networks[vlan] = prev
			_, err = s.rec.EnsureNetwork(prev)
		}
	} else {
		if err = s.store.Update(func(tx *store.Tx) error { return tx.DeleteNetwork(vlan) }); err == nil {
			delete(s.networks, vlan)
			err = s.rec.RemoveNetwork(vlan)
		}
	}
	if err != nil {
		s.log.Error("rolling back failed change; the next resync retries", "vlan", vlan, "err", err)
	}
}

func (s *Server) networkPorts(vlan uint16) []model.PortMapping {
	return s.ports.Select(func(m model.PortMapping) bool { return m.VLAN == vlan })
}

func (s *Server) DeleteVLAN(ctx context.Context, req *pb.DeleteVLANRequest) (*pb.DeleteVLANResponse, error) {
	if err := model.ValidateVLANID(req.GetVlanId()); err != nil {
		return nil, toStatus(err)
	}
	vlan := uint16(req.GetVlanId())
	s.mu.Lock()
	defer s.mu.Unlock()
	_, existed := s.networks[vlan]
	ports := s.networkPorts(vlan)
	if existed || len(ports) > 0 {
		err := s.store.Update(func(tx *store.Tx) error {
			for _, m := range ports {
				if err := tx.DeletePort(m.PortKey); err != nil {
					return err
				}
			}
			return tx.DeleteNetwork(vlan)
		})
		if err != nil {
			return nil, toStatus(err)
		}
		delete(s.networks, vlan)
		for _, m := range ports {
			s.ports.Delete(m.PortKey)
		}
	}
	if !existed {
		return &pb.DeleteVLANResponse{Success: true}, nil
	}
	s.log.Info("network deleted", "vlan", vlan, "port_mappings_removed", len(ports))
	// The deletion is committed: a link that cannot be removed now is
	// undesired and owned, so the resync this failure kicks removes it.
	if err := s.rec.RemoveNetwork(vlan); err != nil {
		s.log.Warn("removing the link failed; resync retries", "vlan", vlan, "err", err)
	}
	return &pb.DeleteVLANResponse{Success: true}, nil
}

// updateNetwork applies change to the network on VLAN vlan and stores the
// result if it differs. A missing network is NotFound when mustExist, and
// otherwise leaves nothing to do (removals of absent things succeed).
func (s *Server) updateNetwork(vlan uint32, mustExist bool, what string, change func(model.Network) (model.Network, error)) error {
	if err := model.ValidateVLANID(vlan); err != nil {
		return toStatus(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.networks[uint16(vlan)]
	if !ok {
		if mustExist {
			return toStatus(model.NotFound("VLAN %d does not exist: create it with CreateVLAN first", vlan))
		}
		return nil
	}
	next, err := change(n)
	if err != nil {
		return toStatus(err)
	}
	if next.Equal(n) {
		return nil
	}
	if err := s.store.Update(func(tx *store.Tx) error { return tx.PutNetwork(next) }); err != nil {
		return toStatus(err)
	}
	s.networks[n.VLAN] = next
	s.log.Info(what, "vlan", vlan, "nat", next.NATEnabled(), "nat_sources", next.NATSources, "dns", next.DNS != nil)
	return nil
}

func (s *Server) ConfigureNAT(ctx context.Context, req *pb.ConfigureNATRequest) (*pb.ConfigureNATResponse, error) {
	src, err := model.ParseNATSource(req.GetSourceSubnet())
	if err != nil {
		return nil, toStatus(err)
	}
	err = s.updateNetwork(req.GetVlanId(), true, "NAT configured", func(n model.Network) (model.Network, error) {
		if n.Internal {
			return n, model.Precondition("VLAN %d is internal: it has no route to the outside to masquerade onto", n.VLAN)
		}
		return n.WithNAT(src), nil
	})
	if err != nil {
		return nil, err
	}
	return &pb.ConfigureNATResponse{Success: true}, nil
}

func (s *Server) RemoveNAT(ctx context.Context, req *pb.RemoveNATRequest) (*pb.RemoveNATResponse, error) {
	src, err := model.ParseNATSource(req.GetSourceSubnet())
	if err != nil {
		return nil, toStatus(err)
	}
	err = s.updateNetwork(req.GetVlanId(), false, "NAT removed", func(n model.Network) (model.Network, error) {
		return n.WithoutNAT(src), nil
	})
	if err != nil {
		return nil, err
	}
	return &pb.RemoveNATResponse{Success: true}, nil
}

func (s *Server) ConfigureDNS(ctx context.Context, req *pb.ConfigureDNSRequest) (*pb.ConfigureDNSResponse, error) {
	err := s.updateNetwork(req.GetVlanId(), true, "DNS configured", func(n model.Network) (model.Network, error) {
		return n.WithDNS(model.DNSRequest{Subnet: req.GetSubnet(), Gateway: req.GetGateway(), Domain: req.GetDomain(),
			Hosts: req.GetHosts(), Replace: req.GetReplaceHosts()})
	})
	if err != nil {
		return nil, err
	}
	return &pb.ConfigureDNSResponse{Success: true}, nil
}

func (s *Server) RemoveDNSHosts(ctx context.Context, req *pb.RemoveDNSHostsRequest) (*pb.RemoveDNSHostsResponse, error) {
	if err := model.ValidateDNSNames(req.GetNames()); err != nil {
		return nil, toStatus(err)
	}
	err := s.updateNetwork(req.GetVlanId(), false, "DNS names removed", func(n model.Network) (model.Network, error) {
		return n.WithoutDNSHosts(req.GetNames())
	})
	if err != nil {
		return nil, err
	}
	return &pb.RemoveDNSHostsResponse{Success: true}, nil
}

func (s *Server) AddPortMapping(ctx context.Context, req *pb.AddPortMappingRequest) (*pb.AddPortMappingResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.portNetwork(req.GetVlanId(), req.GetContainerIp())
	if err != nil {
		return nil, toStatus(err)
	}
	m, err := model.ParsePortMapping(model.PortRequest{
		ContainerIP: req.GetContainerIp(), ContainerPort: req.GetContainerPort(), HostPort: req.GetHostPort(),
		Protocol: req.GetProtocol(), VLAN: req.GetVlanId(), HostIP: req.GetHostIp(),
	}, n.NetworkSpec)
	if err != nil {
		return nil, toStatus(err)
	}
	if err := model.CheckPortConflict(m, s.ports.InSlot(m.Slot())); err != nil {
		return nil, toStatus(err)
	}
	if _, exists := s.ports.Get(m.PortKey); !exists {
		if err := s.store.Update(func(tx *store.Tx) error { return tx.PutPort(m) }); err != nil {
			return nil, toStatus(err)
		}
		s.ports.Put(m)
		s.log.Info("port mapping added", "host", m.PortKey.String(), "target", m.Target())
	}
	return &pb.AddPortMappingResponse{Success: true}, nil
}

// portNetwork finds the network a mapping targets: by VLAN id, or, for
// clients that leave vlan_id 0, the network whose subnet holds containerIP.
func (s *Server) portNetwork(vlan uint32, containerIP string) (model.Network, error) {
	if vlan != 0 {
		if err := model.ValidateVLANID(vlan); err != nil {
			return model.Network{}, err
		}
		n, ok := s.networks[uint16(vlan)]
		if !ok {
			return model.Network{}, model.NotFound("VLAN %d does not exist: create it with CreateVLAN first", vlan)
		}
		return n, nil
	}
	ip, err := netip.ParseAddr(containerIP)
	if err != nil {
		return model.Network{}, model.Invalid("container_ip %q is not an IP address", containerIP)
	}
	for _, n := range s.networks {
		if n.Subnet.Contains(ip.Unmap()) {
			return n, nil
		}
	}
	return model.Network{}, model.NotFound("no network's subnet contains container_ip %s: pass vlan_id or create the network first", ip)
}

func (s *Server) RemovePortMapping(ctx context.Context, req *pb.RemovePortMappingRequest) (*pb.RemovePortMappingResponse, error) {
	k, err := model.ParsePortKey(req.GetProtocol(), req.GetHostPort(), req.GetHostIp())
	if err != nil {
		return nil, toStatus(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, exists := s.ports.Get(k); exists {
		if err := s.store.Update(func(tx *store.Tx) error { return tx.DeletePort(k) }); err != nil {
			return nil, toStatus(err)
		}
		s.ports.Delete(k)
		s.log.Info("port mapping removed", "host", k.String(), "target", m.Target())
	}
	return &pb.RemovePortMappingResponse{Success: true}, nil
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
		v, err := s.vlanInterface(n)
		if err != nil {
			return nil, toStatus(err)
		}
		resp.Vlans = append(resp.Vlans, v)
	}
	return resp, nil
}

func (s *Server) GetState(ctx context.Context, req *pb.GetStateRequest) (*pb.GetStateResponse, error) {
	vlan := req.GetVlanId()
	if vlan != 0 {
		if err := model.ValidateVLANID(vlan); err != nil {
			return nil, toStatus(err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	resp := &pb.GetStateResponse{}
	for _, n := range s.sortedNetworks() {
		if vlan != 0 && uint32(n.VLAN) != vlan {
			continue
		}
		v, err := s.vlanInterface(n)
		if err != nil {
			return nil, toStatus(err)
		}
		ns := &pb.NetworkState{Vlan: v}
		for _, p := range n.NATSources {
			ns.NatSources = append(ns.NatSources, p.String())
		}
		if n.DNS != nil {
			ns.Dns = &pb.DNSConfig{Enabled: true, Domain: n.DNS.Domain, Hosts: map[string]string{}}
			for name, a := range n.DNS.Hosts {
				ns.Dns.Hosts[name] = a.String()
			}
		}
		resp.Networks = append(resp.Networks, ns)
	}
	for _, m := range s.ports.Select(func(m model.PortMapping) bool { return vlan == 0 || uint32(m.VLAN) == vlan }) {
		pm := &pb.PortMapping{Protocol: m.Protocol, HostPort: uint32(m.HostPort), ContainerIp: m.ContainerIP.String(),
			ContainerPort: uint32(m.ContainerPort), VlanId: uint32(m.VLAN)}
		if m.HostIP.IsValid() {
			pm.HostIp = m.HostIP.String()
		}
		resp.PortMappings = append(resp.PortMappings, pm)
	}
	return resp, nil
}

// vlanInterface merges a network's desired state with its live link. A
// missing link reports down with no MAC, so drift is visible to operators.
func (s *Server) vlanInterface(n model.Network) (*pb.VLANInterface, error) {
	st, found, err := s.rec.Status(n.VLAN)
	if err != nil {
		return nil, err
	}
	v := &pb.VLANInterface{
		VlanId:        uint32(n.VLAN),
		InterfaceName: s.rec.InterfaceName(n.VLAN),
		Gateway:       n.Gateway.String(),
		Subnet:        n.Subnet.String(),
		NatEnabled:    n.NATEnabled(),
		Mtu:           n.MTU,
		NetworkName:   n.Name,
		Internal:      n.Internal,
	}
	if found {
		v.MacAddress = st.MAC
		v.Mtu = st.MTU
		v.IsUp = st.Up
	}
	return v, nil
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
