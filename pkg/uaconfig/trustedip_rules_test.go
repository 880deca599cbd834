package uaconfig

import (
	"net/netip"
	"strconv"
	"testing"
)

// TestEveryPrefixLengthInRangeParses: a prefix length is any decimal
// number from 0 to the family's bit length, every digit 0 to 9 included.
func TestEveryPrefixLengthInRangeParses(t *testing.T) {
	for addr, max := range map[string]int{"10.0.0.0": 32, "2001:db8::": 128} {
		for n := 0; n <= max; n++ {
			in := addr + "/" + strconv.Itoa(n)
			ip, err := ParseTrustedIP(in)
			if err != nil || ip.Prefix == nil || *ip.Prefix != n {
				t.Errorf("ParseTrustedIP(%q) = %+v, %v; want prefix %d", in, ip, err, n)
			}
		}
	}
}

// TestAMappedEntryIsTheIPv4NetworkItMaps: an IPv4-mapped IPv6 entry whose
// prefix covers the ::ffff:0:0/96 mapping, /96 included, is the IPv4
// network it maps, so that it admits (unmapped) IPv4 callers; a shorter
// prefix stays an IPv6 network.
func TestAMappedEntryIsTheIPv4NetworkItMaps(t *testing.T) {
	p := func(n int) *int { return &n }
	for _, tc := range []struct {
		entry TrustedIP
		want  string
	}{
		{TrustedIP{"::ffff:0.0.0.0", IPv6, p(96)}, "0.0.0.0/0"},
		{TrustedIP{"::ffff:10.0.0.0", IPv6, p(104)}, "10.0.0.0/8"},
		{TrustedIP{"::ffff:10.1.2.3", IPv6, nil}, "10.1.2.3/32"},
		{TrustedIP{"::ffff:0.0.0.0", IPv6, p(95)}, "::fffe:0:0/95"},
	} {
		if got := tc.entry.Net(); got != netip.MustParsePrefix(tc.want) {
			t.Errorf("%s/%v: Net() = %v, want %s", tc.entry.Address, tc.entry.Prefix, got, tc.want)
		}
	}
	if !(TrustedIPs{{"::ffff:0.0.0.0", IPv6, p(96)}}).Allows(netip.MustParseAddr("203.0.113.9")) {
		t.Error("::ffff:0.0.0.0/96 does not admit an IPv4 caller")
	}
}
