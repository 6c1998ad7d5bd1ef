// Package integration runs the real router-service binary in throwaway
// network namespaces and drives it the way operators and clients do: with
// routerctl, grpcurl and a gRPC client. VLAN links themselves need the
// helper-VM scenario (test/vm); here the namespace's kernel may lack 802.1Q.
package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/router-service/router-service/internal/testutil"
)

var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "router-service-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	for _, cmd := range []string{"router-service", "routerctl"} {
		build := exec.Command("go", "build", "-o", filepath.Join(binDir, cmd), "../../cmd/"+cmd)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building %s: %v\n%s", cmd, err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(binDir)
	os.Exit(code)
}

// daemon is router-service running in its own namespace, serving on a unix
// socket, with eth0 (one end of a veth) as its parent.
type daemon struct {
	ns       *testutil.NetNS
	sock     string
	stateDir string
	cmd      *exec.Cmd
	log      *bytes.Buffer
	exited   chan error
}

func newRouterNS(t *testing.T) *testutil.NetNS {
	ns := testutil.NewNetNS(t)
	ns.IP(t, "link", "add", "eth0", "type", "veth", "peer", "name", "fabric0")
	ns.IP(t, "link", "set", "eth0", "up")
	ns.IP(t, "link", "set", "fabric0", "up")
	return ns
}

func startDaemon(t *testing.T, ns *testutil.NetNS, stateDir string, extra ...string) *daemon {
	t.Helper()
	return startDaemonArgs(t, ns, stateDir, append([]string{"--parent", "eth0"}, extra...)...)
}

func startDaemonArgs(t *testing.T, ns *testutil.NetNS, stateDir string, extra ...string) *daemon {
	t.Helper()
	d := &daemon{ns: ns, sock: filepath.Join(t.TempDir(), "router.sock"), stateDir: stateDir, log: &bytes.Buffer{}, exited: make(chan error, 1)}
	args := append([]string{"netns", "exec", ns.Name, filepath.Join(binDir, "router-service"),
		"--state-dir", stateDir, "--listen", "unix://" + d.sock}, extra...)
	d.cmd = exec.Command("ip", args...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.exited <- d.cmd.Wait() }()
	t.Cleanup(func() {
		if d.cmd.ProcessState == nil {
			d.cmd.Process.Kill()
			<-d.exited
		}
		if t.Failed() {
			t.Logf("router-service log:\n%s", d.log)
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := d.routerctl("health"); err == nil {
			return d
		}
		select {
		case err := <-d.exited:
			t.Fatalf("router-service exited early: %v\n%s", err, d.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("router-service did not answer within 15s:\n%s", d.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (d *daemon) stop(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.exited:
		if err != nil {
			t.Fatalf("router-service exited with %v after SIGTERM:\n%s", err, d.log)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("router-service did not stop within 15s of SIGTERM")
	}
}

func (d *daemon) routerctl(args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(binDir, "routerctl"), append([]string{"--addr", "unix://" + d.sock}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// grpcurlPath finds grpcurl on PATH or where `go install` puts it. Its
// absence fails the test: CI installs it.
func grpcurlPath(t *testing.T) string {
	if p, err := exec.LookPath("grpcurl"); err == nil {
		return p
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "grpcurl")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("grpcurl not found: go install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.3")
	return ""
}

func TestGrpcurlReflectionAndHealth(t *testing.T) {
	d := startDaemon(t, newRouterNS(t), t.TempDir())
	grpcurl := grpcurlPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	out, err := exec.CommandContext(ctx, grpcurl, "-plaintext", "unix://"+d.sock, "list").CombinedOutput()
	if err != nil {
		t.Fatalf("grpcurl list: %v\n%s", err, out)
	}
	for _, svc := range []string{"router.RouterService", "grpc.health.v1.Health"} {
		if !strings.Contains(string(out), svc) {
			t.Errorf("reflection does not list %s:\n%s", svc, out)
		}
	}
	out, err = exec.CommandContext(ctx, grpcurl, "-plaintext", "unix://"+d.sock, "describe", "router.CreateVLANRequest").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "optional bool enable_nat = 6;") {
		t.Errorf("describe CreateVLANRequest: %v\n%s", err, out)
	}

	out, err = exec.CommandContext(ctx, grpcurl, "-plaintext", "unix://"+d.sock, "router.RouterService/GetHealth").CombinedOutput()
	if err != nil {
		t.Fatalf("grpcurl GetHealth: %v\n%s", err, out)
	}
	var health struct {
		Healthy bool
		Status  string
	}
	if err := json.Unmarshal(out, &health); err != nil || !health.Healthy || health.Status != "ok" {
		t.Fatalf("GetHealth answered %s (%v)", out, err)
	}

	out, err = exec.CommandContext(ctx, grpcurl, "-plaintext", "unix://"+d.sock, "grpc.health.v1.Health/Check").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SERVING") {
		t.Fatalf("grpc.health.v1 Check: %v\n%s", err, out)
	}
}

func TestRouterctlReportsErrors(t *testing.T) {
	d := startDaemon(t, newRouterNS(t), t.TempDir())
	out, err := d.routerctl("vlan", "create", "5000", "--subnet", "10.0.0.0/24")
	if err == nil || !strings.Contains(out, "InvalidArgument: vlan_id 5000 is out of range") {
		t.Fatalf("routerctl on invalid input: err=%v out=%q", err, out)
	}
	out, err = d.routerctl("vlan", "list", "--json")
	if err != nil {
		t.Fatalf("vlan list --json: %v %s", err, out)
	}
	var list struct{ Vlans []any }
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list.Vlans) != 0 {
		t.Fatalf("vlan list --json printed %q (%v)", out, err)
	}
	out, err = d.routerctl("health")
	if err != nil || !strings.Contains(out, "healthy   true") {
		t.Fatalf("routerctl health: %v\n%s", err, out)
	}
}

func TestDaemonStartup(t *testing.T) {
	ns := newRouterNS(t)
	d := startDaemon(t, ns, t.TempDir())
	fi, err := os.Stat(d.sock)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("unix socket has mode %o, want 600", perm)
	}
	if fwd := testutil.Run(t, "ip", "netns", "exec", ns.Name, "cat", "/proc/sys/net/ipv4/ip_forward"); strings.TrimSpace(fwd) != "1" {
		t.Errorf("IPv4 forwarding is %q after start, want 1", fwd)
	}
}

func TestDaemonStopsOnSIGTERMAndRestarts(t *testing.T) {
	ns := newRouterNS(t)
	state := t.TempDir()
	d := startDaemon(t, ns, state)
	d.stop(t)
	if _, err := os.Stat(d.sock); !os.IsNotExist(err) {
		t.Fatalf("socket %s left behind after shutdown: %v", d.sock, err)
	}
	// Without --parent and with no default route in the namespace, the
	// restart can only succeed by keeping the recorded parent.
	startDaemonArgs(t, ns, state)
}

func TestDaemonRejectsBadConfiguration(t *testing.T) {
	ns := newRouterNS(t)
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"--parent", "missing0"}, "parent interface missing0"},
		{[]string{"--parent", "eth0", "--listen", "tcp://0.0.0.0:50999"}, "--allow-remote-tcp"},
		{[]string{"--parent", "eth0", "--listen", "ftp://x"}, "scheme must be vsock, unix or tcp"},
		{[]string{"--log-format", "xml"}, "--log-format must be text or json"},
	}
	for _, tt := range tests {
		args := append([]string{"netns", "exec", ns.Name, filepath.Join(binDir, "router-service"), "--state-dir", t.TempDir()}, tt.args...)
		out, err := exec.Command("ip", args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), tt.msg) {
			t.Errorf("router-service %v: err=%v, output %q does not say %q", tt.args, err, out, tt.msg)
		}
	}
}
