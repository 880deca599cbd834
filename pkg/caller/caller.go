// Package caller turns a request's bearer token into an Actor and decides
// what the actor may do. Two kinds of token are accepted and never
// confused: platform tokens (HS256 with the deployment's shared key, minted
// by the identity platform) and uauth's own identity access tokens (RS256,
// issued at login; see package accesstoken).
package caller

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"github.com/uauth/uauth/pkg/identity"
)

// Permission is a permission string, as tokens and identity events carry.
type Permission string

// The permissions uauth knows.
const (
	IdentityRead       Permission = "identity:read"
	IdentityEditAuth   Permission = "identity:edit-auth"
	IdentityRevokeAuth Permission = "identity:revoke-auth"
	OrgAdmin           Permission = "org:admin" // implies every other permission
	// TokenIntrospect lets a resource server ask whether a token is active
	// (RFC 7662 introspection).
	TokenIntrospect Permission = "token:introspect"
)

// Actor types, in the actorType claim.
const (
	ActorUser     = "user"
	ActorIdentity = "identity"
)

// Errors. Their text is what clients see.
var (
	ErrTokenMissing     = errors.New("Token missing")
	ErrInvalidToken     = errors.New("Invalid token")
	ErrPermissionDenied = errors.New("You are not allowed to perform this action")
)

// UnauthorizedError is a 401 with its own message: a refused login, or an
// identity access token that can no longer be used.
type UnauthorizedError struct{ Message string }

func (e *UnauthorizedError) Error() string { return e.Message }

// Actor is the verified caller.
type Actor struct {
	ID          string
	OrgID       string
	Type        string
	Permissions []string
	// Partial: Permissions hold only the permission this request was
	// proven to need, not the actor's whole set. A limited identity token's
	// use proves its one permission inside the transaction that counts the
	// use; a permission boundary needs the whole set (Authenticator.Complete).
	Partial bool
}

// Can reports whether the actor holds perm, directly or through org:admin.
func (a Actor) Can(perm Permission) bool {
	return HasPermission(a.Permissions, perm)
}

// HasPermission reports whether perms grants perm, directly or through
// org:admin.
func HasPermission(perms []string, perm Permission) bool {
	return slices.Contains(perms, string(perm)) || slices.Contains(perms, string(OrgAdmin))
}

// Require returns ErrPermissionDenied unless the actor holds perm.
func (a Actor) Require(perm Permission) error {
	if !a.Can(perm) {
		return ErrPermissionDenied
	}
	return nil
}

// Origin is where a request comes from, as the platform vouches for it.
type Origin struct {
	// IP is the caller's address: API Gateway's sourceIp, or the TCP peer.
	IP netip.Addr
	// Issuer is the issuer uauth's own tokens must name: the deployment's
	// URL (see package accesstoken).
	Issuer string
}

// IdentityTokens verifies uauth's own access tokens and applies the checks
// of each use: revocation, the identity's existence, trusted IPs, the use
// limit and the permission, all at once.
type IdentityTokens interface {
	Use(ctx context.Context, tok *Token, from Origin, perm Permission) (Actor, error)
	// Permissions reads the identity's current permissions, for an actor
	// whose Permissions are Partial.
	Permissions(ctx context.Context, a Actor) ([]string, error)
}

// Authenticator authenticates requests with either kind of token.
type Authenticator struct {
	Platform *Platform
	// Identity handles RS256 tokens; nil refuses them.
	Identity IdentityTokens
}

// Authenticate verifies the request's bearer token and that its actor may
// do perm.
func (a *Authenticator) Authenticate(r *http.Request, from Origin, perm Permission) (Actor, error) {
	raw, ok := BearerToken(r)
	if !ok {
		return Actor{}, ErrTokenMissing
	}
	tok, err := Parse(raw)
	if err != nil {
		return Actor{}, err
	}
	switch {
	case tok.Header.Alg == AlgPlatform:
		actor, err := a.Platform.Verify(r.Context(), tok)
		if err != nil {
			return Actor{}, err
		}
		return actor, actor.Require(perm)
	case tok.Header.Alg == AlgIdentity && a.Identity != nil:
		return a.Identity.Use(r.Context(), tok, from, perm)
	default:
		return Actor{}, invalid("algorithm %q is not accepted", tok.Header.Alg)
	}
}

// Guard is the actor's permission boundary for action on another
// identity's auth method (Actor.Guard). An actor whose Permissions are
// Partial has its whole set read when the guard is first applied, that is
// once the target identity is found: a request refused before that costs
// no read.
func (a *Authenticator) Guard(ctx context.Context, actor Actor, action string) identity.Guard {
	if !actor.Partial {
		return actor.Guard(action)
	}
	return func(target []string) error {
		perms, err := a.Identity.Permissions(ctx, actor)
		if err != nil {
			return err
		}
		actor.Permissions, actor.Partial = perms, false
		if g := actor.Guard(action); g != nil {
			return g(target)
		}
		return nil
	}
}

// BearerToken returns the request's bearer token, if it has one.
func BearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	return token, ok && strings.EqualFold(scheme, "Bearer") && token != ""
}
