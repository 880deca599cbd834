package caller

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/uauth/uauth/pkg/keyring"
)

var secret = []byte("caller-test-secret-0123456789abcdef")

const org = "11111111-1111-4111-8111-111111111111"

func claims(mod func(jwt.MapClaims)) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{"sub": "u1", "orgId": org, "actorType": "user", "permissions": []string{string(IdentityRead)},
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	if mod != nil {
		mod(c)
	}
	return c
}

func sign(t *testing.T, m jwt.SigningMethod, key any, c jwt.Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// handMade builds a token from raw header and payload JSON, signed with
// HS256 and secret, so that tests control every byte of the claims.
func handMade(header, payload string) string {
	b64 := base64.RawURLEncoding.EncodeToString
	input := b64([]byte(header)) + "." + b64([]byte(payload))
	sig, _ := jwt.SigningMethodHS256.Sign(input, secret)
	return input + "." + b64(sig)
}

func newAuthenticator(t testing.TB) *Authenticator {
	t.Helper()
	ring, err := keyring.New(context.Background(), keyring.Static(secret), keyring.Secret)
	if err != nil {
		t.Fatal(err)
	}
	p := NewPlatform(ring)
	p.ForbiddenIssuer = "https://uauth.example"
	return &Authenticator{Platform: p}
}

func TestAuthenticate(t *testing.T) {
	a := newAuthenticator(t)
	good := sign(t, jwt.SigningMethodHS256, secret, claims(nil))
	b64 := base64.RawURLEncoding.EncodeToString
	exp := time.Now().Add(time.Hour).Unix()
	payload := func(extra string) string {
		return `{"sub":"u1","orgId":"` + org + `","permissions":["identity:read"],"exp":` + strconv.FormatInt(exp, 10) + extra + `}`
	}
	cases := []struct {
		name, header string
		want         error
	}{
		{"no header", "", ErrTokenMissing},
		{"not bearer", "Basic " + good, ErrTokenMissing},
		{"empty bearer", "Bearer ", ErrTokenMissing},
		{"garbage", "Bearer not.a.jwt", ErrInvalidToken},
		{"two parts", "Bearer a.b", ErrInvalidToken},
		{"wrong secret", "Bearer " + sign(t, jwt.SigningMethodHS256, []byte("other-secret-0123456789abcdef0123"), claims(nil)), ErrInvalidToken},
		{"HS512", "Bearer " + sign(t, jwt.SigningMethodHS512, secret, claims(nil)), ErrInvalidToken},
		{"alg none", "Bearer " + sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(nil)), ErrInvalidToken},
		{"alg none, hand-made", "Bearer " + b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + b64([]byte(payload(""))) + ".", ErrInvalidToken},
		{"RS256 when no identity tokens are configured", "Bearer " + b64([]byte(`{"alg":"RS256","kid":"x"}`)) + "." + b64([]byte(payload(""))) + ".c2ln", ErrInvalidToken},
		{"expired", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Minute).Unix() })), ErrInvalidToken},
		{"no exp", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { delete(c, "exp") })), ErrInvalidToken},
		{"no sub", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { delete(c, "sub") })), ErrInvalidToken},
		{"no orgId", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { delete(c, "orgId") })), ErrInvalidToken},
		{"unknown actorType", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["actorType"] = "root" })), ErrInvalidToken},
		{"permissions not a list", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["permissions"] = "org:admin" })), ErrInvalidToken},
		{"orgId not a uuid", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["orgId"] = "acme" })), ErrInvalidToken},
		{"issued in the future", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["iat"] = time.Now().Add(time.Hour).Unix() })), ErrInvalidToken},
		{"claims uauth's issuer", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["iss"] = "https://uauth.example" })), ErrInvalidToken},
		// The claim-case attack: encoding/json v1 matched "ORGID" to orgId,
		// so {"orgId":A,"ORGID":B} acted on org B. Both forms are refused.
		{"orgId in another case", "Bearer " + handMade(`{"alg":"HS256"}`, payload(`,"ORGID":"22222222-2222-4222-8222-222222222222"`)), ErrInvalidToken},
		{"Permissions in another case", "Bearer " + handMade(`{"alg":"HS256"}`, payload(`,"Permissions":["org:admin"]`)), ErrInvalidToken},
		{"a second exp", "Bearer " + handMade(`{"alg":"HS256"}`, payload(`,"exp":9999999999`)), ErrInvalidToken},
		{"a second alg", "Bearer " + handMade(`{"alg":"HS256","alg":"none"}`, payload("")), ErrInvalidToken},
		{"crit header", "Bearer " + handMade(`{"alg":"HS256","crit":["x"]}`, payload("")), ErrInvalidToken},
		{"valid, hand-made, with an unknown claim", "Bearer " + handMade(`{"alg":"HS256","typ":"JWT"}`, payload(`,"email":"a@b.c"`)), nil},
		{"valid", "Bearer " + good, nil},
		{"valid, lower-case scheme", "bearer " + good, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			actor, err := a.Authenticate(r, Origin{IP: netip.MustParseAddr("127.0.0.1")}, IdentityRead)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if tc.want == nil && (actor.OrgID != org || actor.ID != "u1" || !actor.Can(IdentityRead)) {
				t.Fatalf("actor = %+v", actor)
			}
			if err != nil && strings.Contains(ErrInvalidToken.Error(), ":") {
				t.Fatal("the generic message must not carry the reason")
			}
		})
	}
}

func TestAuthenticateChecksThePermission(t *testing.T) {
	a := newAuthenticator(t)
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+sign(t, jwt.SigningMethodHS256, secret, claims(nil)))
	if _, err := a.Authenticate(r, Origin{}, IdentityEditAuth); !errors.Is(err, ErrPermissionDenied) {
		t.Fatalf("identity:read token for edit-auth: %v", err)
	}
}

func TestPermissions(t *testing.T) {
	reader := Actor{Permissions: []string{string(IdentityRead)}}
	admin := Actor{Permissions: []string{string(OrgAdmin)}}
	none := Actor{}
	for _, p := range []Permission{IdentityRead, IdentityEditAuth, IdentityRevokeAuth} {
		if admin.Require(p) != nil {
			t.Errorf("org:admin lacks %s", p)
		}
		if !errors.Is(none.Require(p), ErrPermissionDenied) {
			t.Errorf("an actor without permissions has %s", p)
		}
	}
	if reader.Require(IdentityRead) != nil || !errors.Is(reader.Require(IdentityEditAuth), ErrPermissionDenied) {
		t.Error("identity:read must grant read and nothing else")
	}
}

func TestSignPlatformRefusesAWeakKey(t *testing.T) {
	if _, err := SignPlatform([]byte("short"), PlatformClaims{Subject: "u"}); err == nil {
		t.Fatal("signed with a 5-byte key")
	}
}

// FuzzVerify: any string is either a valid token or ErrInvalidToken, and
// never a panic.
func FuzzVerify(f *testing.F) {
	a := newAuthenticator(f)
	good, _ := SignPlatform(secret, PlatformClaims{Subject: "u1", OrgID: org, Permissions: []Permission{OrgAdmin},
		IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)})
	f.Add(good)
	f.Add("")
	f.Add("a.b.c")
	f.Add(good[:len(good)-2])
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1MSJ9.")
	f.Fuzz(func(t *testing.T, token string) {
		tok, err := Parse(token)
		if err == nil {
			var actor Actor
			actor, err = a.Platform.Verify(context.Background(), tok)
			if err == nil {
				if actor.ID == "" || len(actor.OrgID) != 36 {
					t.Fatalf("accepted %q as %+v", token, actor)
				}
				return
			}
		}
		if !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("error %v is not ErrInvalidToken", err)
		}
	})
}
