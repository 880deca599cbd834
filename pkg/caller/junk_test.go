package caller

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/uauth/uauth/pkg/keyring"
)

// TestJunkTokensCostNoWaitAndFewReads: HS256 tokens with a bad signature,
// unauthenticated junk, are refused at once. One that claims an iat in the
// future causes no key read; one within the leeway causes at most one read
// per MinInterval, and the others in that interval are refused rather than
// made to wait for it.
func TestJunkTokensCostNoWaitAndFewReads(t *testing.T) {
	var reads atomic.Int32
	src := func(context.Context) ([][]byte, error) { reads.Add(1); return [][]byte{secret}, nil }
	ring, err := keyring.New(context.Background(), src, keyring.Secret)
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
	p := NewPlatform(ring)
	p.Now = now
	other := []byte("another-secret-0123456789abcdefXYZ")
	junk := func(iat time.Time) string {
		return sign(t, jwt.SigningMethodHS256, other, claims(func(c jwt.MapClaims) {
			c["iat"], c["exp"] = iat.Unix(), iat.Add(time.Hour).Unix()
		}))
	}
	// A verifier that waits fails in seconds, at this deadline, not minutes.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	flood := func(raw string) time.Duration {
		start := time.Now()
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				tok, err := Parse(raw)
				if err == nil {
					_, err = p.Verify(ctx, tok)
				}
				if err == nil {
					t.Error("a token with a bad signature verified")
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
		if d := flood(junk(now().Add(Leeway / 2))); d > 500*time.Millisecond {
			t.Errorf("interval %d: 50 tokens issued within the leeway took %s", i, d)
		}
		if n := reads.Load() - before; n != 1 {
			t.Errorf("interval %d: tokens issued within the leeway caused %d key reads, want 1", i, n)
		}
		set(now().Add(ring.MinInterval))
	}
}

func TestAFutureIssuedAtIsRefused(t *testing.T) {
	a := newAuthenticator(t)
	now := time.Now()
	for iat, ok := range map[time.Time]bool{now: true, now.Add(Leeway): true, now.Add(Leeway + 2*time.Second): false} {
		tok, _ := Parse(sign(t, jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["iat"] = iat.Unix() })))
		if _, err := a.Platform.Verify(context.Background(), tok); (err == nil) != ok {
			t.Errorf("iat now+%s: %v, want ok=%v", iat.Sub(now).Round(time.Second), err, ok)
		}
	}
}
