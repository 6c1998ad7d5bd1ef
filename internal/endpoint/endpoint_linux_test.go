package endpoint

import (
	"net"
	"testing"

	"github.com/mdlayher/vsock"
)

// fakeConn is a connection from a given vsock peer.
type fakeConn struct {
	net.Conn
	peer   net.Addr
	closed bool
}

func (c *fakeConn) RemoteAddr() net.Addr { return c.peer }
func (c *fakeConn) Close() error         { c.closed = true; return nil }

// fakeListener hands out queued connections, then fails.
type fakeListener struct {
	net.Listener
	queue []*fakeConn
}

func (l *fakeListener) Accept() (net.Conn, error) {
	if len(l.queue) == 0 {
		return nil, net.ErrClosed
	}
	c := l.queue[0]
	l.queue = l.queue[1:]
	return c, nil
}

func TestCIDFilterAcceptsOnlyAllowedPeers(t *testing.T) {
	host := &fakeConn{peer: &vsock.Addr{ContextID: 2, Port: 1000}}
	stranger := &fakeConn{peer: &vsock.Addr{ContextID: 7, Port: 1000}}
	notVsock := &fakeConn{peer: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}}
	l := &cidFilter{Listener: &fakeListener{queue: []*fakeConn{stranger, notVsock, host}}, allow: []uint32{2, 3}}

	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if c != host {
		t.Fatalf("accepted %v, want the host (CID 2)", c.RemoteAddr())
	}
	if !stranger.closed || !notVsock.closed || host.closed {
		t.Fatalf("closed: stranger %t, non-vsock %t, host %t", stranger.closed, notVsock.closed, host.closed)
	}
	if _, err := l.Accept(); err == nil {
		t.Fatal("Accept after the queue ran dry returned no error")
	}
}
