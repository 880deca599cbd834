package accesstoken

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/go-jose/go-jose/v4"
)

// MinKeyBits is the smallest RSA key accepted for signing.
const MinKeyBits = 2048

// SigningKey is one version of uauth's token signing key: the private key
// and its public half as a JWK, whose kid is its RFC 7638 thumbprint, so
// that the same key has the same kid on every instance with no
// coordination.
type SigningKey struct {
	Private *rsa.PrivateKey
	Public  jose.JSONWebKey
}

// ParseSigningKey reads an RSA private key in PEM (PKCS#8 or PKCS#1), as
// Secrets Manager or .local/ holds it. Keys under MinKeyBits are refused.
func ParseSigningKey(b []byte) (*SigningKey, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("signing key: no PEM block")
	}
	var priv *rsa.PrivateKey
	switch block.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("signing key: %w", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("signing key: %T is not an RSA key", k)
		}
		priv = rk
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("signing key: %w", err)
		}
		priv = k
	default:
		return nil, fmt.Errorf("signing key: PEM block %q is not a private key", block.Type)
	}
	if bits := priv.N.BitLen(); bits < MinKeyBits {
		return nil, fmt.Errorf("signing key: %d bits, fewer than the %d required", bits, MinKeyBits)
	}
	pub := jose.JSONWebKey{Key: &priv.PublicKey, Algorithm: "RS256", Use: "sig"}
	thumb, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	pub.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	return &SigningKey{Private: priv, Public: pub}, nil
}

// GenerateSigningKeyPEM makes a new 2048-bit key in PKCS#8 PEM: what the
// local stack keeps in .local/ and a rotation puts in Secrets Manager.
func GenerateSigningKeyPEM() ([]byte, error) {
	k, err := rsa.GenerateKey(rand.Reader, MinKeyBits)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// JWKS is the public half of keys as an RFC 7517 key set, current first.
func JWKS(keys []*SigningKey) ([]byte, error) {
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, len(keys))}
	for i, k := range keys {
		set.Keys[i] = k.Public
	}
	return json.Marshal(set)
}
