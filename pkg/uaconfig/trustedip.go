package uaconfig

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// IP address families, as they appear in the "type" field.
const (
	IPv4 = "ipv4"
	IPv6 = "ipv6"
)

// TrustedIP is one entry of a trusted-IP list. Prefix is nil when the entry
// was a plain address: the Terraform provider rebuilds "address/prefix"
// whenever a prefix is present, so adding one to a plain IP breaks its plans.
type TrustedIP struct {
	Address string
	Type    string
	Prefix  *int
}

// ParseTrustedIP parses a plain IPv4/IPv6 address or a CIDR block. Host bits
// are kept as given. Hostnames, zones, leading-zero octets, and prefixes that
// are empty, non-numeric (such as "/8x") or out of range are refused with
// ErrInvalidIP.
func ParseTrustedIP(s string) (TrustedIP, error) {
	s = strings.TrimSpace(s)
	addrText, prefixText, isCIDR := strings.Cut(s, "/")
	addr, err := netip.ParseAddr(addrText)
	if err != nil || addr.Zone() != "" {
		return TrustedIP{}, ErrInvalidIP
	}
	ip := TrustedIP{Address: addrText, Type: IPv4}
	if !addr.Is4() {
		ip.Type = IPv6
	}
	if !isCIDR {
		return ip, nil
	}
	bits, ok := parsePrefixLen(prefixText)
	if !ok || bits > addr.BitLen() {
		return TrustedIP{}, ErrInvalidIP
	}
	ip.Prefix = &bits
	return ip, nil
}

// parsePrefixLen accepts 1 to 3 ASCII digits only: strconv.Atoi alone would
// let "+8" through, and Infisical's parseInt lets "8x" through.
func parsePrefixLen(s string) (int, bool) {
	if len(s) == 0 || len(s) > 3 {
		return 0, false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// Net returns the network the entry admits, masked: a plain address is a
// network of one. An IPv4-mapped IPv6 entry (::ffff:10.0.0.0/104) is the
// IPv4 network it maps, since callers' addresses are unmapped. It is the
// zero Prefix if the entry does not parse, which no stored entry does
// (they are validated on the way in).
func (ip TrustedIP) Net() netip.Prefix {
	addr, err := netip.ParseAddr(ip.Address)
	if err != nil {
		return netip.Prefix{}
	}
	bits := addr.BitLen()
	if ip.Prefix != nil {
		bits = *ip.Prefix
	}
	if addr.Is4In6() && bits >= 96 {
		addr, bits = addr.Unmap(), bits-96
	}
	p, _ := addr.Prefix(bits)
	return p
}

// TrustedIPs is a trusted-IP list: a caller is admitted if its address is
// in any entry's network.
type TrustedIPs []TrustedIP

// AnyIP is the default list, which admits every address.
func AnyIP() TrustedIPs {
	zero := func() *int { n := 0; return &n }
	return TrustedIPs{{Address: "0.0.0.0", Type: IPv4, Prefix: zero()}, {Address: "::", Type: IPv6, Prefix: zero()}}
}

// Allows reports whether addr, the platform's view of the caller, is in one
// of the list's networks. An IPv4 caller matches IPv4 entries only, as
// net/netip does; IPv4-mapped IPv6 callers are unmapped first.
func (l TrustedIPs) Allows(addr netip.Addr) bool {
	addr = addr.Unmap().WithZone("")
	for _, ip := range l {
		if ip.Net().Contains(addr) {
			return true
		}
	}
	return false
}

// AllowsAll reports whether the list admits every address, IPv4 and IPv6.
func (l TrustedIPs) AllowsAll() bool {
	nets := l.Nets()
	return slices.Contains(nets, "0.0.0.0/0") && slices.Contains(nets, "::/0")
}

// Nets returns the list's networks as canonical masked CIDR strings, sorted
// and without duplicates. Together with CallerNets it lets a database test
// membership with set operations: l.Allows(a) exactly when CallerNets(a)
// and l.Nets() share an element.
func (l TrustedIPs) Nets() []string {
	out := make([]string, 0, len(l))
	for _, ip := range l {
		if n := ip.Net(); n.IsValid() {
			out = append(out, n.String())
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// CallerNets returns every network that contains addr, masked, from /0 to
// the full address: 33 for IPv4, 129 for IPv6.
func CallerNets(addr netip.Addr) []string {
	addr = addr.Unmap().WithZone("")
	if !addr.IsValid() {
		return nil
	}
	out := make([]string, addr.BitLen()+1)
	for bits := range out {
		p, _ := addr.Prefix(bits)
		out[bits] = p.String()
	}
	return out
}
