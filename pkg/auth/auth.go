// Package auth turns a bearer token into an Actor and decides what the
// actor may do.
package auth

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
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

// Verifier checks HS256 tokens signed with one shared secret.
type Verifier struct {
	secret []byte
	parser *jwt.Parser
}

// signingMethod is the only algorithm accepted. alg:none and every other
// algorithm (HS512 included) are refused by the parser before any key is used.
var signingMethod = jwt.SigningMethodHS256

// NewVerifier returns a Verifier for secret, which must not be empty.
func NewVerifier(secret []byte) (*Verifier, error) {
	if len(secret) == 0 {
		return nil, errors.New("auth: empty signing secret")
	}
	return &Verifier{
		secret: secret,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{signingMethod.Alg()}),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(5*time.Second),
		),
	}, nil
}

// Authenticate verifies the request's bearer token: ErrTokenMissing if there
// is none, ErrInvalidToken (wrapping the reason) if it is not acceptable.
func (v *Verifier) Authenticate(r *http.Request) (Actor, error) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return Actor{}, ErrTokenMissing
	}
	return v.Verify(token)
}

// Verify checks one token string.
func (v *Verifier) Verify(token string) (Actor, error) {
	var c Claims
	_, err := v.parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return v.secret, nil })
	if err != nil {
		return Actor{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if c.Subject == "" {
		return Actor{}, fmt.Errorf("%w: token has no sub claim", ErrInvalidToken)
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
