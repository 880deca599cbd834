package accesstoken_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/uauth/uauth/pkg/accesstoken"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/keyring"
	"github.com/uauth/uauth/pkg/testkeys"
	"github.com/uauth/uauth/pkg/uaconfig"
)

const issuer = "https://uauth.example.com"

// BenchmarkVerifyRS256 is the CPU cost of checking an identity access
// token before its one DynamoDB round trip: parsing and Service.Verify
// (key by kid, RSA-2048 signature, issuer, audience, times, claims).
// Budget: 40 µs; BenchmarkRSA2048VerifyAlone is the part no code of ours
// can remove.
func BenchmarkVerifyRS256(b *testing.B) {
	svc, raw := identityToken(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		tok, err := caller.Parse(raw)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := svc.Verify(ctx, tok, issuer); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRSA2048VerifyAlone is the signature check by itself, the floor
// of BenchmarkVerifyRS256.
func BenchmarkRSA2048VerifyAlone(b *testing.B) {
	key, err := accesstoken.ParseSigningKey(testkeys.SigningKeyPEM())
	if err != nil {
		b.Fatal(err)
	}
	digest := sha256.Sum256([]byte("header.claims"))
	sig, err := rsa.SignPKCS1v15(nil, key.Private, crypto.SHA256, digest[:])
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := rsa.VerifyPKCS1v15(&key.Private.PublicKey, crypto.SHA256, digest[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}

func identityToken(b *testing.B) (*accesstoken.Service, string) {
	ring, err := keyring.New(context.Background(), keyring.Static(testkeys.SigningKeyPEM()), accesstoken.ParseSigningKey)
	if err != nil {
		b.Fatal(err)
	}
	signer := accesstoken.NewSigner(ring, "uauth")
	now := time.Now()
	cfg := uaconfig.InfisicalDefaults()
	issued, ok, err := signer.Issue(context.Background(), issuer, accesstoken.Grant{
		IdentityID: "8c1f4b8e-5d2a-4b7e-9f3c-2a6d1e0b7c45", OrgID: "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa",
		ClientID: "5b2c8f7e-1a3d-4e6f-9b8a-7c6d5e4f3a2b", ClientSecretID: "0f9e8d7c-6b5a-8493-a827-161514131211",
		JTI: "d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6", AuthTime: now,
	}, &cfg, now)
	if err != nil || !ok {
		b.Fatalf("issue: %v %v", ok, err)
	}
	return &accesstoken.Service{Signer: signer}, issued.AccessToken
}
