package model

import (
	"net/netip"
	"slices"
)

// ParseNATSource parses a ConfigureNAT/RemoveNAT source subnet. Empty means
// the network's own subnet and returns the zero prefix.
func ParseNATSource(s string) (netip.Prefix, error) {
	if s == "" {
		return netip.Prefix{}, nil
	}
	p, err := parseIPv4Network(s, "source_subnet")
	if err != nil {
		return netip.Prefix{}, err
	}
	if p.Bits() == 0 {
		return netip.Prefix{}, Invalid("source_subnet %s would masquerade every source, including the uplink's own traffic: name a specific subnet", s)
	}
	return p, nil
}

// WithNAT returns n with NAT enabled for src (zero: the network's subnet).
func (n Network) WithNAT(src netip.Prefix) Network {
	if !src.IsValid() || src == n.Subnet {
		n.NAT = true
		return n
	}
	if !slices.Contains(n.NATSources, src) {
		n.NATSources = append(slices.Clone(n.NATSources), src)
		slices.SortFunc(n.NATSources, comparePrefix)
	}
	return n
}

// WithoutNAT returns n with NAT removed for src; the zero prefix removes all
// of the network's NAT.
func (n Network) WithoutNAT(src netip.Prefix) Network {
	switch {
	case !src.IsValid():
		n.NAT, n.NATSources = false, nil
	case src == n.Subnet:
		n.NAT = false
	default:
		n.NATSources = slices.DeleteFunc(slices.Clone(n.NATSources), func(p netip.Prefix) bool { return p == src })
		if len(n.NATSources) == 0 {
			n.NATSources = nil
		}
	}
	return n
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}
