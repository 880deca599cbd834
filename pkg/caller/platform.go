package caller

import (
	"context"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/keyring"
)

// Platform verifies platform tokens: HS256 with the deployment's shared
// key, of which there may be two around a rotation (see package keyring).
type Platform struct {
	keys *keyring.Ring[[]byte]
	// ForbiddenIssuer, if set, is uauth's own issuer: a platform token
	// that claims it is refused, so that the two kinds stay apart.
	ForbiddenIssuer string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewPlatform returns a verifier over keys.
func NewPlatform(keys *keyring.Ring[[]byte]) *Platform {
	return &Platform{keys: keys}
}

func (p *Platform) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// Verify checks a parsed HS256 token and returns its actor. Every failure
// wraps ErrInvalidToken.
func (p *Platform) Verify(ctx context.Context, tok *Token) (Actor, error) {
	if tok.Header.Alg != AlgPlatform {
		return Actor{}, invalid("platform tokens are HS256, not %q", tok.Header.Alg)
	}
	if err := tok.IssuedAt(p.now()); err != nil {
		return Actor{}, err
	}
	keys := p.keys.Keys(ctx)
	_, loaded := p.keys.Loaded()
	if !p.matches(tok, keys) {
		// Perhaps signed with a key newer than ours (see keyring.Refresh).
		fresh, newer := p.keys.Refresh(ctx, loaded, tok.UnverifiedIssuedAt())
		if !newer || !p.matches(tok, fresh) {
			return Actor{}, invalid("signature matches no key")
		}
	}
	c := &tok.Claims
	if err := Validator(p.now).Validate(c); err != nil {
		return Actor{}, invalid("%v", err)
	}
	switch {
	case c.Subject == "":
		return Actor{}, invalid("no sub claim")
	case c.ActorType != "" && c.ActorType != ActorUser && c.ActorType != ActorIdentity:
		return Actor{}, invalid("actorType must be %q or %q", ActorUser, ActorIdentity)
	case p.ForbiddenIssuer != "" && c.Issuer == p.ForbiddenIssuer:
		return Actor{}, invalid("an HS256 token may not claim uauth's issuer")
	}
	// Stored org ids are lower case (identity.CanonicalID).
	org, ok := identity.CanonicalID(c.OrgID)
	if !ok {
		return Actor{}, invalid("no valid orgId claim")
	}
	return Actor{ID: c.Subject, OrgID: org, Type: c.ActorType, Permissions: c.Permissions}, nil
}

func (p *Platform) matches(tok *Token, keys [][]byte) bool {
	for _, k := range keys {
		if tok.VerifySignature(jwt.SigningMethodHS256, k) == nil {
			return true
		}
	}
	return false
}

// PlatformClaims are the claims of a platform token, for SignPlatform.
type PlatformClaims struct {
	Subject     string
	OrgID       string
	ActorType   string
	Permissions []Permission
	IssuedAt    time.Time
	ExpiresAt   time.Time
}

// SignPlatform mints a platform token with key. uauth never mints these in
// production, the identity platform does; this serves the local stack's dev
// tokens and the tests.
func SignPlatform(key []byte, c PlatformClaims) (string, error) {
	if _, err := keyring.Secret(key); err != nil {
		return "", fmt.Errorf("signing key: %w", err)
	}
	perms := make([]string, len(c.Permissions))
	for i, p := range c.Permissions {
		perms[i] = string(p)
	}
	claims := jwt.MapClaims{"sub": c.Subject, "orgId": c.OrgID, "permissions": perms,
		"iat": c.IssuedAt.Unix(), "exp": c.ExpiresAt.Unix()}
	if c.ActorType != "" {
		claims["actorType"] = c.ActorType
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
}
