package accesstoken

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/uauth/uauth/pkg/audit"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/keyring"
	"github.com/uauth/uauth/pkg/metrics"
	"github.com/uauth/uauth/pkg/uaconfig"
)

// Ref names the items a token's checks read: its identity, its client
// secret (under its configuration's client id) and its own record.
type Ref struct {
	IdentityID, OrgID, ClientID, SecretID, JTI string
}

// State is what a use, renewal or revocation decides on. A nil part was
// not read, because its checks passed (see Store.UseLimited).
type State struct {
	Identity *IdentityState
	Secret   *SecretState
	Token    *Record
}

// IdentityState is the token's identity as stored.
type IdentityState struct {
	Missing     bool
	Deleted     bool
	OrgID       string
	Permissions []string
	Config      *uaconfig.Config // nil without a configuration
}

// SecretState is the token's client secret as stored.
type SecretState struct{ Missing, Revoked bool }

// Record is a token's own record. Only limited tokens have one from the
// start; any token gets one when it is revoked.
type Record struct {
	Missing bool
	Revoked bool
	Uses    int64
	Limit   int64
}

// Store is what the rules need from storage.
type Store interface {
	// TokenState reads the identity, the secret and the token's record, in
	// one round trip. Every part is set.
	TokenState(ctx context.Context, ref Ref) (State, error)
	// UseLimited counts one use of a limited token, in one round trip and
	// atomically with every check of a use: the identity is live and still
	// has this configuration, nets (uaconfig.CallerNets of the caller)
	// meets its accessTokenTrustedIps, it holds perm (unless perm is ""),
	// the secret is not revoked, and the token is not revoked and has uses
	// left. A refusal
	// returns the State of the parts whose checks failed, nothing written.
	UseLimited(ctx context.Context, ref Ref, nets []string, perm caller.Permission) (refused *State, err error)
	// RevokeToken records the token as revoked until keepUntil, when no
	// version of it can be valid any more.
	RevokeToken(ctx context.Context, jti string, now, keepUntil time.Time) error
	// ExtendRecord keeps a limited token's record until keepUntil, if the
	// token is not revoked: ErrRenewRevoked otherwise.
	ExtendRecord(ctx context.Context, jti string, keepUntil time.Time) error
	// IdentityPermissions reads a live identity's permissions, strongly
	// consistent: identity.ErrNotFound unless it is a live identity of orgID.
	IdentityPermissions(ctx context.Context, orgID, identityID string) ([]string, error)
}

// Service applies the token rules.
type Service struct {
	Store  Store
	Signer *Signer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

var _ caller.IdentityTokens = (*Service)(nil)

// Verify checks a parsed token's signature, issuer, audience and times,
// and that it carries what an identity token carries. The key is found by
// kid among the current and previous versions of uauth's key; an unknown
// kid re-reads them within keyring's budget. Every failure wraps
// caller.ErrInvalidToken.
func (s *Service) Verify(ctx context.Context, tok *caller.Token, issuer string) (*caller.Claims, error) {
	if tok.Header.Alg != caller.AlgIdentity {
		return nil, fmt.Errorf("%w: identity tokens are RS256, not %q", caller.ErrInvalidToken, tok.Header.Alg)
	}
	if err := tok.IssuedAt(s.now()); err != nil {
		return nil, err
	}
	ring := s.Signer.Keys
	keys := ring.Keys(ctx)
	key := byKID(keys, tok.Header.Kid)
	if key == nil {
		_, loaded := ring.Loaded()
		fresh, newer := ring.Refresh(ctx, loaded, tok.UnverifiedIssuedAt())
		if key = byKID(fresh, tok.Header.Kid); !newer || key == nil {
			return nil, fmt.Errorf("%w: unknown kid %q", caller.ErrInvalidToken, tok.Header.Kid)
		}
	}
	if err := tok.VerifySignature(jwt.SigningMethodRS256, &key.Private.PublicKey); err != nil {
		return nil, fmt.Errorf("%w: %v", caller.ErrInvalidToken, err)
	}
	c := &tok.Claims
	v := caller.Validator(s.now, jwt.WithIssuer(issuer), jwt.WithAudience(s.Signer.Audience))
	if err := v.Validate(c); err != nil {
		return nil, fmt.Errorf("%w: %v", caller.ErrInvalidToken, err)
	}
	_, orgOK := identity.CanonicalID(c.OrgID)
	_, subOK := identity.CanonicalID(c.Subject)
	if c.ActorType != caller.ActorIdentity || !orgOK || !subOK || c.ID == "" || c.ClientID == "" ||
		c.ClientSecretID == "" || c.AuthTime == nil || c.NumUsesLimit < 0 {
		return nil, fmt.Errorf("%w: not a complete identity token", caller.ErrInvalidToken)
	}
	return c, nil
}

func byKID(keys []*SigningKey, kid string) *SigningKey {
	for _, k := range keys {
		if k.Public.KeyID == kid {
			return k
		}
	}
	return nil
}

func refOf(c *caller.Claims) Ref {
	return Ref{IdentityID: c.Subject, OrgID: c.OrgID, ClientID: c.ClientID, SecretID: c.ClientSecretID, JTI: c.ID}
}

// Use implements caller.IdentityTokens: one use of an identity token as a
// bearer, by a caller at from.IP needing perm.
func (s *Service) Use(ctx context.Context, tok *caller.Token, from caller.Origin, perm caller.Permission) (caller.Actor, error) {
	actor, _, err := s.Check(ctx, tok, from, perm)
	return actor, err
}

// Check is one use of an identity token as a bearer, by a caller at from.IP
// needing perm ("" for none), with every rule of a use: the token's
// signature and claims, revocation of the token, its secret and its
// configuration, the identity's existence, the trusted IPs, the use limit
// and the permission. It is the one place those rules are applied, for
// uauth's own routes and for other APIs' (package authorizer) alike, and
// it returns the actor and the token's claims.
//
// It costs one DynamoDB round trip: a read for a token without a use
// limit, which is therefore never written however often it is used, and
// one transaction for a limited token, which counts the use only if every
// other check passes. That transaction proves perm but returns nothing, so
// a limited token's actor holds only perm (Actor.Partial).
//
// Every check is a metric (TokenChecks by outcome, TokenCheckLatency), and
// every refusal an audit record.
func (s *Service) Check(ctx context.Context, tok *caller.Token, from caller.Origin, perm caller.Permission) (caller.Actor, *caller.Claims, error) {
	start := time.Now()
	actor, c, err := s.check(ctx, tok, from, perm)
	m := metrics.FromContext(ctx)
	outcome := CheckOutcome(err)
	m.Count(metrics.TokenChecks, outcome)
	m.Observe(metrics.TokenCheckLatency, float64(time.Since(start).Microseconds())/1000)
	if err != nil {
		audit.Record(ctx, audit.Event{Event: audit.TokenRefused, Outcome: audit.Failure, Reason: outcome,
			IdentityID: tok.Claims.Subject, OrgID: tok.Claims.OrgID, ClientID: tok.Claims.ClientID, JTI: tok.Claims.ID,
			Actor: tok.Claims.Subject, SourceIP: addr(from)})
	} else {
		m.Property("identityId", c.Subject)
	}
	return actor, c, err
}

// CheckOutcome names a token check's outcome for metrics and the audit
// trail: "allowed", one of Reason's, "permission_denied" or "error".
func CheckOutcome(err error) string {
	switch {
	case err == nil:
		return "allowed"
	case errors.Is(err, caller.ErrPermissionDenied):
		return "permission_denied"
	}
	if r := Reason(err); r != "" {
		return r
	}
	return "error"
}

func addr(from caller.Origin) string {
	if from.IP.IsValid() {
		return from.IP.String()
	}
	return ""
}

func (s *Service) check(ctx context.Context, tok *caller.Token, from caller.Origin, perm caller.Permission) (caller.Actor, *caller.Claims, error) {
	c, err := s.Verify(ctx, tok, from.Issuer)
	if err != nil {
		return caller.Actor{}, nil, err
	}
	actor := caller.Actor{ID: c.Subject, OrgID: c.OrgID, Type: caller.ActorIdentity}
	if c.NumUsesLimit == 0 {
		st, err := s.Store.TokenState(ctx, refOf(c))
		if err != nil {
			return caller.Actor{}, nil, err
		}
		if err := explainUse(&st, c, from, perm); err != nil {
			return caller.Actor{}, nil, err
		}
		actor.Permissions = st.Identity.Permissions
		return actor, c, nil
	}
	if !from.IP.IsValid() {
		return caller.Actor{}, nil, uaconfig.ErrIPNotTrusted
	}
	refused, err := s.Store.UseLimited(ctx, refOf(c), uaconfig.CallerNets(from.IP), perm)
	if err != nil {
		return caller.Actor{}, nil, err
	}
	if refused != nil {
		if err := explainUse(refused, c, from, perm); err != nil {
			return caller.Actor{}, nil, err
		}
		return caller.Actor{}, nil, fmt.Errorf("accesstoken: use refused for no reason found: %+v", refused)
	}
	if perm == "" {
		actor.Partial = true
		return actor, c, nil
	}
	// The transaction proved perm; that is all the caller may rely on
	// without reading the identity (Permissions).
	actor.Permissions, actor.Partial = []string{string(perm)}, true
	return actor, c, nil
}

// explainUse applies the checks of a use to st, in the contract's order:
// revocation of anything the token depends on (401), then trusted IPs
// (403), the use limit (401) and the permission (403).
func explainUse(st *State, c *caller.Claims, from caller.Origin, perm caller.Permission) error {
	if err := revoked(st, c, useErrors); err != nil {
		return err
	}
	if id := st.Identity; id != nil && !id.Config.AccessTokenTrustedIPs.Allows(from.IP) {
		return uaconfig.ErrIPNotTrusted
	}
	if t := st.Token; t != nil && t.Limit > 0 && t.Uses >= t.Limit {
		return ErrUsageLimit
	}
	if id := st.Identity; id != nil && perm != "" && !caller.HasPermission(id.Permissions, perm) {
		return caller.ErrPermissionDenied
	}
	return nil
}

// revocationErrors are the messages of a dead token, for a use or a renewal.
type revocationErrors struct{ identity, method, secret, token error }

var (
	useErrors   = revocationErrors{ErrIdentityGone, ErrMethodRevoked, ErrSecretRevoked, ErrTokenRevoked}
	renewErrors = revocationErrors{
		&caller.UnauthorizedError{Message: "Cannot renew: identity has been deleted"},
		&caller.UnauthorizedError{Message: "Cannot renew: auth method has been revoked"},
		&caller.UnauthorizedError{Message: "Cannot renew: client secret has been revoked"},
		ErrRenewRevoked,
	}
)

// revoked checks that nothing the token depends on is gone: the identity,
// its configuration (revoked, or re-attached with a new client id), the
// secret and the token itself.
func revoked(st *State, c *caller.Claims, e revocationErrors) error {
	if id := st.Identity; id != nil {
		if id.Missing || id.Deleted || id.OrgID != c.OrgID {
			return e.identity
		}
		if id.Config == nil || id.Config.ClientID != c.ClientID {
			return e.method
		}
	}
	if sec := st.Secret; sec != nil && (sec.Missing || sec.Revoked) {
		return e.secret
	}
	if t := st.Token; t != nil && (t.Revoked || (t.Missing && c.NumUsesLimit > 0)) {
		return e.token
	}
	return nil
}

// Renew issues the token again with the same jti, creation time and
// remaining uses, under the identity's current configuration: a periodic
// token for another period, any other for its TTL but never past max TTL
// counted from its creation.
func (s *Service) Renew(ctx context.Context, raw, issuer string) (Issued, error) {
	issued, c, err := s.renew(ctx, raw, issuer)
	ev := audit.Event{Event: audit.TokenRenewed, Outcome: audit.Success}
	if c != nil {
		ev.IdentityID, ev.OrgID, ev.ClientID, ev.JTI, ev.Actor = c.Subject, c.OrgID, c.ClientID, c.ID, c.Subject
	}
	if err != nil {
		ev.Outcome, ev.Reason = audit.Failure, renewReason(err)
	}
	audit.Record(ctx, ev)
	return issued, err
}

// renewReason names a refused renewal for the audit trail.
func renewReason(err error) string {
	switch {
	case errors.Is(err, ErrRenewMaxTTL):
		return "max_ttl"
	case errors.Is(err, ErrRenewExhausted):
		return "usage_limit"
	case errors.Is(err, ErrRenewRevoked):
		return InactiveRevoked
	case errors.Is(err, ErrNotIdentityToken):
		return InactiveNotIdentityToken
	case errors.Is(err, caller.ErrInvalidToken):
		return InactiveInvalid
	}
	var u *caller.UnauthorizedError
	if errors.As(err, &u) {
		return "dead" // the identity, its configuration or its secret is gone
	}
	return "error"
}

func (s *Service) renew(ctx context.Context, raw, issuer string) (Issued, *caller.Claims, error) {
	c, err := s.verifyBody(ctx, raw, issuer)
	if err != nil {
		return Issued{}, nil, err
	}
	st, err := s.Store.TokenState(ctx, refOf(c))
	if err != nil {
		return Issued{}, c, err
	}
	if err := revoked(&st, c, renewErrors); err != nil {
		return Issued{}, c, err
	}
	if t := st.Token; t.Limit > 0 && t.Uses >= t.Limit {
		return Issued{}, c, ErrRenewExhausted
	}
	now := s.now()
	grant := Grant{IdentityID: c.Subject, OrgID: c.OrgID, ClientID: c.ClientID, ClientSecretID: c.ClientSecretID,
		JTI: c.ID, AuthTime: c.AuthTime.Time, NumUsesLimit: c.NumUsesLimit}
	issued, ok, err := s.Signer.Issue(ctx, issuer, grant, st.Identity.Config, now)
	if err != nil {
		return Issued{}, c, err
	}
	if !ok {
		return Issued{}, c, ErrRenewMaxTTL
	}
	if c.NumUsesLimit > 0 {
		if err := s.Store.ExtendRecord(ctx, c.ID, keepUntil(now)); err != nil {
			return Issued{}, c, err
		}
	}
	return issued, c, nil
}

// Revoke revokes a token: every later use or renewal of it is refused.
// Revoking a revoked token succeeds again.
func (s *Service) Revoke(ctx context.Context, raw, issuer string) error {
	c, err := s.verifyBody(ctx, raw, issuer)
	if err == nil {
		now := s.now()
		err = s.Store.RevokeToken(ctx, c.ID, now, keepUntil(now))
	}
	ev := audit.Event{Event: audit.TokenRevoked, Outcome: audit.Success}
	if c != nil {
		ev.IdentityID, ev.OrgID, ev.ClientID, ev.JTI = c.Subject, c.OrgID, c.ClientID, c.ID
	}
	if err != nil {
		ev.Outcome, ev.Reason = audit.Failure, renewReason(err)
	}
	audit.Record(ctx, ev)
	return err
}

// keepUntil is when a token's record may go: no version of the token issued
// up to now lives past it (MaxLifetime), and a revoked one is never renewed.
func keepUntil(now time.Time) time.Time { return now.Add(MaxLifetime) }

// verifyBody verifies a token given in a request body (renew, revoke): it
// must be one of uauth's identity tokens.
func (s *Service) verifyBody(ctx context.Context, raw, issuer string) (*caller.Claims, error) {
	tok, err := caller.Parse(raw)
	if err != nil {
		return nil, err
	}
	if tok.Header.Alg == caller.AlgPlatform {
		return nil, ErrNotIdentityToken
	}
	return s.Verify(ctx, tok, issuer)
}

// NewSigner is a Signer over keys, the ring of uauth's signing key.
func NewSigner(keys *keyring.Ring[*SigningKey], audience string) *Signer {
	return &Signer{Keys: keys, Audience: audience}
}
