// Package auth turns a bearer token into an Actor and decides what the
// actor may do.
package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// Permission strings carried in a token's "permissions" claim.
const (
	IdentityRead       = "identity:read"
	IdentityEditAuth   = "identity:edit-auth"
	IdentityRevokeAuth = "identity:revoke-auth"
	OrgAdmin           = "org:admin" // implies every other permission
)

// Actor types, in the actorType claim (optional).
const (
	ActorUser     = "user"
	ActorIdentity = "identity"
)

// Errors of Authenticate and Actor.Require. Their text is what clients see.
var (
	ErrTokenMissing     = errors.New("Token missing")
	ErrInvalidToken     = errors.New("Invalid token")
	ErrPermissionDenied = errors.New("You are not allowed to perform this action")
)

// Actor is the verified caller.
type Actor struct {
	ID          string
	OrgID       string
	Type        string
	Permissions []string
}

// Can reports whether the actor holds perm, directly or through org:admin.
func (a Actor) Can(perm string) bool {
	return slices.Contains(a.Permissions, perm) || slices.Contains(a.Permissions, OrgAdmin)
}

// Require returns ErrPermissionDenied unless the actor holds perm.
func (a Actor) Require(perm string) error {
	if !a.Can(perm) {
		return ErrPermissionDenied
	}
	return nil
}

// Claims is the JWT payload uauth issues and accepts.
type Claims struct {
	OrgID       string   `json:"orgId"`
	ActorType   string   `json:"actorType,omitempty"`
	Permissions []string `json:"permissions"`
	jwt.RegisteredClaims
}

// KeySource returns the keys tokens may be signed with. More than one is
// usual around a key rotation: the new key and the one it replaces.
type KeySource func(ctx context.Context) ([][]byte, error)

// StaticKeys is a KeySource of fixed keys.
func StaticKeys(keys ...[]byte) KeySource {
	return func(context.Context) ([][]byte, error) { return keys, nil }
}

// Key reloading. Keys are re-read when they are older than MaxKeyAge, so
// that a retired key stops working on every instance within that time, and
// when a token's signature matches none of them, so that an instance warm
// since before a rotation accepts tokens signed with the new key at once.
// Reads are at least MinReload apart, so forged tokens cannot turn into a
// flood of reads.
const (
	MaxKeyAge = 5 * time.Minute
	MinReload = time.Minute
)

// Verifier checks HS256 tokens against the keys of a KeySource.
type Verifier struct {
	parser            *jwt.Parser
	source            KeySource
	maxAge, minReload time.Duration
	// OnReloadError, if set, hears of failed re-reads; the keys in hand stay
	// in use until a read succeeds.
	OnReloadError func(error)

	reloadMu    sync.Mutex // one read at a time; concurrent callers wait for it
	attemptedAt time.Time  // guarded by reloadMu

	mu       sync.Mutex // guards keys and loadedAt
	keys     jwt.VerificationKeySet
	loadedAt time.Time
}

// signingMethod is the only algorithm accepted. alg:none and every other
// algorithm (HS512 included) are refused by the parser before any key is used.
var signingMethod = jwt.SigningMethodHS256

// NewVerifier returns a Verifier over source, which it reads once now: an
// error, or no usable key, fails here, at cold start.
func NewVerifier(ctx context.Context, source KeySource) (*Verifier, error) {
	v := &Verifier{
		source:    source,
		maxAge:    MaxKeyAge,
		minReload: MinReload,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{signingMethod.Alg()}),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(5*time.Second),
		),
	}
	v.attemptedAt = time.Now()
	if err := v.load(ctx); err != nil {
		return nil, err
	}
	return v, nil
}

func (v *Verifier) load(ctx context.Context) error {
	keys, err := v.source(ctx)
	if err != nil {
		return fmt.Errorf("auth: reading signing keys: %w", err)
	}
	var set jwt.VerificationKeySet
	for _, k := range keys {
		if len(k) > 0 {
			set.Keys = append(set.Keys, k)
		}
	}
	if len(set.Keys) == 0 {
		return errors.New("auth: no signing key")
	}
	v.mu.Lock()
	v.keys, v.loadedAt = set, time.Now()
	v.mu.Unlock()
	return nil
}

func (v *Verifier) snapshot() (jwt.VerificationKeySet, time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.keys, v.loadedAt
}

// refresh re-reads the keys unless another caller has done so since seen
// (the load time of the keys the caller used) or the last read was less
// than MinReload ago. It reports whether there are keys newer than seen.
func (v *Verifier) refresh(ctx context.Context, seen time.Time) bool {
	v.reloadMu.Lock()
	defer v.reloadMu.Unlock()
	if _, loaded := v.snapshot(); loaded.After(seen) {
		return true
	}
	if time.Since(v.attemptedAt) < v.minReload {
		return false
	}
	v.attemptedAt = time.Now()
	if err := v.load(ctx); err != nil {
		if v.OnReloadError != nil {
			v.OnReloadError(err)
		}
		return false
	}
	return true
}

// Authenticate verifies the request's bearer token: ErrTokenMissing if there
// is none, ErrInvalidToken (wrapping the reason) if it is not acceptable.
func (v *Verifier) Authenticate(r *http.Request) (Actor, error) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return Actor{}, ErrTokenMissing
	}
	return v.Verify(r.Context(), token)
}

// Verify checks one token string.
func (v *Verifier) Verify(ctx context.Context, token string) (Actor, error) {
	keys, loaded := v.snapshot()
	if time.Since(loaded) >= v.maxAge && v.refresh(ctx, loaded) {
		keys, loaded = v.snapshot()
	}
	var c Claims
	keyfunc := func(*jwt.Token) (any, error) { return keys, nil }
	t, err := v.parser.ParseWithClaims(token, &c, keyfunc)
	// Only a well-formed HS256 token whose signature matched no key may
	// have been signed with a key newer than ours.
	if errors.Is(err, jwt.ErrTokenSignatureInvalid) && t != nil && t.Method == signingMethod && v.refresh(ctx, loaded) {
		keys, _ = v.snapshot()
		c = Claims{}
		_, err = v.parser.ParseWithClaims(token, &c, keyfunc)
	}
	if err != nil {
		return Actor{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if c.Subject == "" {
		return Actor{}, fmt.Errorf("%w: token has no sub claim", ErrInvalidToken)
	}
	if c.ActorType != "" && c.ActorType != ActorUser && c.ActorType != ActorIdentity {
		return Actor{}, fmt.Errorf("%w: actorType must be %q or %q", ErrInvalidToken, ActorUser, ActorIdentity)
	}
	org, err := uuid.Parse(c.OrgID)
	if err != nil || len(c.OrgID) != 36 {
		return Actor{}, fmt.Errorf("%w: token has no valid orgId claim", ErrInvalidToken)
	}
	// Stored org ids are lower case (universalauth.CanonicalID).
	return Actor{ID: c.Subject, OrgID: org.String(), Type: c.ActorType, Permissions: c.Permissions}, nil
}

// Sign mints a token for c with secret. uauth itself never mints tokens in
// production; this serves the local stack's dev tokens and the tests.
func Sign(secret []byte, c Claims) (string, error) {
	return jwt.NewWithClaims(signingMethod, c).SignedString(secret)
}
