// Command routerctl operates router-service over its gRPC API.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "github.com/router-service/router-service/api/router"
	"github.com/router-service/router-service/internal/endpoint"
)

const usage = `usage: routerctl [--addr URL] [--json] [--timeout D] COMMAND

Commands:
  status                              health, networks, NAT, DNS and port mappings at a glance
  health                              service health
  vlan create ID --subnet CIDR [--gateway IP] [--name NAME] [--mtu N] [--nat=false] [--internal]
  vlan delete ID                      delete a network and everything on it
  vlan list [ID]                      networks with their live link state
  nat add ID [--source CIDR]          masquerade the network's subnet (or another source subnet)
  nat remove ID [--source CIDR]       stop masquerading it (without --source: all NAT of the network)
  dns set ID [--domain D] [--replace] [NAME=IP ...]   add or update names the gateway answers
  dns remove ID NAME...               remove names
  port add --vlan ID --container-ip IP --container-port N --host-port N [--protocol tcp|udp] [--host-ip IP]
  port remove --host-port N [--protocol tcp|udp] [--host-ip IP]
  port list [ID]                      port mappings, of one network or all

Global flags:
  --addr URL     vsock://CID:PORT, unix:///PATH or tcp://HOST:PORT (default vsock://1:50052)
  --json         print responses as JSON
  --timeout D    per-call timeout (default 10s)
`

// cli carries the global flags and the connection to the service.
type cli struct {
	client  pb.RouterServiceClient
	json    bool
	timeout time.Duration
	out     io.Writer
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		if st, ok := status.FromError(err); ok {
			fmt.Fprintf(os.Stderr, "routerctl: %s: %s\n", st.Code(), st.Message())
		} else {
			fmt.Fprintln(os.Stderr, "routerctl:", err)
		}
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("routerctl", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(os.Stderr, usage) }
	addr := fs.String("addr", "vsock://1:50052", "service address")
	asJSON := fs.Bool("json", false, "print JSON")
	timeout := fs.Duration("timeout", 10*time.Second, "per-call timeout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errors.New("no command given")
	}
	e, err := endpoint.Parse(*addr)
	if err != nil {
		return err
	}
	conn, err := grpc.NewClient("passthrough:///"+e.String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return endpoint.Dial(ctx, e) }))
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", e, err)
	}
	defer conn.Close()
	c := &cli{client: pb.NewRouterServiceClient(conn), json: *asJSON, timeout: *timeout, out: out}
	return c.dispatch(fs.Args())
}

func (c *cli) dispatch(args []string) error {
	commands := map[string]func([]string) error{
		"status":      c.status,
		"health":      c.health,
		"vlan create": c.vlanCreate,
		"vlan delete": c.vlanDelete,
		"vlan list":   c.vlanList,
		"nat add":     c.natAdd,
		"nat remove":  c.natRemove,
		"dns set":     c.dnsSet,
		"dns remove":  c.dnsRemove,
		"port add":    c.portAdd,
		"port remove": c.portRemove,
		"port list":   c.portList,
	}
	if cmd, ok := commands[args[0]]; ok {
		return cmd(args[1:])
	}
	if len(args) > 1 {
		if cmd, ok := commands[args[0]+" "+args[1]]; ok {
			return cmd(args[2:])
		}
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", strings.Join(args, " "))
}

// flags returns a subcommand's flag set; --json is accepted after the
// subcommand too, where people tend to type it.
func (c *cli) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.BoolVar(&c.json, "json", c.json, "print JSON")
	return fs
}

func (c *cli) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), c.timeout)
}

// parseWithID parses "ID [flags]" or "[flags] ID [flags]". Go's flag
// package stops at the first positional argument, so the ID is taken out
// and parsing resumes after it; nothing is silently ignored.
func parseWithID(fs *flag.FlagSet, args []string, required bool) (uint32, error) {
	var idArg string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		idArg, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return 0, err
	}
	if idArg == "" && fs.NArg() > 0 {
		idArg = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return 0, err
		}
	}
	if fs.NArg() > 0 {
		return 0, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if idArg == "" {
		if required {
			return 0, errors.New("a VLAN id is required")
		}
		return 0, nil
	}
	id, err := strconv.ParseUint(idArg, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("VLAN id %q is not a number", idArg)
	}
	return uint32(id), nil
}

// uint32Flag defines a flag that rejects values beyond uint32 instead of
// letting them wrap around (4294967376 would otherwise become 80).
func uint32Flag(fs *flag.FlagSet, name string, value uint32, usage string) *uint32 {
	p := new(uint32)
	*p = value
	fs.Func(name, fmt.Sprintf("%s (default %d)", usage, value), func(s string) error {
		v, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return fmt.Errorf("%q is not a number from 0 to %d", s, uint32(math.MaxUint32))
		}
		*p = uint32(v)
		return nil
	})
	return p
}

func (c *cli) health(args []string) error {
	fs := c.flags("health")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("health takes no arguments")
	}
	ctx, cancel := c.ctx()
	defer cancel()
	resp, err := c.client.GetHealth(ctx, &pb.HealthRequest{})
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(resp)
	}
	w := c.table()
	fmt.Fprintf(w, "healthy\t%t\n", resp.GetHealthy())
	fmt.Fprintf(w, "status\t%s\n", resp.GetStatus())
	fmt.Fprintf(w, "networks\t%d\n", resp.GetActiveVlans())
	fmt.Fprintf(w, "uptime\t%s\n", time.Duration(resp.GetUptimeSeconds())*time.Second)
	if err := w.Flush(); err != nil {
		return err
	}
	if !resp.GetHealthy() {
		return errors.New("service is unhealthy")
	}
	return nil
}

func (c *cli) vlanCreate(args []string) error {
	fs := c.flags("vlan create")
	subnet := fs.String("subnet", "", "IPv4 subnet in CIDR notation (required)")
	gateway := fs.String("gateway", "", "gateway address (default: first host of the subnet)")
	name := fs.String("name", "", "network name")
	mtu := uint32Flag(fs, "mtu", 0, "MTU, 0 for the parent's")
	nat := fs.Bool("nat", true, "masquerade outbound traffic")
	internal := fs.Bool("internal", false, "no route to the outside")
	id, err := parseWithID(fs, args, true)
	if err != nil {
		return err
	}
	req := &pb.CreateVLANRequest{VlanId: id, Subnet: *subnet, Gateway: *gateway, NetworkName: *name, Mtu: *mtu, Internal: *internal}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "nat" {
			req.EnableNat = proto.Bool(*nat)
		}
	})
	ctx, cancel := c.ctx()
	defer cancel()
	resp, err := c.client.CreateVLAN(ctx, req)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(resp)
	}
	fmt.Fprintf(c.out, "created VLAN %d: interface %s, MAC %s\n", id, resp.GetInterfaceName(), resp.GetMacAddress())
	return nil
}

func (c *cli) vlanDelete(args []string) error {
	id, err := parseWithID(c.flags("vlan delete"), args, true)
	if err != nil {
		return err
	}
	ctx, cancel := c.ctx()
	defer cancel()
	resp, err := c.client.DeleteVLAN(ctx, &pb.DeleteVLANRequest{VlanId: id})
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(resp)
	}
	fmt.Fprintf(c.out, "deleted VLAN %d\n", id)
	return nil
}

func (c *cli) vlanList(args []string) error {
	id, err := parseWithID(c.flags("vlan list"), args, false)
	if err != nil {
		return err
	}
	ctx, cancel := c.ctx()
	defer cancel()
	resp, err := c.client.ListVLANs(ctx, &pb.ListVLANsRequest{VlanId: id})
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(resp)
	}
	return c.printVLANs(resp.GetVlans())
}

func (c *cli) printVLANs(vlans []*pb.VLANInterface) error {
	w := c.table()
	fmt.Fprintln(w, "VLAN\tNAME\tINTERFACE\tSUBNET\tGATEWAY\tMTU\tSTATE\tNAT\tMAC")
	for _, v := range vlans {
		state := "down"
		if v.GetIsUp() {
			state = "up"
		}
		nat := onOff(v.GetNatEnabled())
		if v.GetInternal() {
			nat = "internal"
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", v.GetVlanId(), dash(v.GetNetworkName()), v.GetInterfaceName(), v.GetSubnet(),
			v.GetGateway(), v.GetMtu(), state, nat, v.GetMacAddress())
	}
	return w.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func (c *cli) table() *tabwriter.Writer {
	return tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
}

func (c *cli) printJSON(m proto.Message) error {
	b, err := protojson.MarshalOptions{Multiline: true, EmitUnpopulated: true}.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(c.out, string(b))
	return err
}

func (c *cli) status(args []string) error {
	fs := c.flags("status")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := c.ctx()
	defer cancel()
	health, err := c.client.GetHealth(ctx, &pb.HealthRequest{})
	if err != nil {
		return err
	}
	state, err := c.client.GetState(ctx, &pb.GetStateRequest{})
	if err != nil {
		return err
	}
	if c.json {
		if err := c.printJSON(health); err != nil {
			return err
		}
		return c.printJSON(state)
	}
	fmt.Fprintf(c.out, "health: %s, %d networks, %d port mappings, up %s\n\n", health.GetStatus(),
		health.GetActiveVlans(), len(state.GetPortMappings()), time.Duration(health.GetUptimeSeconds())*time.Second)
	vlans := make([]*pb.VLANInterface, 0, len(state.GetNetworks()))
	for _, n := range state.GetNetworks() {
		vlans = append(vlans, n.GetVlan())
	}
	if err := c.printVLANs(vlans); err != nil {
		return err
	}
	for _, n := range state.GetNetworks() {
		if len(n.GetNatSources()) > 0 {
			fmt.Fprintf(c.out, "\nVLAN %d also masquerades: %s\n", n.GetVlan().GetVlanId(), strings.Join(n.GetNatSources(), ", "))
		}
		if dns := n.GetDns(); dns.GetEnabled() {
			fmt.Fprintf(c.out, "\nVLAN %d DNS (domain %s):\n", n.GetVlan().GetVlanId(), dash(dns.GetDomain()))
			if err := c.printHosts(dns.GetHosts()); err != nil {
				return err
			}
		}
	}
	if len(state.GetPortMappings()) > 0 {
		fmt.Fprintln(c.out)
		return c.printPorts(state.GetPortMappings())
	}
	return nil
}

func (c *cli) printHosts(hosts map[string]string) error {
	w := c.table()
	for _, name := range slices.Sorted(maps.Keys(hosts)) {
		fmt.Fprintf(w, "  %s\t%s\n", name, hosts[name])
	}
	return w.Flush()
}

func (c *cli) natAdd(args []string) error { return c.nat("nat add", args) }

func (c *cli) natRemove(args []string) error { return c.nat("nat remove", args) }

func (c *cli) nat(name string, args []string) error {
	fs := c.flags(name)
	source := fs.String("source", "", "source subnet (default: the network's subnet)")
	id, err := parseWithID(fs, args, true)
	if err != nil {
		return err
	}
	ctx, cancel := c.ctx()
	defer cancel()
	var resp proto.Message
	if name == "nat add" {
		resp, err = c.client.ConfigureNAT(ctx, &pb.ConfigureNATRequest{VlanId: id, SourceSubnet: *source})
	} else {
		resp, err = c.client.RemoveNAT(ctx, &pb.RemoveNATRequest{VlanId: id, SourceSubnet: *source})
	}
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(resp)
	}
	switch {
	case name == "nat add" && *source == "":
		fmt.Fprintf(c.out, "VLAN %d masquerades its subnet\n", id)
	case name == "nat add":
		fmt.Fprintf(c.out, "VLAN %d masquerades %s\n", id, *source)
	case *source == "":
		fmt.Fprintf(c.out, "VLAN %d masquerades nothing\n", id)
	default:
		fmt.Fprintf(c.out, "VLAN %d no longer masquerades %s\n", id, *source)
	}
	return nil
}

// splitIDAndRest takes "ID [flags] [words...]": a leading ID, flags, then
// positional words.
func splitIDAndRest(fs *flag.FlagSet, args []string) (uint32, []string, error) {
	if len(args) == 0 {
		return 0, nil, errors.New("a VLAN id is required")
	}
	id, err := strconv.ParseUint(args[0], 10, 32)
	if err != nil {
		return 0, nil, fmt.Errorf("VLAN id %q is not a number", args[0])
	}
	if err := fs.Parse(args[1:]); err != nil {
		return 0, nil, err
	}
	return uint32(id), fs.Args(), nil
}

func (c *cli) dnsSet(args []string) error {
	fs := c.flags("dns set")
	domain := fs.String("domain", "", "DNS domain of the network")
	replace := fs.Bool("replace", false, "make the given names the complete set")
	id, words, err := splitIDAndRest(fs, args)
	if err != nil {
		return err
	}
	hosts := map[string]string{}
	for _, w := range words {
		name, ip, ok := strings.Cut(w, "=")
		if !ok {
			return fmt.Errorf("host %q: write NAME=IP", w)
		}
		hosts[name] = ip
	}
	ctx, cancel := c.ctx()
	defer cancel()
	resp, err := c.client.ConfigureDNS(ctx, &pb.ConfigureDNSRequest{VlanId: id, Domain: *domain, Hosts: hosts, ReplaceHosts: *replace})
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(resp)
	}
	fmt.Fprintf(c.out, "DNS of VLAN %d configured with %d host entries\n", id, len(hosts))
	return nil
}

func (c *cli) dnsRemove(args []string) error {
	id, names, err := splitIDAndRest(c.flags("dns remove"), args)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return errors.New("name at least one host to remove")
	}
	ctx, cancel := c.ctx()
	defer cancel()
	resp, err := c.client.RemoveDNSHosts(ctx, &pb.RemoveDNSHostsRequest{VlanId: id, Names: names})
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(resp)
	}
	fmt.Fprintf(c.out, "removed %s from VLAN %d\n", strings.Join(names, ", "), id)
	return nil
}

func (c *cli) portAdd(args []string) error {
	fs := c.flags("port add")
	vlan := uint32Flag(fs, "vlan", 0, "VLAN id of the container's network, 0 for the network holding --container-ip")
	containerIP := fs.String("container-ip", "", "container address")
	containerPort := uint32Flag(fs, "container-port", 0, "container port")
	hostPort := uint32Flag(fs, "host-port", 0, "host port to publish")
	protocol := fs.String("protocol", "tcp", "tcp or udp")
	hostIP := fs.String("host-ip", "", "host address to publish on (default: all)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	ctx, cancel := c.ctx()
	defer cancel()
	resp, err := c.client.AddPortMapping(ctx, &pb.AddPortMappingRequest{ContainerIp: *containerIP, ContainerPort: *containerPort,
		HostPort: *hostPort, Protocol: *protocol, VlanId: *vlan, HostIp: *hostIP})
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(resp)
	}
	fmt.Fprintf(c.out, "published %s:%d/%s -> %s:%d\n", hostOrAll(*hostIP), *hostPort, *protocol, *containerIP, *containerPort)
	return nil
}

func (c *cli) portRemove(args []string) error {
	fs := c.flags("port remove")
	hostPort := uint32Flag(fs, "host-port", 0, "published host port")
	protocol := fs.String("protocol", "tcp", "tcp or udp")
	hostIP := fs.String("host-ip", "", "host address it was published on (default: all)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	ctx, cancel := c.ctx()
	defer cancel()
	resp, err := c.client.RemovePortMapping(ctx, &pb.RemovePortMappingRequest{HostPort: *hostPort, Protocol: *protocol, HostIp: *hostIP})
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(resp)
	}
	fmt.Fprintf(c.out, "unpublished %s:%d/%s\n", hostOrAll(*hostIP), *hostPort, *protocol)
	return nil
}

func (c *cli) portList(args []string) error {
	id, err := parseWithID(c.flags("port list"), args, false)
	if err != nil {
		return err
	}
	ctx, cancel := c.ctx()
	defer cancel()
	state, err := c.client.GetState(ctx, &pb.GetStateRequest{VlanId: id})
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(&pb.GetStateResponse{PortMappings: state.GetPortMappings()})
	}
	return c.printPorts(state.GetPortMappings())
}

func (c *cli) printPorts(ports []*pb.PortMapping) error {
	w := c.table()
	fmt.Fprintln(w, "PROTO\tHOST\tCONTAINER\tVLAN")
	for _, m := range ports {
		fmt.Fprintf(w, "%s\t%s:%d\t%s:%d\t%d\n", m.GetProtocol(), hostOrAll(m.GetHostIp()), m.GetHostPort(),
			m.GetContainerIp(), m.GetContainerPort(), m.GetVlanId())
	}
	return w.Flush()
}

func hostOrAll(ip string) string {
	if ip == "" {
		return "*"
	}
	return ip
}
