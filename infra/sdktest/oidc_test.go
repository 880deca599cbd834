package sdktest

import (
	"context"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
)

// TestGoOIDCVerifiesTokensOffline is docs/api.md's offline verifier: a Go
// service that finds uauth's keys through OpenID discovery with
// github.com/coreos/go-oidc/v3 and verifies an identity token, as it would
// any OIDC provider's. It checks the signature (by kid), iss, aud and exp,
// and nothing else: a revoked token still verifies offline, which is the
// trade-off docs/api.md's table states.
func TestGoOIDCVerifiesTokensOffline(t *testing.T) {
	s := newStack(t)
	clientID, secret := s.configure(`{}`)
	_, login := s.do("", "POST", "/api/v1/auth/universal-auth/login", `{"clientId":"`+clientID+`","clientSecret":"`+secret+`"}`)
	tok := login["accessToken"].(string)

	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, s.url) // GET /.well-known/openid-configuration, then the JWKS
	if err != nil {
		t.Fatal(err)
	}
	verifier := provider.Verifier(&oidc.Config{ClientID: "uauth", SupportedSigningAlgs: []string{oidc.RS256}})
	idt, err := verifier.Verify(ctx, tok)
	if err != nil {
		t.Fatalf("go-oidc refused a uauth token: %v", err)
	}
	var claims struct {
		OrgID    string `json:"orgId"`
		ClientID string `json:"clientId"`
	}
	if err := idt.Claims(&claims); err != nil || idt.Subject != s.identity || idt.Issuer != s.url || claims.OrgID != org || claims.ClientID != clientID {
		t.Fatalf("claims: sub %q iss %q %+v (%v)", idt.Subject, idt.Issuer, claims, err)
	}

	// What offline verification cannot see: revoked, the token still verifies.
	s.do("", "POST", "/api/v1/auth/token/revoke", `{"accessToken":"`+tok+`"}`)
	if _, err := verifier.Verify(ctx, tok); err != nil {
		t.Fatalf("offline verification of a revoked token: %v (it has no way to know)", err)
	}
	// What it does check: another audience, a tampered payload.
	if _, err := provider.Verifier(&oidc.Config{ClientID: "another-api"}).Verify(ctx, tok); err == nil {
		t.Fatal("a token for another audience verified")
	}
	parts := strings.Split(tok, ".")
	if _, err := verifier.Verify(ctx, parts[0]+"."+parts[1]+"x."+parts[2]); err == nil {
		t.Fatal("a tampered token verified")
	}
}
