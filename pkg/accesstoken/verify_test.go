package accesstoken_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/uauth/uauth/pkg/accesstoken"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/keyring"
	"github.com/uauth/uauth/pkg/testkeys"
)

// TestUnknownKidsCostNoWaitAndFewReads: RS256 tokens naming a key uauth
// does not hold, unauthenticated junk, are refused at once. One that
// claims an iat in the future causes no key read; one within the leeway
// causes at most one read per MinInterval, and the others in that interval
// are refused rather than made to wait for it.
func TestUnknownKidsCostNoWaitAndFewReads(t *testing.T) {
	var reads atomic.Int32
	src := func(context.Context) ([][]byte, error) { reads.Add(1); return [][]byte{testkeys.SigningKeyPEM()}, nil }
	ring, err := keyring.New(context.Background(), src, accesstoken.ParseSigningKey)
	if err != nil {
		t.Fatal(err)
	}
	// One clock for the ring and the verifier, a minute after the ring's
	// first read: a refresh is due.
	var clk atomic.Pointer[time.Time]
	set := func(at time.Time) { clk.Store(&at) }
	now := func() time.Time { return *clk.Load() }
	set(time.Now().Add(time.Minute).Truncate(time.Second))
	ring.Now = now
	svc := &accesstoken.Service{Signer: accesstoken.NewSigner(ring, "uauth"), Now: now}
	key := ring.Keys(context.Background())[0]
	// Signed with uauth's key, but naming another: the kid is all that
	// matters, as the signature is never reached.
	junk := func(iat time.Time) string {
		j := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": issuer, "aud": "uauth",
			"sub": "s", "iat": iat.Unix(), "exp": iat.Add(time.Hour).Unix()})
		j.Header["kid"] = "not-" + key.Public.KeyID
		raw, err := j.SignedString(key.Private)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	// A verifier that waits fails in seconds, at this deadline, not minutes.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	flood := func(raw string) time.Duration {
		start := time.Now()
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				tok, err := caller.Parse(raw)
				if err == nil {
					_, err = svc.Verify(ctx, tok, issuer)
				}
				if err == nil {
					t.Error("a token with an unknown kid verified")
				}
			})
		}
		wg.Wait()
		return time.Since(start)
	}

	before := reads.Load()
	if d := flood(junk(now().Add(time.Hour))); d > 500*time.Millisecond {
		t.Errorf("50 tokens issued in the future took %s", d)
	}
	if n := reads.Load() - before; n != 0 {
		t.Errorf("tokens issued in the future caused %d key reads, want 0", n)
	}
	for i := range 2 {
		before := reads.Load()
		if d := flood(junk(now().Add(caller.Leeway / 2))); d > 500*time.Millisecond {
			t.Errorf("interval %d: 50 tokens issued within the leeway took %s", i, d)
		}
		if n := reads.Load() - before; n != 1 {
			t.Errorf("interval %d: tokens issued within the leeway caused %d key reads, want 1", i, n)
		}
		set(now().Add(ring.MinInterval))
	}
}
