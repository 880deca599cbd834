package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var secret = []byte("test-secret")

const org = "11111111-1111-4111-8111-111111111111"

func claims(mod func(*Claims)) Claims {
	now := time.Now()
	c := Claims{OrgID: org, ActorType: "user", Permissions: []string{IdentityRead},
		RegisteredClaims: jwt.RegisteredClaims{Subject: "u1", IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}}
	if mod != nil {
		mod(&c)
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

func TestAuthenticate(t *testing.T) {
	v, err := NewVerifier(context.Background(), StaticKeys(secret))
	if err != nil {
		t.Fatal(err)
	}
	good := sign(t, jwt.SigningMethodHS256, secret, claims(nil))
	b64 := base64.RawURLEncoding.EncodeToString
	cases := []struct {
		name, header string
		want         error
	}{
		{"no header", "", ErrTokenMissing},
		{"not bearer", "Basic " + good, ErrTokenMissing},
		{"empty bearer", "Bearer ", ErrTokenMissing},
		{"garbage", "Bearer not.a.jwt", ErrInvalidToken},
		{"wrong secret", "Bearer " + sign(t, jwt.SigningMethodHS256, []byte("other"), claims(nil)), ErrInvalidToken},
		{"HS512", "Bearer " + sign(t, jwt.SigningMethodHS512, secret, claims(nil)), ErrInvalidToken},
		{"alg none", "Bearer " + sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(nil)), ErrInvalidToken},
		{"alg none, hand-made", "Bearer " + b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
			b64([]byte(`{"sub":"u1","orgId":"`+org+`","permissions":["org:admin"],"exp":9999999999}`)) + ".", ErrInvalidToken},
		{"expired", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, claims(func(c *Claims) {
			c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Minute))
		})), ErrInvalidToken},
		{"no exp", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, claims(func(c *Claims) { c.ExpiresAt = nil })), ErrInvalidToken},
		{"no sub", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, claims(func(c *Claims) { c.Subject = "" })), ErrInvalidToken},
		{"no orgId", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, claims(func(c *Claims) { c.OrgID = "" })), ErrInvalidToken},
		{"unknown actorType", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, claims(func(c *Claims) { c.ActorType = "root" })), ErrInvalidToken},
		{"permissions not a list", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{
			"sub": "u1", "orgId": org, "permissions": "org:admin", "exp": time.Now().Add(time.Hour).Unix()}), ErrInvalidToken},
		{"orgId not a uuid", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, claims(func(c *Claims) { c.OrgID = "acme" })), ErrInvalidToken},
		{"issued in the future", "Bearer " + sign(t, jwt.SigningMethodHS256, secret, claims(func(c *Claims) {
			c.IssuedAt = jwt.NewNumericDate(time.Now().Add(time.Hour))
		})), ErrInvalidToken},
		{"valid", "Bearer " + good, nil},
		{"valid, lower-case scheme", "bearer " + good, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			actor, err := v.Authenticate(r)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if tc.want == nil && (actor.OrgID != org || actor.ID != "u1" || !actor.Can(IdentityRead)) {
				t.Fatalf("actor = %+v", actor)
			}
		})
	}
}

func TestPermissions(t *testing.T) {
	reader := Actor{Permissions: []string{IdentityRead}}
	admin := Actor{Permissions: []string{OrgAdmin}}
	none := Actor{}
	for _, p := range []string{IdentityRead, IdentityEditAuth, IdentityRevokeAuth} {
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

func TestNewVerifierRefusesEmptySecret(t *testing.T) {
	if _, err := NewVerifier(context.Background(), StaticKeys(nil)); err == nil {
		t.Fatal("empty secret accepted")
	}
}

// FuzzVerify: any string is either a valid token or ErrInvalidToken, and
// never a panic.
func FuzzVerify(f *testing.F) {
	v, _ := NewVerifier(context.Background(), StaticKeys(secret))
	good, _ := Sign(secret, claims(nil))
	f.Add(good)
	f.Add("")
	f.Add("a.b.c")
	f.Add(good[:len(good)-2])
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1MSJ9.")
	f.Fuzz(func(t *testing.T, token string) {
		actor, err := v.Verify(context.Background(), token)
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("error %v is not ErrInvalidToken", err)
			}
			return
		}
		if actor.ID == "" || len(actor.OrgID) != 36 {
			t.Fatalf("accepted %q as %+v", token, actor)
		}
	})
}

// rotatingSource is a KeySource whose keys the test replaces, counting reads.
type rotatingSource struct {
	mu    sync.Mutex
	keys  [][]byte
	reads atomic.Int32
}

func (r *rotatingSource) set(keys ...[]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys = keys
}

func (r *rotatingSource) read(context.Context) ([][]byte, error) {
	r.reads.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.keys, nil
}

func signedWith(t *testing.T, key []byte) string {
	s, err := Sign(key, claims(nil))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestKeyRotation(t *testing.T) {
	k1, k2, k3 := []byte("key-1"), []byte("key-2"), []byte("key-3")
	src := &rotatingSource{keys: [][]byte{k1}}
	v, err := NewVerifier(context.Background(), src.read)
	if err != nil {
		t.Fatal(err)
	}
	verify := func(key []byte) error { _, err := v.Verify(context.Background(), signedWith(t, key)); return err }
	if err := verify(k1); err != nil {
		t.Fatalf("k1 before rotation: %v", err)
	}

	// put-secret-value: AWSCURRENT k2, AWSPREVIOUS k1. A warm verifier
	// re-reads on the first k2 signature, once for concurrent callers.
	src.set(k2, k1)
	v.attemptedAt = time.Time{} // as if the last read were long ago
	before := src.reads.Load()
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Go(func() { errs <- verify(k2) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a warm verifier refused the new key: %v", err)
		}
	}
	if n := src.reads.Load() - before; n != 1 {
		t.Fatalf("keys read %d times for concurrent unknown signatures, want 1", n)
	}
	if err := verify(k1); err != nil {
		t.Fatalf("the previous key stopped working during the rotation: %v", err)
	}

	// Forged signatures read nothing within MinReload of the last read.
	before = src.reads.Load()
	for range 10 {
		if err := verify([]byte("forged")); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("forged token: %v", err)
		}
	}
	if n := src.reads.Load() - before; n != 0 {
		t.Fatalf("10 forged tokens caused %d key reads, want 0", n)
	}

	// Rotating again retires k1: once the keys are older than MaxKeyAge,
	// they are re-read before use, and k1 is refused.
	src.set(k3, k2)
	if err := verify(k1); err != nil {
		t.Fatalf("k1 refused before the keys aged: %v", err)
	}
	v.maxAge, v.attemptedAt = 0, time.Time{}
	if err := verify(k1); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("the retired key k1 still works after MaxKeyAge: %v", err)
	}
	if err := verify(k3); err != nil {
		t.Fatalf("k3: %v", err)
	}
}

func TestFailedReloadKeepsTheKeys(t *testing.T) {
	k1 := []byte("key-1")
	fail := atomic.Bool{}
	src := func(context.Context) ([][]byte, error) {
		if fail.Load() {
			return nil, errors.New("ThrottlingException")
		}
		return [][]byte{k1}, nil
	}
	v, err := NewVerifier(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	var reported []error
	v.OnReloadError = func(err error) { reported = append(reported, err) }
	fail.Store(true)
	v.maxAge, v.attemptedAt = 0, time.Time{}
	if _, err := v.Verify(context.Background(), signedWith(t, k1)); err != nil {
		t.Fatalf("a failed re-read locked callers out: %v", err)
	}
	if len(reported) != 1 {
		t.Fatalf("reload errors reported: %v, want 1", reported)
	}
}

func TestNewVerifierFailsWithoutKeys(t *testing.T) {
	failing := func(context.Context) ([][]byte, error) { return nil, errors.New("AccessDenied") }
	if _, err := NewVerifier(context.Background(), failing); err == nil {
		t.Fatal("unreadable keys accepted at start")
	}
}
