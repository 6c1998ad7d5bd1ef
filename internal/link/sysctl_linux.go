package link

import (
	"fmt"
	"os"
)

// EnableForwarding turns on IPv4 forwarding in the calling process's
// namespace, without which the router routes nothing.
func EnableForwarding() error {
	const path = "/proc/sys/net/ipv4/ip_forward"
	if cur, err := os.ReadFile(path); err == nil && string(cur) == "1\n" {
		return nil
	}
	if err := os.WriteFile(path, []byte("1"), 0o644); err != nil {
		return fmt.Errorf("enabling IPv4 forwarding: %w", err)
	}
	return nil
}
