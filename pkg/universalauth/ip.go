package universalauth

import (
	"net/netip"
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
