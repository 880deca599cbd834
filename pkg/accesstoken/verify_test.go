package accesstoken_test

import (
	"context"
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
// does not hold, some claiming an iat in the future, are refused at once,
// and make at most one key read per refresh interval.
func TestUnknownKidsCostNoWaitAndFewReads(t *testing.T) {
	var reads atomic.Int32
	src := func(context.Context) ([][]byte, error) { reads.Add(1); return [][]byte{testkeys.SigningKeyPEM()}, nil }
	ring, err := keyring.New(context.Background(), src, accesstoken.ParseSigningKey)
	if err != nil {
		t.Fatal(err)
	}
	svc := &accesstoken.Service{Signer: accesstoken.NewSigner(ring, "uauth")}
	other, err := accesstoken.ParseSigningKey(otherKeyPEM(t))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := range 50 {
		iat := time.Now().Add(time.Hour)
		if i%2 == 0 {
			iat = time.Now().Add(time.Second)
		}
		j := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": "https://uauth.example", "aud": "uauth",
			"sub": "s", "iat": iat.Unix(), "exp": time.Now().Add(time.Hour).Unix()})
		j.Header["kid"] = other.Public.KeyID
		raw, _ := j.SignedString(other.Private)
		tok, _ := caller.Parse(raw)
		if _, err := svc.Verify(context.Background(), tok, "https://uauth.example"); err == nil {
			t.Fatal("a token with an unknown kid verified")
		}
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Fatalf("50 tokens with unknown kids took %s", d)
	}
	if n := reads.Load() - 1; n > 1 {
		t.Fatalf("%d key reads within one interval, want at most 1", n)
	}
}

var otherKey []byte

func otherKeyPEM(t *testing.T) []byte {
	t.Helper()
	if otherKey == nil {
		b, err := accesstoken.GenerateSigningKeyPEM()
		if err != nil {
			t.Fatal(err)
		}
		otherKey = b
	}
	return otherKey
}
