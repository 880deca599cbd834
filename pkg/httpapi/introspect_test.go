package httpapi_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/uauth/uauth/pkg/caller"
)

const introspectT = "/api/v1/auth/token/introspect"

// introspect asks about tok as a resource server holding token:introspect
// in org, with the form fields extra.
func (e *env) introspect(org, tok string, extra ...string) *response {
	e.t.Helper()
	form := url.Values{"token": {tok}}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	return e.doFrom("198.51.100.9:1", "POST", introspectT, token(e.t, org, caller.TokenIntrospect), form.Encode(),
		"Content-Type", "application/x-www-form-urlencoded")
}

func TestIntrospectAnActiveToken(t *testing.T) {
	e := newEnv(t)
	s := e.identityToken(`{"accessTokenTTL": 3600, "accessTokenNumUsesLimit": 3}`, addrA, caller.IdentityRead, "orders:read")
	claims := parsed(t, s.token)
	got := e.introspect(orgA, s.token).ok()
	want := map[string]any{
		"active": true, "sub": s.id, "client_id": s.client, "org_id": orgA, "jti": claims.ID, "iss": issuer, "aud": "uauth",
		"iat": float64(claims.IssuedAt.Unix()), "exp": float64(claims.ExpiresAt.Unix()),
		"scope": "identity:read orders:read", "token_type": "Bearer", "uses_left": 3.0,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("introspection = %v\nwant %v", got, want)
	}
	// Introspection consumes no use: the token still has all three.
	for range 3 {
		e.do("GET", path(s.id), s.token, "").config()
	}
	e.do("GET", path(s.id), s.token, "").expectError(401, "UnauthorizedError", "Failed to authorize: token usage limit reached")
	e.introspect(orgA, s.token).expectInactive()

	// JSON works as well as the form; an unlimited token has no uses_left.
	u := e.identityToken(`{}`, addrA)
	r := e.doFrom("198.51.100.9:1", "POST", introspectT, token(t, orgA, caller.TokenIntrospect), `{"token": "`+u.token+`"}`).ok()
	if r["active"] != true || r["uses_left"] != nil || r["scope"] != "" {
		t.Fatalf("JSON introspection = %v", r)
	}
	if got := e.introspect(orgA, u.token).rec.Header().Get("Cache-Control"); got != "no-store" {
		t.Fatalf("Cache-Control = %q", got)
	}
}

// TestIntrospectEveryRefusal: whatever is wrong, the answer is exactly
// {"active": false}; nothing says why.
func TestIntrospectEveryRefusal(t *testing.T) {
	admin := func(e *env) string { return token(e.t, orgA, caller.OrgAdmin) }
	cases := []struct {
		name  string
		body  string
		spoil func(e *env, s session) (tok string, extra []string)
	}{
		{"revoked token", `{}`, func(e *env, s session) (string, []string) {
			e.do("POST", revokeTkT, "", `{"accessToken":"`+s.token+`"}`).ok()
			return s.token, nil
		}},
		{"revoked secret's token", `{}`, func(e *env, s session) (string, []string) {
			e.do("POST", path(s.id)+"/client-secrets/"+s.secretID+"/revoke", admin(e), "").ok()
			return s.token, nil
		}},
		{"revoked configuration", `{}`, func(e *env, s session) (string, []string) {
			e.do("DELETE", path(s.id), admin(e), "").ok()
			return s.token, nil
		}},
		{"re-attached configuration", `{}`, func(e *env, s session) (string, []string) {
			e.do("DELETE", path(s.id), admin(e), "").ok()
			e.do("POST", path(s.id), admin(e), `{}`).ok()
			return s.token, nil
		}},
		{"deleted identity", `{}`, func(e *env, s session) (string, []string) {
			if err := e.store.DeleteIdentity(context.Background(), s.id, orgA, time.Now(), time.Now().Add(time.Hour), "test"); err != nil {
				e.t.Fatal(err)
			}
			return s.token, nil
		}},
		{"expired token", `{"accessTokenTTL": 60}`, func(e *env, s session) (string, []string) {
			e.clock.add(60*time.Second + caller.Leeway + time.Second)
			return s.token, nil
		}},
		{"another audience", `{}`, func(e *env, s session) (string, []string) {
			return e.resigned(s.token, func(c jwt.MapClaims) { c["aud"] = "another-api" }), nil
		}},
		{"another issuer", `{}`, func(e *env, s session) (string, []string) {
			return e.resigned(s.token, func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }), nil
		}},
		{"HS256 signed with the public key", `{}`, func(e *env, s session) (string, []string) {
			return e.confused(s.token), nil
		}},
		{"a platform token", `{}`, func(e *env, s session) (string, []string) {
			return token(e.t, orgA, caller.OrgAdmin), nil
		}},
		{"garbage", `{}`, func(e *env, s session) (string, []string) { return "not.a.token", nil }},
		{"another org's token", `{}`, func(e *env, s session) (string, []string) {
			return e.identityTokenIn(orgB, `{}`).token, nil
		}},
		{"bearer outside accessTokenTrustedIps", `{"accessTokenTrustedIps": [{"ipAddress": "10.0.0.0/8"}]}`,
			func(e *env, s session) (string, []string) { return s.token, []string{"client_ip", "192.0.2.1"} }},
		{"bearer unknown, trusted IPs restricted", `{"accessTokenTrustedIps": [{"ipAddress": "10.0.0.0/8"}]}`,
			func(e *env, s session) (string, []string) { return s.token, nil }},
		{"limited token used up", `{"accessTokenNumUsesLimit": 1}`, func(e *env, s session) (string, []string) {
			e.do("GET", "/api/v1/auth/universal-auth/org-defaults", s.token, "").ok()
			return s.token, nil
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			s := e.identityToken(tc.body, addrA, caller.IdentityRead)
			tok, extra := tc.spoil(e, s)
			e.introspect(orgA, tok, extra...).expectInactive()
		})
	}
}

// TestIntrospectionChecksTheBearersAddressNotHeaders: the trusted IPs are
// checked against client_ip, the address the resource server saw the
// bearer call from; the introspection request's own headers and address
// count for nothing.
func TestIntrospectionChecksTheBearersAddressNotHeaders(t *testing.T) {
	e := newEnv(t)
	s := e.identityToken(`{"accessTokenTrustedIps": [{"ipAddress": "10.0.0.0/8"}]}`, "10.0.0.5:1")
	spoofed := e.doFrom("10.0.0.5:1", "POST", introspectT, token(t, orgA, caller.TokenIntrospect),
		url.Values{"token": {s.token}}.Encode(), "Content-Type", "application/x-www-form-urlencoded", "X-Forwarded-For", "10.1.2.3")
	spoofed.expectInactive()
	if got := e.introspect(orgA, s.token, "client_ip", "10.1.2.3").ok(); got["active"] != true {
		t.Fatalf("a bearer inside the trusted IPs: %v", got)
	}
	e.introspect(orgA, s.token, "client_ip", "not-an-ip").expectError(422, "ValidationFailure", "")
}

func TestIntrospectionNeedsItsPermission(t *testing.T) {
	e := newEnv(t)
	s := e.identityToken(`{}`, addrA)
	form := url.Values{"token": {s.token}}.Encode()
	e.doFrom(addrA, "POST", introspectT, token(t, orgA, caller.IdentityRead), form, "Content-Type", "application/x-www-form-urlencoded").
		expectError(403, "PermissionDenied", "")
	e.doFrom(addrA, "POST", introspectT, "", form, "Content-Type", "application/x-www-form-urlencoded").
		expectError(401, "UnauthorizedError", "Token missing")
	// An identity token holding token:introspect may ask, as a platform token may.
	rs := e.identityToken(`{}`, addrA, caller.TokenIntrospect)
	got := e.doFrom(addrA, "POST", introspectT, rs.token, form, "Content-Type", "application/x-www-form-urlencoded").ok()
	if got["active"] != true {
		t.Fatalf("introspection by an identity = %v", got)
	}
	e.doFrom(addrA, "POST", introspectT, rs.token, "", "Content-Type", "application/x-www-form-urlencoded").
		expectError(422, "ValidationFailure", "")
}

// expectInactive checks the whole answer is {"active": false}.
func (r *response) expectInactive() {
	r.t.Helper()
	if r.status() != 200 || strings.TrimSpace(r.rec.Body.String()) != `{"active":false}` {
		r.t.Fatalf("got %d %s, want exactly {\"active\":false}", r.status(), r.rec.Body)
	}
}

func parsed(t *testing.T, tok string) *caller.Claims {
	t.Helper()
	p, err := caller.Parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	return &p.Claims
}

// resigned is tok's claims, changed by mod, signed with uauth's own key:
// a good signature on claims that are not for this deployment.
func (e *env) resigned(tok string, mod func(jwt.MapClaims)) string {
	e.t.Helper()
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tok, claims); err != nil {
		e.t.Fatal(err)
	}
	mod(claims)
	key := e.signer.Keys.Keys(context.Background())[0]
	j := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	j.Header["kid"] = key.Public.KeyID
	s, err := j.SignedString(key.Private)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// confused is tok's claims as HS256 "signed" with uauth's public key (PEM):
// the algorithm-confusion attack.
func (e *env) confused(tok string) string {
	e.t.Helper()
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tok, claims); err != nil {
		e.t.Fatal(err)
	}
	pub := e.signer.Keys.Keys(context.Background())[0].Private.Public()
	der, _ := x509.MarshalPKIXPublicKey(pub)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(pubPEM)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// identityTokenIn logs in an identity of org, configured with body.
func (e *env) identityTokenIn(org, body string) session {
	e.t.Helper()
	var s session
	s.id = e.identityWith(org)
	s.client = e.do("POST", path(s.id), token(e.t, org, caller.OrgAdmin), body).config()["clientId"].(string)
	resp := e.do("POST", path(s.id)+"/client-secrets", token(e.t, org, caller.OrgAdmin), `{}`).ok()
	s.secret = resp["clientSecret"].(string)
	s.token = e.accessToken(s.client, s.secret, addrA)
	return s
}
