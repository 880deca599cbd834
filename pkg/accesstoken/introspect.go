package accesstoken

import (
	"context"
	"errors"
	"net/netip"

	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/uaconfig"
)

// Introspection is what an active token is (RFC 7662): its claims, its
// identity's current permissions and, for a limited token, the uses left.
type Introspection struct {
	Claims      *caller.Claims
	Permissions []string
	// UsesLeft is nil for a token without a use limit.
	UsesLeft *int64
}

// Reasons a token is not active, for logs, metrics and the audit trail;
// the caller of introspection sees only {"active": false}.
const (
	InactiveMalformed        = "malformed"
	InactiveNotIdentityToken = "not_identity_token"
	InactiveInvalid          = "invalid"
	InactiveRevoked          = "revoked"
	InactiveIdentityGone     = "identity_gone"
	InactiveMethodRevoked    = "method_revoked"
	InactiveSecretRevoked    = "secret_revoked"
	InactiveIPRefused        = "ip_refused"
	InactiveUsageLimit       = "usage_limit"
)

// Reason names a token refusal: one of the Inactive reasons, "" for nil.
func Reason(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, caller.ErrInvalidToken):
		return InactiveInvalid
	case errors.Is(err, ErrNotIdentityToken):
		return InactiveNotIdentityToken
	case errors.Is(err, uaconfig.ErrIPNotTrusted):
		return InactiveIPRefused
	}
	switch err {
	case ErrTokenRevoked:
		return InactiveRevoked
	case ErrIdentityGone:
		return InactiveIdentityGone
	case ErrMethodRevoked:
		return InactiveMethodRevoked
	case ErrSecretRevoked:
		return InactiveSecretRevoked
	case ErrUsageLimit:
		return InactiveUsageLimit
	}
	return ""
}

// Introspect says whether raw is an active identity token for issuer, with
// the rules of a use (Check), in one round trip, and consumes nothing: a
// limited token's uses are read, not counted.
//
// bearer is the address the token's bearer called from, as the resource
// server that asks saw it; the zero Addr if it did not say. A token whose
// accessTokenTrustedIps do not admit every address is active only for a
// bearer they admit, so an unknown bearer makes it inactive.
//
// An inactive token comes back as a reason (see Reason), with a nil error;
// err is for the database's failures only.
func (s *Service) Introspect(ctx context.Context, raw, issuer string, bearer netip.Addr) (Introspection, string, error) {
	tok, err := caller.Parse(raw)
	if err != nil {
		return Introspection{}, InactiveMalformed, nil
	}
	if tok.Header.Alg != caller.AlgIdentity {
		return Introspection{}, InactiveNotIdentityToken, nil
	}
	c, err := s.Verify(ctx, tok, issuer)
	if err != nil {
		return Introspection{}, InactiveInvalid, nil
	}
	st, err := s.Store.TokenState(ctx, refOf(c))
	if err != nil {
		return Introspection{}, "", err
	}
	if err := revoked(&st, c, useErrors); err != nil {
		return Introspection{}, Reason(err), nil
	}
	ips := st.Identity.Config.AccessTokenTrustedIPs
	if bearer.IsValid() && !ips.Allows(bearer) || !bearer.IsValid() && !ips.AllowsAll() {
		return Introspection{}, InactiveIPRefused, nil
	}
	in := Introspection{Claims: c, Permissions: st.Identity.Permissions}
	if t := st.Token; c.NumUsesLimit > 0 {
		if t.Uses >= t.Limit {
			return Introspection{}, InactiveUsageLimit, nil
		}
		left := t.Limit - t.Uses
		in.UsesLeft = &left
	}
	return in, "", nil
}
