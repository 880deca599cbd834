// Package testkeys gives tests key material: fixed symmetric keys, and one
// RSA signing key generated per process (generating one costs ~100 ms).
package testkeys

import (
	"sync"

	"github.com/uauth/uauth/pkg/accesstoken"
	"github.com/uauth/uauth/pkg/envconfig"
	"github.com/uauth/uauth/pkg/keyring"
)

// Fixed keys for tests: the platform's HS256 key and the client-secret
// HMAC key.
const (
	PlatformSecret  = "test-platform-secret-0123456789abcdef"
	ClientSecretKey = "test-client-secret-key-0123456789abcdef"
)

// SigningKeyPEM is this process's test signing key.
var SigningKeyPEM = sync.OnceValue(func() []byte {
	b, err := accesstoken.GenerateSigningKeyPEM()
	if err != nil {
		panic(err)
	}
	return b
})

// Keys are static sources of the three keys.
func Keys() envconfig.Keys {
	return envconfig.Keys{
		Platform:     keyring.Static([]byte(PlatformSecret)),
		Signing:      keyring.Static(SigningKeyPEM()),
		ClientSecret: keyring.Static([]byte(ClientSecretKey)),
	}
}
