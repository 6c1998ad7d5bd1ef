package link

import (
	"fmt"
	"os"
	"path/filepath"
)

// sysctlRoot is where the calling process's network namespace exposes its
// sysctls.
const sysctlRoot = "/proc/sys/net/ipv4"

// EnableForwarding turns on IPv4 forwarding, without which the router routes
// nothing.
func EnableForwarding() error {
	return writeSysctl(filepath.Join(sysctlRoot, "ip_forward"), "1")
}

// Isolate makes the interface answer ARP only for its own addresses and drop
// packets whose source would not be routed back through it. Without this, the
// kernel's weak host model lets a host on one VLAN (or untagged on the parent)
// reach the gateway address of another VLAN.
func Isolate(ifname string) error {
	for key, value := range map[string]string{"arp_ignore": "1", "arp_announce": "2", "rp_filter": "1"} {
		if err := writeSysctl(filepath.Join(sysctlRoot, "conf", ifname, key), value); err != nil {
			return err
		}
	}
	return nil
}

func writeSysctl(path, value string) error {
	if cur, err := os.ReadFile(path); err == nil && string(cur) == value+"\n" {
		return nil
	}
	if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
		return fmt.Errorf("setting %s=%s: %w", path, value, err)
	}
	return nil
}

// Isolate applies the package-level Isolate to ifname. The sysctls belong to
// the calling process's namespace, not the handle's: the service runs in the
// namespace it routes for.
func (m *Manager) Isolate(ifname string) error { return Isolate(ifname) }
