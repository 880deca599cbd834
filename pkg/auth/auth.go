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

// MinReload is the least time between two reads of the KeySource. A token
// whose signature matches no key triggers a read, so that an instance warm
// since before a rotation accepts tokens signed with the new key; the
// interval keeps forged tokens from turning into a flood of reads.
const MinReload = time.Minute

// Verifier checks HS256 tokens against the keys of a KeySource, read once
// at start and again, at most every MinReload, when a signature matches no
// key.
type Verifier struct {
	parser    *jwt.Parser
	source    KeySource
	minReload time.Duration

	mu       sync.Mutex
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
		minReload: MinReload,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{signingMethod.Alg()}),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(5*time.Second),
		),
	}
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

// reload reads the keys again unless that happened less than MinReload
// ago, and reports whether it did.
func (v *Verifier) reload(ctx context.Context) bool {
	v.mu.Lock()
	due := time.Since(v.loadedAt) >= v.minReload
	if due {
		v.loadedAt = time.Now() // concurrent callers do not all reload
	}
	v.mu.Unlock()
	return due && v.load(ctx) == nil
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
	var c Claims
	keyfunc := func(*jwt.Token) (any, error) {
		v.mu.Lock()
		defer v.mu.Unlock()
		return v.keys, nil
	}
	t, err := v.parser.ParseWithClaims(token, &c, keyfunc)
	// Only a well-formed HS256 token whose signature matched no key may
	// have been signed with a key newer than ours.
	if errors.Is(err, jwt.ErrTokenSignatureInvalid) && t != nil && t.Method == signingMethod && v.reload(ctx) {
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
