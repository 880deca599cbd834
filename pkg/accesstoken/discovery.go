package accesstoken

import (
	"context"
	"encoding/json"
)

// Discovery is the OpenID discovery document: where a verifier, such as an
// API Gateway JWT authorizer, finds the issuer and the keys.
func Discovery(issuer string) ([]byte, error) {
	return json.Marshal(map[string]any{
		"issuer":                                issuer,
		"jwks_uri":                              issuer + "/.well-known/jwks.json",
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"subject_types_supported":               []string{"public"},
		"response_types_supported":              []string{"id_token"},
		"claims_supported":                      []string{"iss", "aud", "sub", "exp", "iat", "jti", "auth_time", "orgId", "actorType"},
	})
}

// JWKSFor is the current and previous public keys as a JWKS.
func (s *Signer) JWKSFor(ctx context.Context) ([]byte, error) {
	return JWKS(s.Keys.Keys(ctx))
}
