package caller_test

import (
	"context"
	"testing"
	"time"

	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/keyring"
)

// BenchmarkVerifyHS256 is the cost of checking a platform token, the
// check in front of every configuration request: parsing (header and
// claims decoded strictly, in one pass) and Platform.Verify. Budget: 5 µs.
func BenchmarkVerifyHS256(b *testing.B) {
	key := []byte("benchmark-platform-secret-0123456789abcdef")
	ring, err := keyring.New(context.Background(), keyring.Static(key), keyring.Secret)
	if err != nil {
		b.Fatal(err)
	}
	p := caller.NewPlatform(ring)
	now := time.Now()
	raw, err := caller.SignPlatform(key, caller.PlatformClaims{Subject: "terraform", OrgID: "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa",
		ActorType: caller.ActorUser, Permissions: []caller.Permission{caller.IdentityEditAuth, caller.IdentityRead},
		IssuedAt: now, ExpiresAt: now.Add(time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		tok, err := caller.Parse(raw)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}
