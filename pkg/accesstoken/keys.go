package accesstoken

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
)

// MinKeyBits is the smallest RSA key accepted for signing.
const MinKeyBits = 2048

// SigningKey is one version of uauth's token signing key: the private key
// and its public half as a JWK, whose kid is its RFC 7638 thumbprint, so
// that the same key has the same kid on every instance with no
// coordination.
type SigningKey struct {
	Private *rsa.PrivateKey
	Public  JWK
}

// JWK is an RSA public key as RFC 7517 writes it. It is written by hand
// rather than with a JOSE library: an RSA JWK is four strings, and the
// library's JWE machinery would more than double what the API's binary
// links for it (tests still check the output with go-jose).
type JWK struct {
	KeyType   string `json:"kty"`
	Use       string `json:"use"`
	Algorithm string `json:"alg"`
	KeyID     string `json:"kid"`
	N         string `json:"n"`
	E         string `json:"e"`
}

func publicJWK(k *rsa.PublicKey) JWK {
	b64 := base64.RawURLEncoding.EncodeToString
	jwk := JWK{KeyType: "RSA", Use: "sig", Algorithm: "RS256",
		N: b64(k.N.Bytes()), E: b64(big.NewInt(int64(k.E)).Bytes())}
	// RFC 7638: the SHA-256 of the required members, in lexicographic
	// order, with no whitespace. The base64url alphabet needs no escaping.
	thumb := sha256.Sum256([]byte(`{"e":"` + jwk.E + `","kty":"RSA","n":"` + jwk.N + `"}`))
	jwk.KeyID = b64(thumb[:])
	return jwk
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
	return &SigningKey{Private: priv, Public: publicJWK(&priv.PublicKey)}, nil
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
	set := struct {
		Keys []JWK `json:"keys"`
	}{make([]JWK, len(keys))}
	for i, k := range keys {
		set.Keys[i] = k.Public
	}
	return json.Marshal(set)
}
