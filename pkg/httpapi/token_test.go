package httpapi_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"github.com/golang-jwt/jwt/v5"

	"github.com/uauth/uauth/pkg/accesstoken"
	"github.com/uauth/uauth/pkg/caller"
)

const issuer = "http://example.com" // httptest's requests come in on example.com

// session is an identity of orgA logged in.
type session struct{ id, client, secret, secretID, token string }

// identityToken sets up an identity with perms and a configuration from
// body, and logs it in from addr.
func (e *env) identityToken(body, addr string, perms ...caller.Permission) session {
	e.t.Helper()
	var s session
	s.id, s.client = e.attached(orgA, body, perms...)
	var data map[string]any
	s.secret, data = e.newSecret(orgA, s.id, `{}`)
	s.secretID = data["id"].(string)
	s.token = e.accessToken(s.client, s.secret, addr)
	return s
}

// TestTokensVerifyWithThePublishedKeys does what another service does with
// no shared secret: find the keys through the discovery document and check
// signature, issuer, audience and expiry, as an API Gateway JWT authorizer
// does.
func TestTokensVerifyWithThePublishedKeys(t *testing.T) {
	e := newEnv(t)
	sess := e.identityToken(`{"accessTokenTTL": 3600}`, addrA)
	id, client, tok := sess.id, sess.client, sess.token

	disc := e.do("GET", "/.well-known/openid-configuration", "", "").ok()
	if disc["issuer"] != issuer || disc["jwks_uri"] != issuer+"/.well-known/jwks.json" {
		t.Fatalf("discovery = %v", disc)
	}
	resp := e.do("GET", "/.well-known/jwks.json", "", "")
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(resp.rec.Body.Bytes(), &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("jwks %s: %v", resp.rec.Body, err)
	}
	if k := set.Keys[0]; k.Algorithm != "RS256" || k.Use != "sig" || k.KeyID == "" || !k.IsPublic() {
		t.Fatalf("jwk = %+v", k)
	}
	// The kid is the key's RFC 7638 thumbprint, as go-jose computes it.
	if thumb, err := set.Keys[0].Thumbprint(crypto.SHA256); err != nil || base64.RawURLEncoding.EncodeToString(thumb) != set.Keys[0].KeyID {
		t.Fatalf("kid %q is not the key's thumbprint (%v)", set.Keys[0].KeyID, err)
	}
	if strings.Contains(resp.rec.Body.String(), `"d"`) {
		t.Fatal("the JWKS carries private key material")
	}
	parsed, err := josejwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	keys := set.Key(parsed.Headers[0].KeyID)
	if len(keys) != 1 {
		t.Fatalf("no published key for kid %q", parsed.Headers[0].KeyID)
	}
	var std josejwt.Claims
	var custom struct {
		OrgID     string `json:"orgId"`
		ActorType string `json:"actorType"`
		ClientID  string `json:"clientId"`
	}
	if err := parsed.Claims(keys[0].Key, &std, &custom); err != nil {
		t.Fatalf("the signature does not verify with the published key: %v", err)
	}
	err = std.ValidateWithLeeway(josejwt.Expected{Issuer: issuer, AnyAudience: josejwt.Audience{"uauth"}, Time: e.clock.now()}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if std.Subject != id || custom.OrgID != orgA || custom.ActorType != "identity" || custom.ClientID != client || std.ID == "" {
		t.Fatalf("claims = %+v %+v", std, custom)
	}
	if got := std.Expiry.Time().Sub(std.IssuedAt.Time()); got != time.Hour {
		t.Fatalf("exp - iat = %v, want the TTL", got)
	}
}

func TestTokenLifetimes(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		body              string
		expiresIn, maxTTL float64
		exp               time.Duration
	}{
		{`{"accessTokenTTL": 3600, "accessTokenMaxTTL": 7200}`, 3600, 7200, time.Hour},
		{`{"accessTokenTTL": 0, "accessTokenMaxTTL": 7200}`, 7200, 7200, 2 * time.Hour},    // 0: until max TTL
		{`{"accessTokenTTL": 0, "accessTokenMaxTTL": 0}`, 7776000, 0, 90 * 24 * time.Hour}, // both 0: 90 days
		{`{"accessTokenTTL": 3600, "accessTokenMaxTTL": 0}`, 3600, 0, time.Hour},
		{`{"accessTokenPeriod": 600}`, 600, 2592000, 10 * time.Minute},
		// A version of a periodic token lives 90 days at most, as every token
		// does: revocation records and the previous signing key last that long.
		{`{"accessTokenPeriod": 31536000}`, 7776000, 2592000, 90 * 24 * time.Hour},
	} {
		id, client := e.attached(orgA, tc.body)
		secret, _ := e.newSecret(orgA, id, `{}`)
		m := e.login(client, secret, addrA).ok()
		if m["expiresIn"] != tc.expiresIn || m["accessTokenMaxTTL"] != tc.maxTTL {
			t.Errorf("%s: login = %v, want expiresIn %v and accessTokenMaxTTL %v", tc.body, m, tc.expiresIn, tc.maxTTL)
		}
		c := claimsOf(t, m["accessToken"].(string))
		if got := time.Duration(c["exp"].(float64)-c["iat"].(float64)) * time.Second; got != tc.exp {
			t.Errorf("%s: the token lives %v, want %v", tc.body, got, tc.exp)
		}
	}
}

// claimsOf decodes a JWT's claims without verifying it.
func claimsOf(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestUsingAnIdentityToken: an identity's token acts in its org, with the
// permissions its events gave it, at one DynamoDB round trip per use.
func TestUsingAnIdentityToken(t *testing.T) {
	e := newEnv(t)
	reader := e.identityToken(`{}`, addrA, caller.IdentityRead).token
	target, _ := e.attached(orgA, `{}`)
	foreign, _ := e.attached(orgB, `{}`)

	e.calls.Reset()
	e.doFrom(addrA, "GET", path(target), reader, "").config()
	if got := e.calls.Calls(); !reflect.DeepEqual(got, map[string]int{"BatchGetItem": 1, "GetItem": 1}) {
		t.Errorf("a GET with an identity token made %v, want the token's BatchGetItem and the GET's GetItem", got)
	}
	e.doFrom(addrA, "PATCH", path(target), reader, `{}`).expectError(403, "PermissionDenied", "You are not allowed to perform this action")
	e.doFrom(addrA, "GET", path(foreign), reader, "").expectError(404, "NotFound", "Identity not found")

	none := e.identityToken(`{}`, addrA).token
	e.doFrom(addrA, "GET", path(target), none, "").expectError(403, "PermissionDenied", "You are not allowed to perform this action")
}

func TestAccessTokenTrustedIPs(t *testing.T) {
	e := newEnv(t)
	tok := e.identityToken(`{"accessTokenTrustedIps":[{"ipAddress":"10.0.0.0/8"},{"ipAddress":"2001:db8::/32"}]}`, addrA, caller.IdentityRead).token
	target, _ := e.attached(orgA, `{}`)
	forbidden := "You are not allowed to access this resource from the current IP address"
	e.doFrom(addrA, "GET", path(target), tok, "", "X-Forwarded-For", "10.0.0.1").expectError(403, "ForbiddenError", forbidden)
	e.doFrom("10.9.8.7:1", "GET", path(target), tok, "").config()
	e.doFrom("[2001:db8::5]:1", "GET", path(target), tok, "").config()
	e.doFrom("[2001:db9::5]:1", "GET", path(target), tok, "").expectError(403, "ForbiddenError", forbidden)
}

// TestLimitedTokens: a token's uses are counted atomically with every other
// check of the use, in one transaction: a refused address or a missing
// permission consumes nothing.
func TestLimitedTokens(t *testing.T) {
	e := newEnv(t)
	tok := e.identityToken(`{"accessTokenNumUsesLimit": 3, "accessTokenTrustedIps":[{"ipAddress":"10.0.0.0/8"},{"ipAddress":"2001:db8::/32"}]}`, addrA, caller.IdentityRead).token
	target, _ := e.attached(orgA, `{}`)
	forbidden := "You are not allowed to access this resource from the current IP address"
	for range 3 {
		e.doFrom(addrA, "GET", path(target), tok, "").expectError(403, "ForbiddenError", forbidden)
		e.doFrom("10.0.0.1:1", "PATCH", path(target), tok, `{}`).expectError(403, "PermissionDenied", "You are not allowed to perform this action")
	}
	e.calls.Reset()
	e.doFrom("10.0.0.1:1", "GET", path(target), tok, "").config()
	if got := e.calls.Calls(); !reflect.DeepEqual(got, map[string]int{"TransactWriteItems": 1, "GetItem": 1}) {
		t.Errorf("a use of a limited token made %v, want one TransactWriteItems (and the GET's GetItem)", got)
	}
	e.doFrom("[2001:db8::1]:1", "GET", path(target), tok, "").config() // 129 networks for an IPv6 caller
	e.doFrom("10.0.0.1:1", "GET", path(target), tok, "").config()
	e.doFrom("10.0.0.1:1", "GET", path(target), tok, "").expectError(401, "UnauthorizedError", "Failed to authorize: token usage limit reached")
}

func TestConcurrentUsesOfALimitedToken(t *testing.T) {
	e := newEnv(t)
	tok := e.identityToken(`{"accessTokenNumUsesLimit": 4}`, addrA, caller.IdentityRead).token
	target, _ := e.attached(orgA, `{}`)
	statuses := parallel(12, func(int) *response { return e.doFrom(addrA, "GET", path(target), tok, "") })
	if statuses[200] != 4 || statuses[401] != 8 {
		t.Fatalf("statuses = %v, want 4 × 200 and 8 × 401", statuses)
	}
}

// TestWhatKillsAToken: revoking the token, its secret, its configuration
// or its identity.
func TestWhatKillsAToken(t *testing.T) {
	for _, limit := range []string{"0", "5"} { // the read path and the transaction path
		t.Run("accessTokenNumUsesLimit="+limit, func(t *testing.T) {
			e := newEnv(t)
			target, _ := e.attached(orgA, `{}`)
			body := `{"accessTokenNumUsesLimit": ` + limit + `}`
			admin := token(t, orgA, caller.OrgAdmin)
			use := func(tok string) *response { return e.doFrom(addrA, "GET", path(target), tok, "") }

			tok := e.identityToken(body, addrA, caller.IdentityRead).token
			use(tok).config()
			e.do("POST", "/api/v1/auth/token/revoke", "", `{"accessToken":"`+tok+`"}`).ok()
			use(tok).expectError(401, "UnauthorizedError", "Failed to authorize: token has been revoked")
			e.do("POST", "/api/v1/auth/token/revoke", "", `{"accessToken":"`+tok+`"}`).ok() // idempotent

			s := e.identityToken(body, addrA, caller.IdentityRead)
			e.do("POST", path(s.id)+"/client-secrets/"+s.secretID+"/revoke", admin, "").ok()
			use(s.token).expectError(401, "UnauthorizedError", "Failed to authorize: client secret has been revoked")
			e.login(s.client, s.secret, addrA).expectError(401, "UnauthorizedError", "Invalid credentials")

			s = e.identityToken(body, addrA, caller.IdentityRead)
			e.do("DELETE", path(s.id), admin, "").config()
			use(s.token).expectError(401, "UnauthorizedError", "Failed to authorize: auth method has been revoked")
			e.do("POST", path(s.id), admin, body).config() // a new configuration does not revive it
			use(s.token).expectError(401, "UnauthorizedError", "Failed to authorize: auth method has been revoked")

			s = e.identityToken(body, addrA, caller.IdentityRead)
			if err := e.store.DeleteIdentity(t.Context(), s.id, orgA, time.Now(), time.Now().Add(time.Hour), "test"); err != nil {
				t.Fatal(err)
			}
			use(s.token).expectError(401, "UnauthorizedError", "Failed to authorize: identity has been deleted")
		})
	}
}

func TestRenew(t *testing.T) {
	e := newEnv(t)
	tok := e.identityToken(`{"accessTokenTTL": 600, "accessTokenMaxTTL": 1000, "accessTokenNumUsesLimit": 3}`, addrA, caller.IdentityRead).token
	target, _ := e.attached(orgA, `{}`)
	e.doFrom(addrA, "GET", path(target), tok, "").config() // one use of three

	e.clock.add(300 * time.Second)
	m := e.do("POST", "/api/v1/auth/token/renew", "", `{"accessToken":"`+tok+`"}`).ok()
	if m["expiresIn"] != 600.0 || m["accessTokenMaxTTL"] != 1000.0 || m["tokenType"] != "Bearer" {
		t.Fatalf("renew = %v", m)
	}
	renewed := m["accessToken"].(string)
	old, cur := claimsOf(t, tok), claimsOf(t, renewed)
	if cur["jti"] != old["jti"] || cur["auth_time"] != old["auth_time"] || cur["exp"].(float64) != old["exp"].(float64)+300 {
		t.Fatalf("renewal changed the token's identity or lifetime: %v -> %v", old, cur)
	}
	// The uses carry over: two left.
	e.doFrom(addrA, "GET", path(target), renewed, "").config()
	e.doFrom(addrA, "GET", path(target), renewed, "").config()
	e.doFrom(addrA, "GET", path(target), renewed, "").expectError(401, "UnauthorizedError", "Failed to authorize: token usage limit reached")
	e.do("POST", "/api/v1/auth/token/renew", "", `{"accessToken":"`+renewed+`"}`).expectError(401, "UnauthorizedError", "Cannot renew exhausted access token")
}

func TestRenewStopsAtMaxTTL(t *testing.T) {
	e := newEnv(t)
	tok := e.identityToken(`{"accessTokenTTL": 600, "accessTokenMaxTTL": 1000}`, addrA).token
	renew := func(tok string) *response {
		return e.do("POST", "/api/v1/auth/token/renew", "", `{"accessToken":"`+tok+`"}`)
	}
	e.clock.add(500 * time.Second)
	m := renew(tok).ok()
	if m["expiresIn"] != 500.0 { // capped at creation + max TTL
		t.Fatalf("renew near max TTL = %v, want expiresIn 500", m)
	}
	e.clock.add(499 * time.Second)
	tok = renew(m["accessToken"].(string)).ok()["accessToken"].(string)
	e.clock.add(time.Second) // at creation + max TTL: still valid, no longer renewable
	renew(tok).expectError(401, "UnauthorizedError", "Cannot renew: identity access token has reached its max TTL")
	e.clock.add(caller.Leeway + time.Second)
	renew(tok).expectError(403, "TokenError", "Invalid token") // expired
}

func TestRenewPastMaxTTL(t *testing.T) {
	e := newEnv(t)
	// TTL 0: the token lives until max TTL, so it expires with it.
	tok := e.identityToken(`{"accessTokenTTL": 100, "accessTokenMaxTTL": 100}`, addrA).token
	e.clock.add(99 * time.Second)
	m := e.do("POST", "/api/v1/auth/token/renew", "", `{"accessToken":"`+tok+`"}`).ok()
	if m["expiresIn"] != 1.0 {
		t.Fatalf("renew = %v", m)
	}
	// A max TTL lowered after issue makes the next renewal refuse.
	id := claimsOf(t, tok)["sub"].(string)
	e.do("PATCH", path(id), token(t, orgA, caller.OrgAdmin), `{"accessTokenTTL": 10, "accessTokenMaxTTL": 50}`).config()
	e.do("POST", "/api/v1/auth/token/renew", "", `{"accessToken":"`+m["accessToken"].(string)+`"}`).
		expectError(401, "UnauthorizedError", "Cannot renew: identity access token has reached its max TTL")
}

func TestRenewAPeriodicToken(t *testing.T) {
	e := newEnv(t)
	tok := e.identityToken(`{"accessTokenPeriod": 60, "accessTokenTTL": 60, "accessTokenMaxTTL": 100}`, addrA).token
	for range 5 { // well past max TTL: a periodic token renews by its period without end
		e.clock.add(50 * time.Second)
		m := e.do("POST", "/api/v1/auth/token/renew", "", `{"accessToken":"`+tok+`"}`).ok()
		if m["expiresIn"] != 60.0 {
			t.Fatalf("renew = %v", m)
		}
		tok = m["accessToken"].(string)
	}
}

func TestRenewAndRevokeRefusals(t *testing.T) {
	e := newEnv(t)
	tok := e.identityToken(`{}`, addrA).token
	e.do("POST", "/api/v1/auth/token/revoke", "", `{"accessToken":"`+tok+`"}`).ok()
	platform := token(t, orgA, caller.OrgAdmin)
	for _, p := range []string{"/api/v1/auth/token/renew", "/api/v1/auth/token/revoke"} {
		e.do("POST", p, "", `{}`).expectError(422, "ValidationFailure", "")
		e.do("POST", p, "", `{"accessToken": 5}`).expectError(422, "ValidationFailure", "")
		e.do("POST", p, "", `{"accessToken":"garbage"}`).expectError(403, "TokenError", "Invalid token")
		e.do("POST", p, "", `{"accessToken":"`+platform+`"}`).expectError(400, "BadRequest", "Token is not an identity access token")
	}
	e.do("POST", "/api/v1/auth/token/renew", "", `{"accessToken":"`+tok+`"}`).expectError(401, "UnauthorizedError", "Cannot renew: token has been revoked")
}

// TestForgedIdentityTokens: what an attacker can make of uauth's public key
// and published claims.
func TestForgedIdentityTokens(t *testing.T) {
	e := newEnv(t)
	good := e.identityToken(`{}`, addrA, caller.OrgAdmin).token
	target, _ := e.attached(orgA, `{}`)
	claims := claimsOf(t, good)
	kid := e.signer.Keys.Keys(t.Context())[0].Public.KeyID
	pub := e.signer.Keys.Keys(t.Context())[0].Private.Public().(*rsa.PublicKey)
	der, _ := x509.MarshalPKIXPublicKey(pub)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	other, _ := accesstoken.ParseSigningKey(mustPEM(t))

	sign := func(m jwt.SigningMethod, key any, header map[string]any, mod func(jwt.MapClaims)) string {
		c := jwt.MapClaims{}
		for k, v := range claims {
			c[k] = v
		}
		if mod != nil {
			mod(c)
		}
		tk := jwt.NewWithClaims(m, c)
		for k, v := range header {
			tk.Header[k] = v
		}
		s, err := tk.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ours := func(mod func(jwt.MapClaims)) string {
		return sign(jwt.SigningMethodRS256, e.signer.Keys.Keys(t.Context())[0].Private, map[string]any{"kid": kid}, mod)
	}
	cases := map[string]string{
		// Algorithm confusion: HS256 "signed" with the public key, as a
		// verifier that trusts the header's alg would accept.
		"HS256 with the public key PEM": sign(jwt.SigningMethodHS256, pubPEM, map[string]any{"kid": kid}, nil),
		"HS256 with the public key DER": sign(jwt.SigningMethodHS256, der, map[string]any{"kid": kid}, nil),
		"another RSA key, our kid":      sign(jwt.SigningMethodRS256, other.Private, map[string]any{"kid": kid}, nil),
		"unknown kid":                   sign(jwt.SigningMethodRS256, other.Private, map[string]any{"kid": other.Public.KeyID}, nil),
		"no kid":                        sign(jwt.SigningMethodRS256, e.signer.Keys.Keys(t.Context())[0].Private, nil, nil),
		"another issuer":                ours(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }),
		"another audience":              ours(func(c jwt.MapClaims) { c["aud"] = "other" }),
		"a user's actorType":            ours(func(c jwt.MapClaims) { c["actorType"] = "user" }),
		"expired":                       ours(func(c jwt.MapClaims) { c["exp"] = e.clock.now().Add(-time.Minute).Unix() }),
		"no client secret id":           ours(func(c jwt.MapClaims) { delete(c, "clientSecretId") }),
		"orgId in another case":         ours(func(c jwt.MapClaims) { c["ORGID"] = orgB }),
		"PS256 with our key":            sign(jwt.SigningMethodPS256, e.signer.Keys.Keys(t.Context())[0].Private, map[string]any{"kid": kid}, nil),
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			e.doFrom(addrA, "GET", path(target), tok, "").expectError(403, "TokenError", "Invalid token")
		})
	}
	e.doFrom(addrA, "GET", path(target), good, "").config()
}

func mustPEM(t *testing.T) []byte {
	t.Helper()
	b, err := accesstoken.GenerateSigningKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
