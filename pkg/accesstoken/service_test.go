package accesstoken_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/uauth/uauth/pkg/accesstoken"
	"github.com/uauth/uauth/pkg/accesstoken/accesstokentest"
	"github.com/uauth/uauth/pkg/audit"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/keyring"
	"github.com/uauth/uauth/pkg/metrics"
	"github.com/uauth/uauth/pkg/testkeys"
	"github.com/uauth/uauth/pkg/uaconfig"
)

var (
	t0      = time.Date(2036, 11, 7, 5, 31, 56, 0, time.UTC)
	inside  = netip.MustParseAddr("10.1.2.3")
	outside = netip.MustParseAddr("192.0.2.1")
)

// fixture is the token rules over the fake store, on a clock tests move.
type fixture struct {
	t     *testing.T
	store *accesstokentest.Fake
	svc   *accesstoken.Service
	now   time.Time
}

func newFixture(t *testing.T) *fixture {
	ring, err := keyring.New(context.Background(), keyring.Static(testkeys.SigningKeyPEM()), accesstoken.ParseSigningKey)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, store: accesstokentest.NewFake(), now: t0}
	f.svc = &accesstoken.Service{Store: f.store, Signer: accesstoken.NewSigner(ring, "uauth"), Now: func() time.Time { return f.now }}
	return f
}

// token configures an identity holding perms with settings (an attach
// body; trusted IPs default to 10.0.0.0/8) and issues it a token as a
// login would; it returns the token and its configuration.
func (f *fixture) token(body string, perms ...string) (string, uaconfig.Config) {
	f.t.Helper()
	ctx := context.Background()
	if !strings.Contains(body, "accessTokenTrustedIps") {
		body = strings.Replace(body, "{", `{"accessTokenTrustedIps": [{"ipAddress": "10.0.0.0/8"}],`, 1)
		body = strings.Replace(body, ",}", "}", 1)
	}
	s, err := uaconfig.DecodeSettings([]byte(body), "")
	if err != nil {
		f.t.Fatal(err)
	}
	c, err := uaconfig.NewConfig(uaconfig.InfisicalDefaults(), uuid.NewString(), s, f.now)
	if err != nil {
		f.t.Fatal(err)
	}
	_ = f.store.Configure(ctx, accesstokentest.Org, perms, c)
	secretID, jti := uuid.NewString(), uuid.NewString()
	_ = f.store.AddSecret(ctx, accesstokentest.Org, c.IdentityID, secretID)
	if c.AccessTokenNumUsesLimit > 0 {
		_ = f.store.AddTokenRecord(ctx, jti, c.IdentityID, c.ClientID, secretID, c.AccessTokenNumUsesLimit)
	}
	issued, ok, err := f.svc.Signer.Issue(ctx, issuer, accesstoken.Grant{IdentityID: c.IdentityID, OrgID: accesstokentest.Org,
		ClientID: c.ClientID, ClientSecretID: secretID, JTI: jti, AuthTime: f.now, NumUsesLimit: c.AccessTokenNumUsesLimit}, &c, f.now)
	if err != nil || !ok {
		f.t.Fatalf("issue: %v %v", ok, err)
	}
	return issued.AccessToken, c
}

func (f *fixture) check(raw string, from netip.Addr, perm caller.Permission) (caller.Actor, error) {
	f.t.Helper()
	tok, err := caller.Parse(raw)
	if err != nil {
		return caller.Actor{}, err
	}
	a, _, err := f.svc.Check(context.Background(), tok, caller.Origin{IP: from, Issuer: issuer}, perm)
	return a, err
}

func claimsOf(t *testing.T, raw string) caller.Claims {
	t.Helper()
	tok, err := caller.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return tok.Claims
}

func TestLifetime(t *testing.T) {
	auth := t0.Add(-time.Hour)
	for _, tc := range []struct {
		name             string
		ttl, max, period int64
		now              time.Time
		wantExp          time.Time
		ok               bool
	}{
		{"TTL within max TTL", 600, 7200, 0, t0, t0.Add(600 * time.Second), true},
		{"max TTL counts from the auth time", 3600 * 2, 3600 + 60, 0, t0, auth.Add(3660 * time.Second), true},
		{"max TTL reached", 600, 3600, 0, t0, auth.Add(time.Hour), false},
		{"max TTL 0: no maximum", 600, 0, 0, t0, t0.Add(600 * time.Second), true},
		{"both 0: the 90-day ceiling", 0, 0, 0, t0, t0.Add(accesstoken.MaxLifetime), true},
		{"TTL 0: until max TTL", 0, 7200, 0, t0, auth.Add(7200 * time.Second), true},
		{"periodic: one period, whatever max TTL", 600, 60, 300, t0, t0.Add(300 * time.Second), true},
		{"the ceiling caps a long TTL", 315360000, 0, 0, t0, t0.Add(accesstoken.MaxLifetime), true},
		{"a period longer than the ceiling", 0, 0, 315360000, t0, t0.Add(accesstoken.MaxLifetime), true},
		{"max TTL ends this second", 0, 3600, 0, auth.Add(time.Hour + 500*time.Millisecond), auth.Add(time.Hour), false},
	} {
		c := &uaconfig.Config{AccessTokenTTL: tc.ttl, AccessTokenMaxTTL: tc.max, AccessTokenPeriod: tc.period}
		exp, ok := accesstoken.Lifetime(c, auth, tc.now)
		if ok != tc.ok || (ok && !exp.Equal(tc.wantExp)) {
			t.Errorf("%s: %s, %v; want %s, %v", tc.name, exp, ok, tc.wantExp, tc.ok)
		}
	}
}

func TestIssueWritesTheContractsClaims(t *testing.T) {
	f := newFixture(t)
	raw, c := f.token(`{"accessTokenTTL": 600, "accessTokenNumUsesLimit": 4}`)
	tok, _ := caller.Parse(raw)
	cl := tok.Claims
	if tok.Header.Alg != "RS256" || tok.Header.Kid == "" || cl.Issuer != issuer || cl.Audience[0] != "uauth" ||
		cl.Subject != c.IdentityID || cl.OrgID != accesstokentest.Org || cl.ActorType != caller.ActorIdentity ||
		cl.ClientID != c.ClientID || cl.NumUsesLimit != 4 || !cl.AuthTime.Equal(t0) || !cl.IssuedAt.Equal(t0) ||
		!cl.ExpiresAt.Equal(t0.Add(600*time.Second)) || cl.ID == "" || cl.ClientSecretID == "" {
		t.Fatalf("header %+v claims %+v", tok.Header, cl)
	}
	unlimited, _ := f.token(`{}`)
	// The payload is base64url: decoded, it must not name the claim.
	if payload, err := base64.RawURLEncoding.DecodeString(strings.Split(unlimited, ".")[1]); err != nil ||
		strings.Contains(string(payload), "numUsesLimit") {
		t.Fatalf("an unlimited token carries numUsesLimit: %s (%v)", payload, err)
	}
}

// TestCheckAppliesEveryRuleOfAUse, in the contract's order: anything the
// token depends on being gone (401) comes before the address (403), the
// use limit (401) and the permission (403).
func TestCheckAppliesEveryRuleOfAUse(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	raw, c := f.token(`{}`, "orders:read")
	a, err := f.check(raw, inside, "orders:read")
	if err != nil || a.ID != c.IdentityID || a.OrgID != accesstokentest.Org || a.Partial || a.Permissions[0] != "orders:read" {
		t.Fatalf("allowed: %+v, %v", a, err)
	}
	if _, err := f.check(raw, inside, ""); err != nil {
		t.Fatalf("no permission needed: %v", err)
	}
	if _, err := f.check(raw, inside, "orders:write"); !errors.Is(err, caller.ErrPermissionDenied) {
		t.Fatalf("another permission: %v", err)
	}
	if _, err := f.check(raw, outside, "orders:write"); !errors.Is(err, uaconfig.ErrIPNotTrusted) {
		t.Fatalf("an outside address, before the permission: %v", err)
	}
	if _, err := f.check(raw, netip.Addr{}, ""); !errors.Is(err, uaconfig.ErrIPNotTrusted) {
		t.Fatalf("no address: %v", err)
	}
	claims := claimsOf(t, raw)
	_ = f.store.RevokeSecret(ctx, accesstokentest.Org, c.IdentityID, claims.ClientSecretID)
	if _, err := f.check(raw, outside, ""); err != accesstoken.ErrSecretRevoked {
		t.Fatalf("a revoked secret, before the address: %v", err)
	}
	_ = f.svc.Store.RevokeToken(ctx, claims.ID, t0, t0)
	if _, err := f.check(raw, inside, ""); err != accesstoken.ErrSecretRevoked {
		t.Fatalf("a revoked token and secret: %v, want the secret's message first", err)
	}
	raw2, c2 := f.token(`{}`)
	_ = f.svc.Store.RevokeToken(ctx, claimsOf(t, raw2).ID, t0, t0)
	if _, err := f.check(raw2, inside, ""); err != accesstoken.ErrTokenRevoked {
		t.Fatalf("a revoked token: %v", err)
	}
	_ = f.store.Unconfigure(ctx, accesstokentest.Org, c2.IdentityID)
	if _, err := f.check(raw2, inside, ""); err != accesstoken.ErrMethodRevoked {
		t.Fatalf("a revoked configuration: %v", err)
	}
	_ = f.store.DeleteIdentity(ctx, accesstokentest.Org, c2.IdentityID)
	if _, err := f.check(raw2, inside, ""); err != accesstoken.ErrIdentityGone {
		t.Fatalf("a deleted identity: %v", err)
	}
	f.now = t0.Add(31*24*time.Hour + caller.Leeway)
	if _, err := f.check(raw, inside, ""); !errors.Is(err, caller.ErrInvalidToken) {
		t.Fatalf("expired: %v", err)
	}
}

func TestALimitedTokensUses(t *testing.T) {
	f := newFixture(t)
	raw, _ := f.token(`{"accessTokenNumUsesLimit": 2}`, "orders:read")
	a, err := f.check(raw, inside, "orders:read")
	if err != nil || !a.Partial || len(a.Permissions) != 1 || a.Permissions[0] != "orders:read" {
		t.Fatalf("first use: %+v, %v; want only the proven permission", a, err)
	}
	if _, err := f.check(raw, outside, "orders:read"); !errors.Is(err, uaconfig.ErrIPNotTrusted) {
		t.Fatalf("an outside address: %v", err)
	}
	if _, err := f.check(raw, inside, "orders:write"); !errors.Is(err, caller.ErrPermissionDenied) {
		t.Fatalf("another permission: %v", err)
	}
	if a, err := f.check(raw, inside, ""); err != nil || !a.Partial || a.Permissions != nil {
		t.Fatalf("second use, no permission needed: %+v, %v", a, err)
	}
	if _, err := f.check(raw, inside, ""); err != accesstoken.ErrUsageLimit {
		t.Fatalf("third use: %v", err)
	}
	if perms, err := f.svc.Permissions(context.Background(), a); err != nil || perms[0] != "orders:read" {
		t.Fatalf("Permissions = %v, %v", perms, err)
	}
}

func TestVerifyRefusesWhatIsNotACompleteIdentityToken(t *testing.T) {
	f := newFixture(t)
	raw, _ := f.token(`{}`)
	base := claimsOf(t, raw)
	key := f.svc.Signer.Keys.Keys(context.Background())[0]
	sign := func(mod func(jwt.MapClaims)) string {
		c := jwt.MapClaims{"iss": issuer, "aud": "uauth", "sub": base.Subject, "orgId": base.OrgID, "actorType": "identity",
			"jti": base.ID, "iat": t0.Unix(), "exp": t0.Add(time.Hour).Unix(), "auth_time": t0.Unix(),
			"clientId": base.ClientID, "clientSecretId": base.ClientSecretID}
		mod(c)
		j := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
		j.Header["kid"] = key.Public.KeyID
		s, _ := j.SignedString(key.Private)
		return s
	}
	if _, err := f.check(sign(func(jwt.MapClaims) {}), inside, ""); err != nil {
		t.Fatalf("the complete token: %v", err)
	}
	for name, mod := range map[string]func(jwt.MapClaims){
		"a user":               func(c jwt.MapClaims) { c["actorType"] = "user" },
		"no actorType":         func(c jwt.MapClaims) { delete(c, "actorType") },
		"an org id not a UUID": func(c jwt.MapClaims) { c["orgId"] = "acme" },
		"a sub not a UUID":     func(c jwt.MapClaims) { c["sub"] = "someone" },
		"no jti":               func(c jwt.MapClaims) { delete(c, "jti") },
		"no client id":         func(c jwt.MapClaims) { delete(c, "clientId") },
		"no secret id":         func(c jwt.MapClaims) { delete(c, "clientSecretId") },
		"no auth_time":         func(c jwt.MapClaims) { delete(c, "auth_time") },
		"a negative limit":     func(c jwt.MapClaims) { c["numUsesLimit"] = -1 },
		"another issuer":       func(c jwt.MapClaims) { c["iss"] = "https://other.example" },
		"another audience":     func(c jwt.MapClaims) { c["aud"] = "other" },
		"no exp":               func(c jwt.MapClaims) { delete(c, "exp") },
		"an iat in the future": func(c jwt.MapClaims) { c["iat"] = t0.Add(time.Minute).Unix() },
		"not yet valid":        func(c jwt.MapClaims) { c["nbf"] = t0.Add(time.Minute).Unix() },
	} {
		if _, err := f.check(sign(mod), inside, ""); !errors.Is(err, caller.ErrInvalidToken) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestKidSelection: a token names its key by kid; the previous version of
// the key still verifies the tokens it signed.
func TestKidSelection(t *testing.T) {
	previous := testkeys.SigningKeyPEM()
	current, _ := accesstoken.GenerateSigningKeyPEM()
	old, _ := keyring.New(context.Background(), keyring.Static(previous), accesstoken.ParseSigningKey)
	f := newFixture(t)
	f.svc.Signer = accesstoken.NewSigner(old, "uauth")
	raw, _ := f.token(`{}`)
	rotated, _ := keyring.New(context.Background(), keyring.Static(current, previous), accesstoken.ParseSigningKey)
	f.svc.Signer = accesstoken.NewSigner(rotated, "uauth")
	if _, err := f.check(raw, inside, ""); err != nil {
		t.Fatalf("a token of the previous key: %v", err)
	}
	fresh, _ := f.token(`{}`)
	if kid := claimsKid(t, fresh); kid != rotated.Keys(context.Background())[0].Public.KeyID || kid == claimsKid(t, raw) {
		t.Fatalf("new tokens are not signed with the current key")
	}
}

func claimsKid(t *testing.T, raw string) string {
	tok, err := caller.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return tok.Header.Kid
}

func TestRenew(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	raw, _ := f.token(`{"accessTokenTTL": 600, "accessTokenMaxTTL": 1000, "accessTokenNumUsesLimit": 3}`)
	f.check(raw, inside, "")
	f.now = t0.Add(500 * time.Second)
	renewed, err := f.svc.Renew(ctx, raw, issuer)
	if err != nil {
		t.Fatal(err)
	}
	was, now := claimsOf(t, raw), claimsOf(t, renewed.AccessToken)
	if now.ID != was.ID || !now.AuthTime.Equal(was.AuthTime.Time) || !now.ExpiresAt.Equal(t0.Add(1000*time.Second)) || renewed.ExpiresIn != 500 {
		t.Fatalf("renewed: %+v, %+v", now, renewed)
	}
	// The uses left carry over: one used of three, two left.
	f.check(renewed.AccessToken, inside, "")
	f.check(renewed.AccessToken, inside, "")
	if _, err := f.svc.Renew(ctx, renewed.AccessToken, issuer); err != accesstoken.ErrRenewExhausted {
		t.Fatalf("renewing a used-up token: %v", err)
	}
	other, _ := f.token(`{"accessTokenTTL": 600, "accessTokenMaxTTL": 1000}`)
	f.now = f.now.Add(time.Second)
	raw3, _ := f.token(`{"accessTokenTTL": 10, "accessTokenMaxTTL": 10}`)
	f.now = f.now.Add(10 * time.Second)
	if _, err := f.svc.Renew(ctx, raw3, issuer); !errors.Is(err, accesstoken.ErrRenewMaxTTL) && !errors.Is(err, caller.ErrInvalidToken) {
		t.Fatalf("past max TTL: %v", err)
	}
	if err := f.svc.Revoke(ctx, other, issuer); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Renew(ctx, other, issuer); err != accesstoken.ErrRenewRevoked {
		t.Fatalf("renewing a revoked token: %v", err)
	}
	platform, _ := caller.SignPlatform([]byte(testkeys.PlatformSecret), caller.PlatformClaims{Subject: "u", OrgID: accesstokentest.Org,
		IssuedAt: f.now, ExpiresAt: f.now.Add(time.Hour)})
	if _, err := f.svc.Renew(ctx, platform, issuer); err != accesstoken.ErrNotIdentityToken {
		t.Fatalf("a platform token: %v", err)
	}
	if err := f.svc.Revoke(ctx, platform, issuer); err != accesstoken.ErrNotIdentityToken {
		t.Fatalf("revoking a platform token: %v", err)
	}
	if _, err := f.svc.Renew(ctx, "garbage", issuer); !errors.Is(err, caller.ErrInvalidToken) {
		t.Fatalf("garbage: %v", err)
	}
}

func TestRenewAPeriodicToken(t *testing.T) {
	f := newFixture(t)
	raw, _ := f.token(`{"accessTokenPeriod": 60, "accessTokenTTL": 60, "accessTokenMaxTTL": 100}`)
	for i := range 5 { // past max TTL: a periodic token renews without end
		f.now = f.now.Add(50 * time.Second)
		renewed, err := f.svc.Renew(context.Background(), raw, issuer)
		if err != nil || renewed.ExpiresIn != 60 {
			t.Fatalf("renewal %d: %+v, %v", i, renewed, err)
		}
		raw = renewed.AccessToken
	}
}

func TestIntrospect(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	raw, c := f.token(`{"accessTokenNumUsesLimit": 3}`, "a", "b")
	f.check(raw, inside, "")
	in, reason, err := f.svc.Introspect(ctx, raw, issuer, inside)
	if err != nil || reason != "" || *in.UsesLeft != 2 || strings.Join(in.Permissions, " ") != "a b" || in.Claims.Subject != c.IdentityID {
		t.Fatalf("active: %+v %q %v", in, reason, err)
	}
	if _, reason, _ := f.svc.Introspect(ctx, raw, issuer, inside); reason != "" {
		t.Fatal("introspection consumed a use")
	}
	for name, want := range map[string]string{"outside": accesstoken.InactiveIPRefused, "unknown": accesstoken.InactiveIPRefused} {
		addr := outside
		if name == "unknown" {
			addr = netip.Addr{}
		}
		if _, reason, _ := f.svc.Introspect(ctx, raw, issuer, addr); reason != want {
			t.Errorf("bearer %s: %q, want %q", name, reason, want)
		}
	}
	open, _ := f.token(`{"accessTokenTrustedIps": [{"ipAddress": "0.0.0.0/0"}, {"ipAddress": "::/0"}]}`)
	if in, reason, _ := f.svc.Introspect(ctx, open, issuer, netip.Addr{}); reason != "" || in.UsesLeft != nil {
		t.Fatalf("a token trusted everywhere, bearer unknown: %q %+v", reason, in)
	}
	for tok, want := range map[string]string{
		"garbage": accesstoken.InactiveMalformed,
		strings.Replace(raw, raw[len(raw)-8:], "AAAAAAAA", 1): accesstoken.InactiveInvalid,
	} {
		if _, reason, _ := f.svc.Introspect(ctx, tok, issuer, inside); reason != want {
			t.Errorf("%.20s: %q, want %q", tok, reason, want)
		}
	}
	f.check(raw, inside, "")
	f.check(raw, inside, "")
	if _, reason, _ := f.svc.Introspect(ctx, raw, issuer, inside); reason != accesstoken.InactiveUsageLimit {
		t.Fatalf("used up: %q", reason)
	}
}

// TestChecksAreCountedAndRefusalsAudited.
func TestChecksAreCountedAndRefusalsAudited(t *testing.T) {
	f := newFixture(t)
	raw, _ := f.token(`{}`)
	var out bytes.Buffer
	m := metrics.Get("api")
	defer metrics.Put(m)
	ctx := metrics.NewContext(context.Background(), m)
	ctx = audit.NewContext(ctx, &audit.Request{Writer: audit.NewWriter(&out), ReqID: "r"})
	tok, _ := caller.Parse(raw)
	if _, _, err := f.svc.Check(ctx, tok, caller.Origin{IP: outside, Issuer: issuer}, ""); err == nil {
		t.Fatal("an outside address was allowed")
	}
	var rec map[string]any
	if err := json.Unmarshal(out.Bytes(), &rec); err != nil || rec["event"] != audit.TokenRefused || rec["reason"] != "ip_refused" ||
		rec["jti"] != tok.Claims.ID || rec["sourceIp"] != outside.String() {
		t.Fatalf("audit: %s (%v)", out.String(), err)
	}
	var line bytes.Buffer
	_ = m.Flush(&line, t0)
	if !strings.Contains(line.String(), `"TokenOutcome":"ip_refused","TokenChecks":1`) || !strings.Contains(line.String(), `"TokenCheckLatency":[`) {
		t.Fatalf("metrics: %s", line.String())
	}
	if strings.Contains(out.String()+line.String(), raw[strings.LastIndex(raw, ".")+1:]) {
		t.Fatal("the token was written")
	}
}
