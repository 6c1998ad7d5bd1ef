// Command router-service is the router of a helper VM: it serves
// router.RouterService over gRPC and turns each requested network into an
// 802.1Q VLAN link on the parent interface, with the gateway address on it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vishvananda/netns"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	pb "github.com/router-service/router-service/api/router"
	"github.com/router-service/router-service/internal/endpoint"
	"github.com/router-service/router-service/internal/link"
	"github.com/router-service/router-service/internal/model"
	"github.com/router-service/router-service/internal/reconcile"
	"github.com/router-service/router-service/internal/server"
	"github.com/router-service/router-service/internal/store"
)

const defaultPort = 50052

type config struct {
	listen         []string
	vsockPort      uint
	parent         string
	stateDir       string
	allowRemoteTCP bool
	allowCIDs      []uint32
	resync         time.Duration
	logFormat      string
	logLevel       slog.Level
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "router-service:", err)
		os.Exit(2)
	}
	log := newLogger(cfg)
	if err := run(cfg, log); err != nil {
		log.Error("router-service stopped", "err", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("router-service", flag.ContinueOnError)
	fs.Func("listen", "address to serve on, repeatable: vsock://:PORT, unix:///PATH or tcp://127.0.0.1:PORT (default vsock://:50052)", func(s string) error {
		cfg.listen = append(cfg.listen, s)
		return nil
	})
	fs.UintVar(&cfg.vsockPort, "vsock-port", defaultPort, "vsock port used when no --listen is given")
	fs.StringVar(&cfg.parent, "parent", "", "parent interface for VLAN links (default: the interface holding the IPv4 default route)")
	fs.StringVar(&cfg.stateDir, "state-dir", "/var/lib/router-service", "directory of the durable desired state")
	fs.BoolVar(&cfg.allowRemoteTCP, "allow-remote-tcp", false, "permit tcp:// listeners on non-loopback addresses (the API has no authentication)")
	fs.Func("vsock-allow-cid", "accept vsock connections only from these peer CIDs, comma-separated", func(s string) error {
		for _, f := range strings.Split(s, ",") {
			c, err := strconv.ParseUint(strings.TrimSpace(f), 10, 32)
			if err != nil {
				return fmt.Errorf("CID %q is not a number", f)
			}
			cfg.allowCIDs = append(cfg.allowCIDs, uint32(c))
		}
		return nil
	})
	fs.DurationVar(&cfg.resync, "resync-interval", 30*time.Second, "how often to repair drift between desired state and the kernel")
	fs.StringVar(&cfg.logFormat, "log-format", "text", "log format: text or json")
	fs.TextVar(&cfg.logLevel, "log-level", slog.LevelInfo, "log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if cfg.logFormat != "text" && cfg.logFormat != "json" {
		return config{}, fmt.Errorf("--log-format must be text or json, not %q", cfg.logFormat)
	}
	if cfg.vsockPort == 0 || cfg.vsockPort > 0xFFFFFFFE {
		return config{}, fmt.Errorf("--vsock-port %d is out of range", cfg.vsockPort)
	}
	if cfg.resync <= 0 {
		return config{}, fmt.Errorf("--resync-interval must be positive")
	}
	if len(cfg.listen) == 0 {
		cfg.listen = []string{fmt.Sprintf("vsock://:%d", cfg.vsockPort)}
	}
	return cfg, nil
}

func newLogger(cfg config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.logLevel}
	if cfg.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// resolveParent picks the parent interface: --parent if given, else the one
// the stored networks were built on, else the interface of the default
// route. Keeping the recorded one means a default route that moves to
// another NIC after a reboot cannot move (and so sweep away) every network.
func resolveParent(flagParent string, st *store.Store, links *link.Manager, log *slog.Logger) (model.Uplink, error) {
	recorded, err := st.Parent()
	if err != nil {
		return model.Uplink{}, err
	}
	name := flagParent
	if name == "" {
		name = recorded
	}
	uplink, err := links.Uplink(name)
	if err != nil {
		return model.Uplink{}, err
	}
	if uplink.Name != recorded {
		if recorded != "" {
			log.Warn("parent interface changed: networks move to the new parent", "from", recorded, "to", uplink.Name)
		}
		if err := st.SetParent(uplink.Name); err != nil {
			return model.Uplink{}, err
		}
	}
	return uplink, nil
}

func run(cfg config, log *slog.Logger) error {
	endpoints := make([]endpoint.Endpoint, 0, len(cfg.listen))
	for _, s := range cfg.listen {
		e, err := endpoint.Parse(s)
		if err != nil {
			return err
		}
		endpoints = append(endpoints, e)
	}
	links, err := link.NewManager(netns.None())
	if err != nil {
		return err
	}
	defer links.Close()
	st, err := store.Open(cfg.stateDir)
	if err != nil {
		return err
	}
	defer st.Close()
	uplink, err := resolveParent(cfg.parent, st, links, log)
	if err != nil {
		return err
	}
	if err := link.EnableForwarding(); err != nil {
		return err
	}
	rec := reconcile.New(links, uplink.Name, log)
	srv, err := server.New(st, rec, log)
	if err != nil {
		return err
	}
	// A failed first sync is not fatal: the service still answers, reports
	// unhealthy with the reason, and the loop keeps retrying.
	_ = srv.Resync()

	listeners := make([]net.Listener, 0, len(endpoints))
	for _, e := range endpoints {
		l, err := endpoint.Listen(e, endpoint.ListenOptions{AllowRemoteTCP: cfg.allowRemoteTCP, AllowCIDs: cfg.allowCIDs})
		if err != nil {
			for _, l := range listeners {
				l.Close()
			}
			return err
		}
		listeners = append(listeners, l)
	}

	gs := grpc.NewServer()
	pb.RegisterRouterServiceServer(gs, srv)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(gs, hs)
	hs.SetServingStatus(pb.RouterService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	reflection.Register(gs)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var wg sync.WaitGroup
	wg.Go(func() { reconcile.Loop(ctx, cfg.resync, rec.Kicks(), srv.Resync) })
	serveErr := make(chan error, len(listeners))
	for i, l := range listeners {
		wg.Go(func() {
			if err := gs.Serve(l); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
				serveErr <- fmt.Errorf("serving %s: %w", endpoints[i], err)
			}
		})
	}
	log.Info("router-service started", "parent", uplink.Name, "listen", cfg.listen, "state_dir", cfg.stateDir)

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case runErr = <-serveErr:
	}
	hs.Shutdown()
	stop()
	gs.GracefulStop()
	wg.Wait()
	return runErr
}
