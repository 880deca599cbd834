package accesstoken_test

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/uauth/uauth/pkg/accesstoken"
	"github.com/uauth/uauth/pkg/testkeys"
)

// TestParseSigningKeyReadsPKCS1AndPKCS8: a signing key is read from PEM in
// either form, and the same key has the same kid in both; a PKCS#1 block
// that does not hold a key is refused.
func TestParseSigningKeyReadsPKCS1AndPKCS8(t *testing.T) {
	pkcs8, err := accesstoken.ParseSigningKey(testkeys.SigningKeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	pkcs1PEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(pkcs8.Private)})
	pkcs1, err := accesstoken.ParseSigningKey(pkcs1PEM)
	if err != nil {
		t.Fatalf("PKCS#1: %v", err)
	}
	if !pkcs1.Private.Equal(pkcs8.Private) || pkcs1.Public.KeyID != pkcs8.Public.KeyID || pkcs1.Public.KeyID == "" {
		t.Fatalf("PKCS#1 kid %q, PKCS#8 kid %q", pkcs1.Public.KeyID, pkcs8.Public.KeyID)
	}
	if pub, ok := pkcs1.Public.Key.(*rsa.PublicKey); !ok || !pub.Equal(&pkcs8.Private.PublicKey) {
		t.Fatalf("public half %T", pkcs1.Public.Key)
	}

	for name, b := range map[string][]byte{
		"no PEM":         []byte("not a key"),
		"corrupt PKCS#1": pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte("junk")}),
		"corrupt PKCS#8": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("junk")}),
		"a public key":   pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&pkcs8.Private.PublicKey)}),
	} {
		if k, err := accesstoken.ParseSigningKey(b); err == nil || !strings.HasPrefix(err.Error(), "signing key: ") {
			t.Errorf("%s: key %v, err %v", name, k, err)
		}
	}
}
