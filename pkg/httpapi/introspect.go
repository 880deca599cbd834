package httpapi

import (
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"strings"

	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/metrics"
	"github.com/uauth/uauth/pkg/validation"
)

const introspectPath = "/api/v1/auth/token/introspect"

func (h *handler) routeIntrospect() {
	h.handle("POST "+introspectPath, caller.TokenIntrospect, h.introspect)
	h.allow(introspectPath, "POST")
}

// introspectionJSON is an active token, as RFC 7662 names its members.
type introspectionJSON struct {
	Active    bool   `json:"active"`
	Subject   string `json:"sub"`
	ClientID  string `json:"client_id"`
	OrgID     string `json:"org_id"`
	JTI       string `json:"jti"`
	Issuer    string `json:"iss"`
	Audience  string `json:"aud"`
	IssuedAt  int64  `json:"iat"`
	ExpiresAt int64  `json:"exp"`
	Scope     string `json:"scope"`
	TokenType string `json:"token_type"`
	// UsesLeft is uauth's own member, for a token with a use limit.
	UsesLeft *int64 `json:"uses_left,omitempty"`
}

// inactive is the whole answer for any token that is not active, whatever
// the reason: RFC 7662 tells a resource server nothing more, so that a
// caller learns nothing about tokens it may not use.
var inactive = []byte(`{"active":false}`)

// introspect is RFC 7662 token introspection, for resource servers that
// API Gateway does not front. The body is a form (token, token_type_hint),
// or the same as JSON. client_ip, uauth's own parameter, is the address
// the resource server saw the token's bearer call from: the token's
// accessTokenTrustedIps are checked against it. Introspection consumes no
// use of the token.
func (h *handler) introspect(w http.ResponseWriter, r *http.Request, actor caller.Actor) {
	body, err := h.body(w, r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	decode := formMembers
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/json" {
		decode = stringMembers
	}
	in, err := decode(body, "token", "client_ip")
	if err == nil {
		err = required(in, "token")
	}
	var bearer netip.Addr
	if err == nil && in["client_ip"] != "" {
		if bearer, err = netip.ParseAddr(strings.TrimSpace(in["client_ip"])); err != nil {
			err = validation.Invalid("client_ip", "must be an IPv4 or IPv6 address")
		}
		bearer = bearer.Unmap().WithZone("")
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	got, reason, err := h.Tokens.Introspect(r.Context(), in["token"], h.issuer(r), bearer)
	m := metrics.FromContext(r.Context())
	if err != nil {
		m.Count(metrics.Introspections, "error")
		h.writeError(w, r, err)
		return
	}
	if reason == "" && got.Claims.OrgID != actor.OrgID {
		reason = "another_org"
	}
	if reason != "" {
		m.Count(metrics.Introspections, "inactive")
	} else {
		m.Count(metrics.Introspections, "active")
	}
	if reason != "" {
		logger(r).LogAttrs(r.Context(), slog.LevelInfo, "token inactive", slog.String("reason", reason))
		writeBody(w, http.StatusOK, inactive)
		return
	}
	c := got.Claims
	out := introspectionJSON{
		Active: true, Subject: c.Subject, ClientID: c.ClientID, OrgID: c.OrgID, JTI: c.ID, Issuer: c.Issuer,
		ExpiresAt: c.ExpiresAt.Unix(), Scope: strings.Join(got.Permissions, " "), TokenType: "Bearer", UsesLeft: got.UsesLeft,
	}
	if c.IssuedAt != nil {
		out.IssuedAt = c.IssuedAt.Unix()
	}
	if len(c.Audience) > 0 {
		out.Audience = c.Audience[0]
	}
	writeJSON(w, http.StatusOK, out)
}
