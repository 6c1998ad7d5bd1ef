package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vishvananda/netns"
)

var nsCounter atomic.Int64

// NetNS is a throwaway network namespace, removed when the test ends.
type NetNS struct {
	Name   string
	Handle netns.NsHandle
}

// NewNetNS creates a named network namespace with iproute2, without moving
// any thread of the test process into it. It fails the test when not root:
// kernel tests must not pass by skipping.
func NewNetNS(t testing.TB) *NetNS {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("this test creates network namespaces and must run as root")
	}
	name := fmt.Sprintf("rstest-%d-%d", os.Getpid(), nsCounter.Add(1))
	Run(t, "ip", "netns", "add", name)
	h, err := netns.GetFromName(name)
	if err != nil {
		exec.Command("ip", "netns", "del", name).Run()
		t.Fatalf("opening namespace %s: %v", name, err)
	}
	t.Cleanup(func() {
		h.Close()
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("deleting namespace %s: %v: %s", name, err, out)
		}
	})
	Run(t, "ip", "-n", name, "link", "set", "lo", "up")
	return &NetNS{Name: name, Handle: h}
}

// Run runs a command and fails the test with its output if it fails.
func Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// IP runs iproute2 inside the namespace.
func (n *NetNS) IP(t testing.TB, args ...string) string {
	t.Helper()
	return Run(t, "ip", append([]string{"-n", n.Name}, args...)...)
}
