package clientsecret_test

import (
	"bytes"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/uauth/uauth/pkg/clientsecret"
)

var (
	keyA = []byte("key-a-0123456789abcdef0123456789") // 32 bytes: the minimum
	keyB = []byte("key-b-0123456789abcdef0123456789abcdef")
)

func hasher(t *testing.T, key []byte) *clientsecret.Hasher {
	t.Helper()
	h, err := clientsecret.NewHasher(key)
	if err != nil {
		t.Fatalf("NewHasher(%d bytes): %v", len(key), err)
	}
	return h
}

var lowerHex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

func TestGenerateIs32RandomBytesAs64LowerCaseHex(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		s := clientsecret.Generate()
		if !lowerHex64.MatchString(s) {
			t.Fatalf("Generate() = %q, want 64 lower-case hex characters", s)
		}
		if b, err := hex.DecodeString(s); err != nil || len(b) != 32 {
			t.Fatalf("Generate() = %q decodes to %d bytes, %v", s, len(b), err)
		}
		if seen[s] {
			t.Fatalf("Generate() repeated %q", s)
		}
		seen[s] = true
	}
}

func TestNewHasherNeedsA256BitKey(t *testing.T) {
	for _, n := range []int{0, 1, 16, 31} {
		h, err := clientsecret.NewHasher(bytes.Repeat([]byte{'k'}, n))
		if err == nil || h != nil {
			t.Errorf("NewHasher(%d bytes) = %v, %v; want an error", n, h, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), "client secret key: ") || !strings.Contains(err.Error(), "32") {
			t.Errorf("NewHasher(%d bytes) error %q does not name the key and the minimum", n, err)
		}
	}
	for _, n := range []int{32, 33, 64} {
		if h, err := clientsecret.NewHasher(bytes.Repeat([]byte{'k'}, n)); err != nil || h == nil {
			t.Errorf("NewHasher(%d bytes) = %v, %v; want a hasher", n, h, err)
		}
	}
}

func TestMACIsAKeyedHashOfTheSecret(t *testing.T) {
	a, a2, b := hasher(t, keyA), hasher(t, keyA), hasher(t, keyB)
	secret := clientsecret.Generate()
	mac := a.MAC(secret)
	if len(mac) != 32 {
		t.Fatalf("MAC is %d bytes, want 32 (HMAC-SHA256)", len(mac))
	}
	if !bytes.Equal(a2.MAC(secret), mac) {
		t.Error("MAC differs between two hashers with the same key")
	}
	if bytes.Equal(b.MAC(secret), mac) {
		t.Error("MAC is the same under another key")
	}
	if bytes.Equal(a.MAC(clientsecret.Generate()), mac) {
		t.Error("two secrets have the same MAC")
	}
	if bytes.Contains(mac, []byte(secret)) || bytes.Contains([]byte(hex.EncodeToString(mac)), []byte(secret[:8])) {
		t.Error("the MAC shows the secret")
	}
}

var uuidV8 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestIDIsAKeyedUUIDv8(t *testing.T) {
	a, a2, b := hasher(t, keyA), hasher(t, keyA), hasher(t, keyB)
	for range 50 {
		secret := clientsecret.Generate()
		id := a.ID(secret)
		if !uuidV8.MatchString(id) {
			t.Fatalf("ID = %q, want a lower-case canonical UUID version 8", id)
		}
		u, err := uuid.Parse(id)
		if err != nil || u.Version() != 8 || u.Variant() != uuid.RFC4122 || u.String() != id {
			t.Fatalf("ID %q: %v, version %d, variant %v", id, err, u.Version(), u.Variant())
		}
		if a2.ID(secret) != id {
			t.Fatal("ID differs between two hashers with the same key")
		}
		if b.ID(secret) == id {
			t.Fatal("ID is the same under another key")
		}
		// The id uses its own label: it is not the MAC's first 16 bytes.
		mac := a.MAC(secret)
		mac[6] = mac[6]&0x0f | 0x80
		mac[8] = mac[8]&0x3f | 0x80
		if fromMAC, _ := uuid.FromBytes(mac[:16]); fromMAC.String() == id {
			t.Fatal("ID is derived from the MAC: the labels are not distinct")
		}
		if strings.Contains(strings.ReplaceAll(id, "-", ""), secret[:8]) {
			t.Fatal("the ID shows the secret")
		}
	}
	if a.ID("x") == a.ID("y") {
		t.Error("two secrets have the same ID")
	}
}

func TestMatchesOnlyTheRightSecret(t *testing.T) {
	a, b := hasher(t, keyA), hasher(t, keyB)
	secret := clientsecret.Generate()
	mac := a.MAC(secret)
	if !a.Matches(secret, mac) {
		t.Fatal("Matches(secret, its MAC) = false")
	}
	if !hasher(t, keyA).Matches(secret, mac) {
		t.Fatal("Matches is false with another hasher of the same key")
	}
	cases := map[string]struct {
		secret string
		mac    []byte
	}{
		"another secret":        {clientsecret.Generate(), mac},
		"the prefix":            {secret[:4], mac},
		"all but the last char": {secret[:63], mac},
		"upper case":            {strings.ToUpper(secret), mac},
		"empty":                 {"", mac},
		"another key's MAC":     {secret, b.MAC(secret)},
		"a truncated MAC":       {secret, mac[:31]},
		"a MAC with more bytes": {secret, append(bytes.Clone(mac), 0)},
		"an empty MAC":          {secret, nil},
		"the ID's bytes":        {secret, []byte(a.ID(secret))},
	}
	for name, c := range cases {
		if a.Matches(c.secret, c.mac) {
			t.Errorf("Matches with %s = true", name)
		}
	}
}

func TestExpired(t *testing.T) {
	created := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		ttl     int64
		now     time.Time
		expired bool
	}{
		{60, created, false},
		{60, created.Add(59 * time.Second), false},
		{60, created.Add(time.Minute - time.Nanosecond), false},
		{60, created.Add(time.Minute), true}, // createdAt+ttl is the end
		{60, created.Add(time.Minute + time.Nanosecond), true},
		{60, created.Add(24 * time.Hour), true},
		{60, created.Add(-time.Hour), false},
		{1, created.Add(time.Second - time.Nanosecond), false},
		{1, created.Add(time.Second), true},
		{315360000, created.Add(315360000*time.Second - 1), false},
		{315360000, created.Add(315360000 * time.Second), true},
		{0, created, false}, // 0 never expires
		{0, created.Add(100 * 365 * 24 * time.Hour), false},
		{0, created.Add(-time.Hour), false},
	}
	for _, c := range cases {
		s := clientsecret.Secret{TTL: c.ttl, CreatedAt: created}
		if got := s.Expired(c.now); got != c.expired {
			t.Errorf("TTL %ds, %v after creation: Expired = %v, want %v", c.ttl, c.now.Sub(created), got, c.expired)
		}
	}
}

// Expired compares instants, not clock readings in one location.
func TestExpiredAcrossLocations(t *testing.T) {
	created := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	s := clientsecret.Secret{TTL: 3600, CreatedAt: created}
	tokyo := time.FixedZone("UTC+9", 9*3600)
	if s.Expired(created.Add(time.Hour - time.Nanosecond).In(tokyo)) {
		t.Error("expired before its end, seen from another zone")
	}
	if !s.Expired(created.Add(time.Hour).In(tokyo)) {
		t.Error("not expired at its end, seen from another zone")
	}
}

func TestExhausted(t *testing.T) {
	cases := []struct {
		uses, limit int64
		exhausted   bool
	}{
		{0, 0, false}, // 0 is unlimited
		{1, 0, false},
		{1 << 40, 0, false},
		{0, 1, false},
		{1, 1, true},
		{2, 1, true},
		{4, 5, false},
		{5, 5, true},
		{6, 5, true},
		{1<<53 - 2, 1<<53 - 1, false},
		{1<<53 - 1, 1<<53 - 1, true},
	}
	for _, c := range cases {
		s := clientsecret.Secret{NumUses: c.uses, NumUsesLimit: c.limit}
		if got := s.Exhausted(); got != c.exhausted {
			t.Errorf("%d uses of %d: Exhausted = %v, want %v", c.uses, c.limit, got, c.exhausted)
		}
	}
}

func TestNotFoundErrorNamesTheID(t *testing.T) {
	err := error(&clientsecret.NotFoundError{ID: "0d6c4a8e-1b2f-8c3d-9e4f-5a6b7c8d9e0f"})
	if got, want := err.Error(), "Failed to find client secret with ID 0d6c4a8e-1b2f-8c3d-9e4f-5a6b7c8d9e0f"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
