package endpoint

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"os"
	"slices"

	"github.com/mdlayher/vsock"
)

// ListenOptions restrict who may connect.
type ListenOptions struct {
	// AllowRemoteTCP permits tcp endpoints on non-loopback addresses.
	AllowRemoteTCP bool
	// AllowCIDs, when not empty, is the only set of vsock peers accepted.
	AllowCIDs []uint32
}

// Listen opens a listener for e.
func Listen(e Endpoint, opts ListenOptions) (net.Listener, error) {
	switch e.Scheme {
	case VSock:
		l, err := vsock.ListenContextID(e.CID, e.Port, nil)
		if err != nil {
			return nil, fmt.Errorf("listening on %s: %w", e, err)
		}
		if len(opts.AllowCIDs) > 0 {
			return &cidFilter{Listener: l, allow: opts.AllowCIDs}, nil
		}
		return l, nil
	case Unix:
		// A socket file left by a previous run would make bind fail; a
		// non-socket at that path is someone else's and stays.
		if fi, err := os.Lstat(e.Path); err == nil && fi.Mode().Type() == fs.ModeSocket {
			if err := os.Remove(e.Path); err != nil {
				return nil, fmt.Errorf("removing stale socket %s: %w", e.Path, err)
			}
		}
		l, err := net.Listen("unix", e.Path)
		if err != nil {
			return nil, fmt.Errorf("listening on %s: %w", e, err)
		}
		if err := os.Chmod(e.Path, 0o600); err != nil {
			l.Close()
			return nil, fmt.Errorf("restricting %s to its owner: %w", e.Path, err)
		}
		return l, nil
	default:
		if !e.IsLoopback() && !opts.AllowRemoteTCP {
			return nil, fmt.Errorf("refusing to listen on non-loopback %s: the API has no authentication; pass --allow-remote-tcp to override", e)
		}
		l, err := net.Listen("tcp", e.HostPort)
		if err != nil {
			return nil, fmt.Errorf("listening on %s: %w", e, err)
		}
		return l, nil
	}
}

// Dial connects to e.
func Dial(ctx context.Context, e Endpoint) (net.Conn, error) {
	if e.Scheme == VSock {
		cid := e.CID
		if cid == AnyCID {
			cid = LocalCID
		}
		return vsock.DialContext(ctx, cid, e.Port, nil)
	}
	network, addr := e.netAddr()
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// cidFilter drops vsock connections from peers outside the allow list.
type cidFilter struct {
	net.Listener
	allow []uint32
}

func (f *cidFilter) Accept() (net.Conn, error) {
	for {
		c, err := f.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if a, ok := c.RemoteAddr().(*vsock.Addr); ok && slices.Contains(f.allow, a.ContextID) {
			return c, nil
		}
		c.Close()
	}
}
