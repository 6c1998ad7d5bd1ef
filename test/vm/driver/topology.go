package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/router-service/router-service/api/router"
	"github.com/router-service/router-service/internal/endpoint"
)

// The real iproute2: busybox's ip applet lacks netns and VLAN support.
const ipCmd = "/usr/sbin/ip"

const (
	routerBin   = "/usr/local/bin/router-service"
	stateDir    = "/run/router-service"
	unixSocket  = "/run/router-service.sock"
	daemonLog   = "/tmp/router-service.log"
	servicePort = 50052
)

// ip runs iproute2 and returns its combined output.
func ip(args ...string) (string, error) {
	return run(ipCmd, args...)
}

// inNS runs a command inside a named network namespace.
func inNS(ns string, args ...string) (string, error) {
	return run(ipCmd, append([]string{"netns", "exec", ns}, args...)...)
}

func run(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

func mustAll(cmds ...[]string) error {
	for _, c := range cmds {
		if _, err := ip(c...); err != nil {
			return err
		}
	}
	return nil
}

// buildFabric creates eth0 in the router's namespace and the bridge it is
// plugged into.
func buildFabric() error {
	return mustAll(
		[]string{"netns", "add", "fabric"},
		[]string{"link", "add", "eth0", "type", "veth", "peer", "name", "uplink", "netns", "fabric"},
		[]string{"-n", "fabric", "link", "add", "br0", "type", "bridge"},
		[]string{"-n", "fabric", "link", "set", "uplink", "master", "br0", "up"},
		[]string{"-n", "fabric", "link", "set", "br0", "up"},
		[]string{"link", "set", "eth0", "up"},
	)
}

// addContainer creates a container namespace whose eth0 is plugged into the
// fabric bridge.
func addContainer(name string) error {
	return mustAll(
		[]string{"netns", "add", name},
		[]string{"link", "add", "p-" + name, "netns", "fabric", "type", "veth", "peer", "name", "eth0", "netns", name},
		[]string{"-n", "fabric", "link", "set", "p-" + name, "master", "br0", "up"},
		[]string{"-n", name, "link", "set", "lo", "up"},
		[]string{"-n", name, "link", "set", "eth0", "up"},
	)
}

// setContainerAddr puts addr on the container's eth0.<vlan>, or on eth0
// itself (untagged) when vlan is 0, removing whatever it had before.
func setContainerAddr(name string, vlan int, addr string) error {
	out, err := ip("-n", name, "-o", "link", "show")
	if err != nil {
		return err
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && strings.HasPrefix(f[1], "eth0.") {
			if _, err := ip("-n", name, "link", "del", strings.SplitN(strings.TrimSuffix(f[1], ":"), "@", 2)[0]); err != nil {
				return err
			}
		}
	}
	if _, err := ip("-n", name, "addr", "flush", "dev", "eth0"); err != nil {
		return err
	}
	dev := "eth0"
	if vlan != 0 {
		dev = fmt.Sprintf("eth0.%d", vlan)
		if _, err := ip("-n", name, "link", "add", "link", "eth0", "name", dev, "type", "vlan", "id", fmt.Sprint(vlan)); err != nil {
			return err
		}
	}
	return mustAll(
		[]string{"-n", name, "addr", "add", addr, "dev", dev},
		[]string{"-n", name, "link", "set", dev, "up"},
	)
}

// ping reports whether ns reaches dst; it tries a few times because the
// first packet also waits for ARP.
func ping(ns, dst string) bool {
	for range 3 {
		if _, err := inNS(ns, "/bin/ping", "-c", "1", "-W", "2", dst); err == nil {
			return true
		}
	}
	return false
}

// arpAnswered reports whether anyone answers ARP for dst on the container's
// device. Unlike ping, this catches a router that answers for its gateway
// address on the wrong VLAN even when its IP replies would go astray.
func arpAnswered(ns, dev, dst string) bool {
	_, err := inNS(ns, "/bin/arping", "-f", "-c", "3", "-w", "3", "-I", dev, dst)
	return err == nil
}

// daemon is a running router-service.
type daemon struct {
	cmd *exec.Cmd
}

// resyncInterval is short so that the scenario can watch drift repair.
const resyncInterval = "2s"

func startDaemon(extra ...string) (*daemon, error) {
	logf, err := os.OpenFile(daemonLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	args := append([]string{"--parent", "eth0", "--state-dir", stateDir, "--resync-interval", resyncInterval,
		"--listen", fmt.Sprintf("vsock://:%d", servicePort), "--listen", "unix://" + unixSocket}, extra...)
	cmd := exec.Command(routerBin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting router-service: %w", err)
	}
	logf.Close()
	return &daemon{cmd: cmd}, nil
}

// stop ends the daemon gracefully and waits for it.
func (d *daemon) stop() error {
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		d.cmd.Process.Kill()
		return errors.New("router-service did not stop within 20s of SIGTERM")
	}
}

// dialVsock connects a client over vsock loopback, as the runtime's daemon
// would from the host, and waits until the service answers.
func dialVsock() (pb.RouterServiceClient, func(), error) {
	e := endpoint.Endpoint{Scheme: endpoint.VSock, CID: endpoint.LocalCID, Port: servicePort}
	conn, err := grpc.NewClient("passthrough:///"+e.String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return endpoint.Dial(ctx, e) }))
	if err != nil {
		return nil, nil, err
	}
	client := pb.NewRouterServiceClient(conn)
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := client.GetHealth(ctx, &pb.HealthRequest{}, grpc.WaitForReady(true))
		cancel()
		if err == nil {
			return client, func() { conn.Close() }, nil
		}
		if time.Now().After(deadline) {
			conn.Close()
			return nil, nil, fmt.Errorf("router-service did not answer over vsock within 60s: %w", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
