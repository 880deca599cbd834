package uaconfig

import (
	"errors"
	"net/netip"
	"slices"
	"testing"
)

func TestParseTrustedIP(t *testing.T) {
	p := func(n int) *int { return &n }
	valid := []struct {
		in   string
		want TrustedIP
	}{
		{"192.168.1.5", TrustedIP{"192.168.1.5", IPv4, nil}},
		{"  10.0.0.0/8 ", TrustedIP{"10.0.0.0", IPv4, p(8)}},
		{"10.1.2.3/8", TrustedIP{"10.1.2.3", IPv4, p(8)}}, // host bits kept as given
		{"0.0.0.0/0", TrustedIP{"0.0.0.0", IPv4, p(0)}},
		{"1.2.3.4/32", TrustedIP{"1.2.3.4", IPv4, p(32)}},
		{"::", TrustedIP{"::", IPv6, nil}},
		{"::/0", TrustedIP{"::", IPv6, p(0)}},
		{"2001:db8::/32", TrustedIP{"2001:db8::", IPv6, p(32)}},
		{"2001:DB8::1/128", TrustedIP{"2001:DB8::1", IPv6, p(128)}}, // text kept for Terraform's diff
		{"::ffff:10.0.0.1", TrustedIP{"::ffff:10.0.0.1", IPv6, nil}},
		{"10.0.0.0/08", TrustedIP{"10.0.0.0", IPv4, p(8)}},
	}
	for _, tc := range valid {
		got, err := ParseTrustedIP(tc.in)
		if err != nil {
			t.Errorf("ParseTrustedIP(%q) = %v, want ok", tc.in, err)
			continue
		}
		if got.Address != tc.want.Address || got.Type != tc.want.Type || (got.Prefix == nil) != (tc.want.Prefix == nil) ||
			(got.Prefix != nil && *got.Prefix != *tc.want.Prefix) {
			t.Errorf("ParseTrustedIP(%q) = %+v (prefix %v), want %+v", tc.in, got, got.Prefix, tc.want)
		}
	}

	invalid := []string{
		"", " ", "example.com", "localhost", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/8x",
		"10.0.0.0/x", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/0008", "256.1.1.1", "1.2.3", "1.2.3.4.5",
		"01.2.3.4", "fe80::1%eth0", "10.0.0.0/8/8", "10.0.0.0 /8", "/8", "1.2.3.4/ 8", "http://1.2.3.4",
	}
	for _, in := range invalid {
		if got, err := ParseTrustedIP(in); !errors.Is(err, ErrInvalidIP) {
			t.Errorf("ParseTrustedIP(%q) = %+v, %v; want ErrInvalidIP", in, got, err)
		}
	}
}

// FuzzParseTrustedIP: the parser never panics, and whatever it accepts
// is a valid address whose prefix fits its family.
func FuzzParseTrustedIP(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "::/0", "192.168.1.5", "10.0.0.0/8x", "2001:db8::1/128", "1.2.3.4/33", " ::1 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ip, err := ParseTrustedIP(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidIP) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		max := 32
		if ip.Type == IPv6 {
			max = 128
		}
		if ip.Prefix != nil && (*ip.Prefix < 0 || *ip.Prefix > max) {
			t.Fatalf("%q: prefix %d out of range for %s", s, *ip.Prefix, ip.Type)
		}
		if again, err := ParseTrustedIP(ip.Address); err != nil || again.Type != ip.Type {
			t.Fatalf("%q: accepted address %q does not parse again: %v", s, ip.Address, err)
		}
	})
}

func TestAllows(t *testing.T) {
	list := TrustedIPs{}
	for _, s := range []string{"10.1.2.3/8", "192.168.1.5", "2001:db8::/32", "::ffff:172.16.0.1"} {
		ip, err := ParseTrustedIP(s)
		if err != nil {
			t.Fatal(err)
		}
		list = append(list, ip)
	}
	for addr, want := range map[string]bool{
		"10.0.0.1": true, "10.255.255.255": true, "11.0.0.1": false, // host bits of 10.1.2.3/8 do not matter
		"192.168.1.5": true, "192.168.1.6": false,
		"2001:db8::1": true, "2001:db9::1": false,
		"::ffff:10.0.0.1": true, // a mapped caller is unmapped first
		"172.16.0.1":      true, // and a mapped entry is the IPv4 address it maps
		"172.16.0.2":      false,
	} {
		if got := list.Allows(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Allows(%s) = %v, want %v", addr, got, want)
		}
	}
	if !AnyIP().Allows(netip.MustParseAddr("203.0.113.9")) || !AnyIP().Allows(netip.MustParseAddr("2001:db8::9")) {
		t.Error("AnyIP refuses an address")
	}
	if got := list.Nets(); !slices.Equal(got, []string{"10.0.0.0/8", "172.16.0.1/32", "192.168.1.5/32", "2001:db8::/32"}) {
		t.Errorf("Nets() = %v", got)
	}
}

// FuzzNetsAgreeWithAllows: the set form a database checks (CallerNets
// against Nets) admits exactly the callers Allows admits.
func FuzzNetsAgreeWithAllows(f *testing.F) {
	f.Add("10.0.0.0/8", "10.1.2.3")
	f.Add("192.168.1.5", "192.168.1.5")
	f.Add("2001:db8::/32", "2001:db8::1")
	f.Add("::/0", "::ffff:1.2.3.4")
	f.Add("0.0.0.0/0", "::1")
	f.Fuzz(func(t *testing.T, entry, caller string) {
		ip, err := ParseTrustedIP(entry)
		addr, err2 := netip.ParseAddr(caller)
		if err != nil || err2 != nil {
			return
		}
		list := TrustedIPs{ip}
		nets := list.Nets()
		inSet := slices.ContainsFunc(CallerNets(addr), func(n string) bool { return slices.Contains(nets, n) })
		if inSet != list.Allows(addr) {
			t.Fatalf("entry %q, caller %q: sets say %v, Allows says %v (nets %v)", entry, caller, inSet, list.Allows(addr), nets)
		}
	})
}
