package caller_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http/httptest"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/uauth/uauth/pkg/caller"
)

// unsigned builds a compact JWS from raw header and payload JSON with a
// junk signature: Parse checks the form only.
func unsigned(header, payload string) string {
	b64 := base64.RawURLEncoding.EncodeToString
	return b64([]byte(header)) + "." + b64([]byte(payload)) + "." + b64([]byte("sig"))
}

func parseClaims(t *testing.T, payload string) (caller.Claims, error) {
	t.Helper()
	tok, err := caller.Parse(unsigned(`{"alg":"HS256"}`, payload))
	if err != nil {
		return caller.Claims{}, err
	}
	return tok.Claims, nil
}

// TestNumericDateRange: a NumericDate is read while its magnitude is at
// most 2^53 seconds (the integers a float64 holds exactly); beyond that
// the token is invalid.
func TestNumericDateRange(t *testing.T) {
	const max = int64(1) << 53
	for _, tc := range []struct {
		exp  string
		want int64 // Unix seconds; 0 means refused
	}{
		{strconv.FormatInt(max, 10), max},
		{strconv.FormatInt(-max, 10), -max},
		{strconv.FormatInt(max+2, 10), 0},
		{strconv.FormatInt(-max-2, 10), 0},
		{"1e300", 0},
	} {
		c, err := parseClaims(t, `{"exp":`+tc.exp+`}`)
		if tc.want == 0 {
			if !errors.Is(err, caller.ErrInvalidToken) {
				t.Errorf("exp %s: err %v, want ErrInvalidToken", tc.exp, err)
			}
			continue
		}
		if err != nil || c.ExpiresAt == nil || c.ExpiresAt.Unix() != tc.want {
			t.Errorf("exp %s: %v, %v; want %d", tc.exp, c.ExpiresAt, err, tc.want)
		}
	}
}

// TestNumericDateKeepsItsFraction: a NumericDate may carry a fraction of a
// second; it names that instant, to the precision jwt.TimePrecision keeps.
func TestNumericDateKeepsItsFraction(t *testing.T) {
	prev := jwt.TimePrecision
	jwt.TimePrecision = time.Millisecond
	t.Cleanup(func() { jwt.TimePrecision = prev })

	c, err := parseClaims(t, `{"iat":1700000000.25,"exp":1700000600.5,"nbf":-1.5}`)
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		got  *jwt.NumericDate
		want time.Time
	}{
		"iat": {c.IssuedAt, time.Unix(1700000000, 250e6)},
		"exp": {c.ExpiresAt, time.Unix(1700000600, 500e6)},
		"nbf": {c.NotBefore, time.Unix(-1, -500e6)},
	} {
		if tc.got == nil || !tc.got.Equal(tc.want) {
			t.Errorf("%s = %v, want %v", name, tc.got, tc.want)
		}
	}
}

// TestAudienceIsAStringOrAList: aud is one string or a list of strings
// (RFC 7519 §4.1.3); either reads as a list.
func TestAudienceIsAStringOrAList(t *testing.T) {
	for payload, want := range map[string]jwt.ClaimStrings{
		`{"aud":"https://api.example"}`:     {"https://api.example"},
		`{"aud":["https://a.example","b"]}`: {"https://a.example", "b"},
		`{"aud":[]}`:                        {},
		`{"sub":"u1"}`:                      nil,
	} {
		c, err := parseClaims(t, payload)
		if err != nil || !reflect.DeepEqual(c.Audience, want) {
			t.Errorf("%s: aud %#v, err %v; want %#v", payload, c.Audience, err, want)
		}
	}
	for _, payload := range []string{`{"aud":1}`, `{"aud":{"x":"y"}}`, `{"aud":["a",2]}`} {
		if _, err := parseClaims(t, payload); !errors.Is(err, caller.ErrInvalidToken) {
			t.Errorf("%s: err %v, want ErrInvalidToken", payload, err)
		}
	}
}

// TestNumUsesLimitRange: numUsesLimit is an integer from 0 to 2^53-1.
func TestNumUsesLimitRange(t *testing.T) {
	const max = int64(1)<<53 - 1
	for _, n := range []int64{0, 1, max} {
		c, err := parseClaims(t, `{"numUsesLimit":`+strconv.FormatInt(n, 10)+`}`)
		if err != nil || c.NumUsesLimit != n {
			t.Errorf("numUsesLimit %d: read %d, err %v", n, c.NumUsesLimit, err)
		}
	}
	for _, n := range []string{"-1", strconv.FormatInt(max+1, 10), "1.5", `"3"`} {
		if _, err := parseClaims(t, `{"numUsesLimit":`+n+`}`); !errors.Is(err, caller.ErrInvalidToken) {
			t.Errorf("numUsesLimit %s: err %v, want ErrInvalidToken", n, err)
		}
	}
}

// payloadOf decodes a compact JWS's payload as raw JSON.
func payloadOf(t *testing.T, raw string) string {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSignPlatformActorType: SignPlatform writes the actorType claim it is
// given, and none when it is given none.
func TestSignPlatformActorType(t *testing.T) {
	key := []byte("caller-test-secret-0123456789abcdef")
	now := time.Now()
	for _, typ := range []string{caller.ActorUser, caller.ActorIdentity, ""} {
		raw, err := caller.SignPlatform(key, caller.PlatformClaims{Subject: "u1", OrgID: "11111111-1111-4111-8111-111111111111",
			ActorType: typ, IssuedAt: now, ExpiresAt: now.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := caller.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if tok.Claims.ActorType != typ {
			t.Errorf("signed actorType %q, token says %q", typ, tok.Claims.ActorType)
		}
		if has := strings.Contains(payloadOf(t, raw), `"actorType"`); has != (typ != "") {
			t.Errorf("actorType %q: claim present = %v", typ, has)
		}
	}
}

// identityTokens records the one call Authenticate makes to it.
type identityTokens struct {
	calls int
	tok   *caller.Token
	from  caller.Origin
	perm  caller.Permission
}

func (f *identityTokens) Use(_ context.Context, tok *caller.Token, from caller.Origin, perm caller.Permission) (caller.Actor, error) {
	f.calls++
	f.tok, f.from, f.perm = tok, from, perm
	return caller.Actor{ID: "identity-1", Type: caller.ActorIdentity}, nil
}

func (f *identityTokens) Permissions(context.Context, caller.Actor) ([]string, error) {
	return nil, errors.New("unused")
}

// TestAuthenticateSendsRS256ToIdentityTokens: an RS256 token goes, with
// the request's origin and the permission it needs, to IdentityTokens,
// which decides alone; an HS256 token never does.
func TestAuthenticateSendsRS256ToIdentityTokens(t *testing.T) {
	ids := &identityTokens{}
	a := &caller.Authenticator{Platform: caller.NewPlatform(nil), Identity: ids}
	from := caller.Origin{IP: netip.MustParseAddr("192.0.2.7"), Issuer: "https://uauth.example"}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+unsigned(`{"alg":"RS256","kid":"k1"}`, `{"sub":"identity-1"}`))
	actor, err := a.Authenticate(r, from, caller.IdentityEditAuth)
	if err != nil || actor.ID != "identity-1" {
		t.Fatalf("actor %+v, err %v", actor, err)
	}
	if ids.calls != 1 || ids.from != from || ids.perm != caller.IdentityEditAuth ||
		ids.tok.Header.Kid != "k1" || ids.tok.Claims.Subject != "identity-1" {
		t.Fatalf("IdentityTokens.Use got %+v", ids)
	}
}
