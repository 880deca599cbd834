package accesstoken_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"testing"

	"github.com/uauth/uauth/pkg/accesstoken"
	"github.com/uauth/uauth/pkg/testkeys"
)

// BenchmarkRSA2048SignAlone is the RS256 signature of a token by itself:
// what a login and a renew pay beyond their DynamoDB work, the part no
// code of ours can remove.
func BenchmarkRSA2048SignAlone(b *testing.B) {
	key, err := accesstoken.ParseSigningKey(testkeys.SigningKeyPEM())
	if err != nil {
		b.Fatal(err)
	}
	digest := sha256.Sum256([]byte("header.claims"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rsa.SignPKCS1v15(nil, key.Private, crypto.SHA256, digest[:]); err != nil {
			b.Fatal(err)
		}
	}
}
