package caller

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/uauth/uauth/pkg/keyring"
)

// TestJunkTokensCostNoWaitAndFewReads: HS256 tokens with a bad signature,
// unauthenticated junk, some claiming an iat in the future, are refused at
// once, and make at most one key read per refresh interval.
func TestJunkTokensCostNoWaitAndFewReads(t *testing.T) {
	var reads atomic.Int32
	src := func(context.Context) ([][]byte, error) { reads.Add(1); return [][]byte{secret}, nil }
	ring, err := keyring.New(context.Background(), src, keyring.Secret)
	if err != nil {
		t.Fatal(err)
	}
	p := NewPlatform(ring)
	other := []byte("another-secret-0123456789abcdefXYZ")
	start := time.Now()
	for i := range 50 {
		iat := time.Now().Add(time.Hour) // the future: no refresh at all
		if i%2 == 0 {
			iat = time.Now() // now: one refresh, then refused within the interval
		}
		tok, _ := Parse(sign(t, jwt.SigningMethodHS256, other, claims(func(c jwt.MapClaims) { c["iat"] = iat.Unix() })))
		if _, err := p.Verify(context.Background(), tok); err == nil {
			t.Fatal("a token with a bad signature verified")
		}
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Fatalf("50 junk tokens took %s", d)
	}
	if n := reads.Load() - 1; n > 1 {
		t.Fatalf("%d key reads within one interval, want at most 1", n)
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
