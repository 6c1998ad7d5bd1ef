// Command routerctl operates router-service over its gRPC API.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
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
  health                              service health
  vlan create ID --subnet CIDR [--gateway IP] [--name NAME] [--mtu N] [--nat=false]
  vlan delete ID                      delete a network and everything on it
  vlan list [ID]                      networks with their live link state

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
	switch {
	case args[0] == "health":
		return c.health(args[1:])
	case args[0] == "vlan" && len(args) > 1:
		switch args[1] {
		case "create":
			return c.vlanCreate(args[2:])
		case "delete":
			return c.vlanDelete(args[2:])
		case "list":
			return c.vlanList(args[2:])
		}
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", args)
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

// parseWithID parses "ID [flags]" or "[flags] ID": flag stops at the first
// positional argument, so a leading ID is taken off before parsing.
func parseWithID(fs *flag.FlagSet, args []string, required bool) (uint32, error) {
	var idArg string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		idArg, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return 0, err
	}
	if idArg == "" && fs.NArg() > 0 {
		idArg = fs.Arg(0)
	} else if fs.NArg() > 0 {
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
	mtu := fs.Uint("mtu", 0, "MTU (default: the parent's)")
	nat := fs.Bool("nat", true, "masquerade outbound traffic")
	id, err := parseWithID(fs, args, true)
	if err != nil {
		return err
	}
	req := &pb.CreateVLANRequest{VlanId: id, Subnet: *subnet, Gateway: *gateway, NetworkName: *name, Mtu: uint32(*mtu)}
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
	w := c.table()
	fmt.Fprintln(w, "VLAN\tINTERFACE\tSUBNET\tGATEWAY\tMTU\tSTATE\tNAT\tMAC")
	for _, v := range resp.GetVlans() {
		state := "down"
		if v.GetIsUp() {
			state = "up"
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", v.GetVlanId(), v.GetInterfaceName(), v.GetSubnet(),
			v.GetGateway(), v.GetMtu(), state, onOff(v.GetNatEnabled()), v.GetMacAddress())
	}
	return w.Flush()
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
