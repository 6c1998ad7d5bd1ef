// Package endpoint parses the service's address URLs, shared by the daemon's
// --listen and routerctl's --addr:
//
//	vsock://:50052        vsock, any local CID (listen); vsock://CID:PORT to dial
//	unix:///run/router-service.sock
//	tcp://127.0.0.1:50052
package endpoint

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
)

// Scheme names the transport of an endpoint.
type Scheme string

const (
	VSock Scheme = "vsock"
	Unix  Scheme = "unix"
	TCP   Scheme = "tcp"
)

// AnyCID is VMADDR_CID_ANY: a listener bound to it accepts connections from
// the host and, through vsock loopback, from the helper VM itself.
const AnyCID = 0xFFFFFFFF

// LocalCID is VMADDR_CID_LOCAL, the vsock loopback address.
const LocalCID = 1

// Endpoint is a parsed address URL.
type Endpoint struct {
	Scheme Scheme
	// CID and Port are set for vsock.
	CID  uint32
	Port uint32
	// Path is set for unix.
	Path string
	// HostPort is set for tcp.
	HostPort string
}

func (e Endpoint) String() string {
	switch e.Scheme {
	case VSock:
		if e.CID == AnyCID {
			return fmt.Sprintf("vsock://:%d", e.Port)
		}
		return fmt.Sprintf("vsock://%d:%d", e.CID, e.Port)
	case Unix:
		return "unix://" + e.Path
	default:
		return "tcp://" + e.HostPort
	}
}

// Parse parses an address URL. A vsock URL without a CID means AnyCID.
func Parse(s string) (Endpoint, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Endpoint{}, fmt.Errorf("address %q: %w", s, err)
	}
	switch Scheme(u.Scheme) {
	case VSock:
		cid := uint32(AnyCID)
		if h := u.Hostname(); h != "" {
			c, err := strconv.ParseUint(h, 10, 32)
			if err != nil {
				return Endpoint{}, fmt.Errorf("address %q: CID %q is not a number", s, h)
			}
			cid = uint32(c)
		}
		port, err := strconv.ParseUint(u.Port(), 10, 32)
		if err != nil {
			return Endpoint{}, fmt.Errorf("address %q: needs a numeric port, as in vsock://:50052", s)
		}
		return Endpoint{Scheme: VSock, CID: cid, Port: uint32(port)}, nil
	case Unix:
		if u.Host != "" || u.Path == "" {
			return Endpoint{}, fmt.Errorf("address %q: write unix sockets as unix:///absolute/path", s)
		}
		return Endpoint{Scheme: Unix, Path: u.Path}, nil
	case TCP:
		if _, err := netip.ParseAddrPort(u.Host); err != nil {
			return Endpoint{}, fmt.Errorf("address %q: needs an IP and port, as in tcp://127.0.0.1:50052", s)
		}
		return Endpoint{Scheme: TCP, HostPort: u.Host}, nil
	}
	return Endpoint{}, fmt.Errorf("address %q: scheme must be vsock, unix or tcp", s)
}

// IsLoopback reports whether a tcp endpoint only accepts local connections.
func (e Endpoint) IsLoopback() bool {
	ap, err := netip.ParseAddrPort(e.HostPort)
	return err == nil && ap.Addr().IsLoopback()
}

// Network and Address in the form net.Dial takes, for unix and tcp.
func (e Endpoint) netAddr() (string, string) {
	if e.Scheme == Unix {
		return "unix", e.Path
	}
	return "tcp", e.HostPort
}
