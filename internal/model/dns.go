package model

import (
	"maps"
	"net/netip"
	"strings"
)

// DNS is a network's resolver configuration: the names its gateway answers.
type DNS struct {
	Domain string                `json:"domain,omitempty"`
	Hosts  map[string]netip.Addr `json:"hosts,omitempty"`
}

// Clone returns a deep copy.
func (d *DNS) Clone() *DNS {
	if d == nil {
		return nil
	}
	return &DNS{Domain: d.Domain, Hosts: maps.Clone(d.Hosts)}
}

// Equal reports whether two configurations are the same.
func (d *DNS) Equal(o *DNS) bool {
	if d == nil || o == nil {
		return d == o
	}
	return d.Domain == o.Domain && maps.Equal(d.Hosts, o.Hosts)
}

// DNSRequest is a ConfigureDNS request as received.
type DNSRequest struct {
	Subnet, Gateway, Domain string
	Hosts                   map[string]string
	Replace                 bool
}

// WithDNS validates req against the network and returns n with the
// resulting DNS configuration: hosts merged into the existing names, or
// replacing them when req.Replace is set.
func (n Network) WithDNS(req DNSRequest) (Network, error) {
	if req.Subnet != "" && req.Subnet != n.Subnet.String() {
		return Network{}, Invalid("subnet %s does not match VLAN %d's subnet %s", req.Subnet, n.VLAN, n.Subnet)
	}
	if req.Gateway != "" && req.Gateway != n.Gateway.String() {
		return Network{}, Invalid("gateway %s does not match VLAN %d's gateway %s", req.Gateway, n.VLAN, n.Gateway)
	}
	domain, err := normalizeDNSName(strings.TrimSuffix(req.Domain, "."), "domain")
	if req.Domain == "" {
		domain, err = "", nil
	}
	if err != nil {
		return Network{}, err
	}
	dns := &DNS{Domain: domain, Hosts: map[string]netip.Addr{}}
	if n.DNS != nil && !req.Replace {
		maps.Copy(dns.Hosts, n.DNS.Hosts)
	}
	for name, ip := range req.Hosts {
		host, err := normalizeDNSName(name, "host name")
		if err != nil {
			return Network{}, err
		}
		addr, err := netip.ParseAddr(ip)
		if err != nil {
			return Network{}, Invalid("host %s: %q is not an IP address", name, ip)
		}
		addr = addr.Unmap()
		if err := checkHostAddress(n.Subnet, addr, "host "+host+" address"); err != nil {
			return Network{}, err
		}
		dns.Hosts[host] = addr
	}
	if len(dns.Hosts) == 0 {
		dns.Hosts = nil
	}
	n.DNS = dns
	return n, nil
}

// WithoutDNSHosts returns n without the named hosts; absent names are
// ignored, invalid ones rejected.
func (n Network) WithoutDNSHosts(names []string) (Network, error) {
	if n.DNS == nil {
		return n, nil
	}
	dns := n.DNS.Clone()
	for _, name := range names {
		host, err := normalizeDNSName(name, "host name")
		if err != nil {
			return Network{}, err
		}
		delete(dns.Hosts, host)
	}
	if len(dns.Hosts) == 0 {
		dns.Hosts = nil
	}
	n.DNS = dns
	return n, nil
}

// normalizeDNSName checks that s is a valid hostname (RFC 1123: dot-separated
// labels of letters, digits and inner hyphens, 1 to 63 characters each, 253
// in all) and lowercases it, as DNS names compare case-insensitively.
func normalizeDNSName(s, what string) (string, error) {
	if s == "" || len(s) > 253 {
		return "", Invalid("%s %q must be 1 to 253 characters long", what, s)
	}
	for _, label := range strings.Split(s, ".") {
		if len(label) == 0 || len(label) > 63 {
			return "", Invalid("%s %q has an empty or over-long (>63) label", what, s)
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return "", Invalid("%s %q has a label that starts or ends with a hyphen", what, s)
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return "", Invalid("%s %q is not a valid hostname: use letters, digits, hyphens and dots", what, s)
			}
		}
	}
	return strings.ToLower(s), nil
}

// ValidateDNSNames checks names as RemoveDNSHosts receives them.
func ValidateDNSNames(names []string) error {
	for _, n := range names {
		if _, err := normalizeDNSName(n, "host name"); err != nil {
			return err
		}
	}
	return nil
}
