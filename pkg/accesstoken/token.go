// Package accesstoken issues uauth's identity access tokens and applies
// their rules: verification, the checks of every use, renewal and
// revocation.
//
// A token is an RS256 JWT signed with uauth's own key, whose public half
// is published as a JWKS: any service can verify one without a shared
// secret, an API Gateway JWT authorizer included. What only uauth can
// enforce (revocation, trusted IPs, use limits) it checks on each use of a
// token against DynamoDB, in one round trip.
package accesstoken

import (
	"context"
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/keyring"
	"github.com/uauth/uauth/pkg/uaconfig"
)

// MaxLifetime caps every token, as current Infisical does: with both TTL
// and max TTL at 0 a token lives 90 days. Every token has an exp.
const MaxLifetime = 90 * 24 * time.Hour

// Errors. Their text is what clients see.
var (
	ErrNotIdentityToken = errors.New("Token is not an identity access token")

	ErrIdentityGone   = &caller.UnauthorizedError{Message: "Failed to authorize: identity has been deleted"}
	ErrMethodRevoked  = &caller.UnauthorizedError{Message: "Failed to authorize: auth method has been revoked"}
	ErrSecretRevoked  = &caller.UnauthorizedError{Message: "Failed to authorize: client secret has been revoked"}
	ErrTokenRevoked   = &caller.UnauthorizedError{Message: "Failed to authorize: token has been revoked"}
	ErrUsageLimit     = &caller.UnauthorizedError{Message: "Failed to authorize: token usage limit reached"}
	ErrRenewRevoked   = &caller.UnauthorizedError{Message: "Cannot renew: token has been revoked"}
	ErrRenewMaxTTL    = &caller.UnauthorizedError{Message: "Cannot renew: identity access token has reached its max TTL"}
	ErrRenewExhausted = &caller.UnauthorizedError{Message: "Cannot renew exhausted access token"}
)

// Lifetime returns when a token expires that is issued (or renewed) at now
// under c, and whose life began at authTime; false if it cannot be issued
// any more because max TTL has passed. A periodic token lives one period
// and is renewable without end. Otherwise the token lives TTL (0: until
// max TTL), never past authTime + max TTL (0: no maximum). No version of
// any token lives more than MaxLifetime: revocation records and the
// previous signing key are kept that long, and no longer.
func Lifetime(c *uaconfig.Config, authTime, now time.Time) (time.Time, bool) {
	exp := now.Add(MaxLifetime)
	if c.AccessTokenPeriod > 0 {
		return earliest(exp, now.Add(time.Duration(c.AccessTokenPeriod)*time.Second)), true
	}
	if c.AccessTokenTTL > 0 {
		exp = earliest(exp, now.Add(time.Duration(c.AccessTokenTTL)*time.Second))
	}
	if c.AccessTokenMaxTTL > 0 {
		exp = earliest(exp, authTime.Add(time.Duration(c.AccessTokenMaxTTL)*time.Second))
	}
	return exp, exp.Unix() > now.Unix()
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// Issued is a token as login and renewal answer it.
type Issued struct {
	AccessToken string
	// ExpiresIn is the token's lifetime in seconds: the period for a
	// periodic token.
	ExpiresIn         int64
	AccessTokenMaxTTL int64
}

// Grant is what a token is issued for.
type Grant struct {
	IdentityID     string
	OrgID          string
	ClientID       string
	ClientSecretID string
	JTI            string
	// AuthTime is when the login that began the token's life happened;
	// renewal keeps it, and max TTL counts from it.
	AuthTime     time.Time
	NumUsesLimit int64
}

// Signer signs tokens with the current version of uauth's key.
type Signer struct {
	Keys     *keyring.Ring[*SigningKey]
	Audience string
}

// Issue signs a token for g under c, for issuer, at now.
func (s *Signer) Issue(ctx context.Context, issuer string, g Grant, c *uaconfig.Config, now time.Time) (Issued, bool, error) {
	exp, ok := Lifetime(c, g.AuthTime, now)
	if !ok {
		return Issued{}, false, nil
	}
	claims := jwt.MapClaims{
		"iss": issuer, "aud": s.Audience, "sub": g.IdentityID, "orgId": g.OrgID, "actorType": caller.ActorIdentity,
		"jti": g.JTI, "iat": now.Unix(), "exp": exp.Unix(), "auth_time": g.AuthTime.Unix(),
		"clientId": g.ClientID, "clientSecretId": g.ClientSecretID,
	}
	if g.NumUsesLimit > 0 {
		claims["numUsesLimit"] = g.NumUsesLimit
	}
	key := s.Keys.Keys(ctx)[0]
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = key.Public.KeyID
	signed, err := tok.SignedString(key.Private)
	if err != nil {
		return Issued{}, false, err
	}
	// For a periodic token this is the period, unless the period is longer
	// than MaxLifetime.
	expiresIn := exp.Unix() - now.Unix()
	return Issued{AccessToken: signed, ExpiresIn: expiresIn, AccessTokenMaxTTL: c.AccessTokenMaxTTL}, true, nil
}
