package accesstoken

import (
	"context"
	"encoding/json"
)

// ClaimsSupported are the claims uauth's tokens carry (Signer.Issue),
// every one of them: numUsesLimit only on a limited token.
var ClaimsSupported = []string{"iss", "aud", "sub", "exp", "iat", "jti", "auth_time", "orgId", "actorType",
	"clientId", "clientSecretId", "numUsesLimit"}

// Discovery is the OpenID discovery document: where a verifier, such as an
// API Gateway JWT authorizer or go-oidc, finds the issuer and the keys,
// and a resource server the introspection endpoint (RFC 8414).
func Discovery(issuer string) ([]byte, error) {
	return json.Marshal(map[string]any{
		"issuer":                                issuer,
		"jwks_uri":                              issuer + "/.well-known/jwks.json",
		"introspection_endpoint":                issuer + "/api/v1/auth/token/introspect",
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"subject_types_supported":               []string{"public"},
		"response_types_supported":              []string{"id_token"},
		"claims_supported":                      ClaimsSupported,
	})
}

// JWKSFor is the current and previous public keys as a JWKS.
func (s *Signer) JWKSFor(ctx context.Context) ([]byte, error) {
	return JWKS(s.Keys.Keys(ctx))
}
