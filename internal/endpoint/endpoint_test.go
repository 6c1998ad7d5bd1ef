package endpoint

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Endpoint
	}{
		{"vsock://:50052", Endpoint{Scheme: VSock, CID: AnyCID, Port: 50052}},
		{"vsock://1:50052", Endpoint{Scheme: VSock, CID: 1, Port: 50052}},
		{"unix:///run/router-service.sock", Endpoint{Scheme: Unix, Path: "/run/router-service.sock"}},
		{"tcp://127.0.0.1:50052", Endpoint{Scheme: TCP, HostPort: "127.0.0.1:50052"}},
		{"tcp://[::1]:50052", Endpoint{Scheme: TCP, HostPort: "[::1]:50052"}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		if got.String() != tt.in {
			t.Errorf("Parse(%q).String() = %q", tt.in, got.String())
		}
	}
}

func TestParseRejects(t *testing.T) {
	for in, want := range map[string]string{
		"vsock://1":             "numeric port",
		"vsock://x:50052":       "not a number",
		"unix://relative/path":  "unix:///absolute/path",
		"tcp://localhost:50052": "IP and port",
		"http://127.0.0.1:80":   "scheme must be",
	} {
		_, err := Parse(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want error mentioning %q", in, err, want)
		}
	}
}

func TestListenRefusesRemoteTCP(t *testing.T) {
	e, err := Parse("tcp://0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(e, ListenOptions{}); err == nil || !strings.Contains(err.Error(), "--allow-remote-tcp") {
		t.Fatalf("Listen(0.0.0.0) = %v, want refusal naming --allow-remote-tcp", err)
	}
	l, err := Listen(e, ListenOptions{AllowRemoteTCP: true})
	if err != nil {
		t.Fatalf("Listen with AllowRemoteTCP: %v", err)
	}
	l.Close()
}
