package authorizer_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/uauth/uauth/pkg/accesstoken"
	"github.com/uauth/uauth/pkg/audit"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/keyring"
	"github.com/uauth/uauth/pkg/testkeys"
)

// TestARefusedTokenIsAudited: with an audit writer, a refused identity
// token is one audit record carrying the request's id and the address API
// Gateway saw, and the token's jti; without one, nothing is written.
func TestARefusedTokenIsAudited(t *testing.T) {
	e := newEnv(t)
	s := e.identity(`{"accessTokenTrustedIps": [{"ipAddress": "10.0.0.0/8"}]}`)
	e.mustDeny(s.token, ipA, "GET /orders", accesstoken.InactiveIPRefused) // no writer: no panic, no record

	var out bytes.Buffer
	e.auth.Audit = audit.NewWriter(&out)
	e.mustDeny(s.token, ipA, "GET /orders", accesstoken.InactiveIPRefused)
	var rec map[string]any
	if err := json.Unmarshal(out.Bytes(), &rec); err != nil {
		t.Fatalf("audit: %q (%v)", out.String(), err)
	}
	if rec["event"] != audit.TokenRefused || rec["outcome"] != audit.Failure || rec["reason"] != accesstoken.InactiveIPRefused ||
		rec["reqId"] != "req-1" || rec["sourceIp"] != ipA || rec["jti"] != parse(t, s.token).ID || rec["identityId"] != s.id {
		t.Fatalf("audit record %v", rec)
	}
}

// TestAnAllowedPlatformTokensContextCarriesItsExp: an allowed platform
// token's context has its identity, org, permissions and exp, as an
// identity token's does.
func TestAnAllowedPlatformTokensContextCarriesItsExp(t *testing.T) {
	e := newEnv(t)
	ring, err := keyring.New(t.Context(), keyring.Static([]byte(testkeys.PlatformSecret)), keyring.Secret)
	if err != nil {
		t.Fatal(err)
	}
	e.auth.Platform = caller.NewPlatform(ring)
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	tok, err := caller.SignPlatform([]byte(testkeys.PlatformSecret), caller.PlatformClaims{Subject: "u1", OrgID: org,
		Permissions: []caller.Permission{"orders:read", "orders:write"}, IssuedAt: time.Now(), ExpiresAt: exp})
	if err != nil {
		t.Fatal(err)
	}
	d := e.mustAllow(tok, ipA, "GET /orders/{id}")
	want := map[string]any{"identityId": "u1", "orgId": org, "permissions": "orders:read orders:write", "exp": exp.Unix()}
	if d.PrincipalID != "u1" || len(d.Context) != len(want) {
		t.Fatalf("decision %+v, want context %v", d, want)
	}
	for k, v := range want {
		if d.Context[k] != v {
			t.Errorf("context[%q] = %#v, want %#v", k, d.Context[k], v)
		}
	}
}
