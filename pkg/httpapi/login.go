package httpapi

import (
	"bytes"
	"mime"
	"net/http"

	"github.com/uauth/uauth/pkg/accesstoken"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/login"
	"github.com/uauth/uauth/pkg/validation"
)

const (
	loginPath       = "/api/v1/auth/universal-auth/login"
	renewPath       = "/api/v1/auth/token/renew"
	revokeTokenPath = "/api/v1/auth/token/revoke"
)

// These routes take no bearer token: the credentials are in the body.
func (h *handler) routeLogin() {
	h.mux.HandleFunc("POST "+loginPath, h.login)
	h.allow(loginPath, "POST")
	h.mux.HandleFunc("POST "+renewPath, h.renewToken)
	h.allow(renewPath, "POST")
	h.mux.HandleFunc("POST "+revokeTokenPath, h.revokeToken)
	h.allow(revokeTokenPath, "POST")
}

// origin is where r comes from, as the platform vouches for it.
func (h *handler) origin(r *http.Request) caller.Origin {
	return caller.Origin{IP: h.ClientIP(r), Issuer: h.issuer(r)}
}

// tokenJSON is login's and renewal's answer; the Go SDK decodes the three
// numbers as int64.
type tokenJSON struct {
	AccessToken       string `json:"accessToken"`
	ExpiresIn         int64  `json:"expiresIn"`
	AccessTokenMaxTTL int64  `json:"accessTokenMaxTTL"`
	TokenType         string `json:"tokenType"`
}

func writeToken(w http.ResponseWriter, t accesstoken.Issued) {
	writeJSON(w, http.StatusOK, tokenJSON{AccessToken: t.AccessToken, ExpiresIn: t.ExpiresIn, AccessTokenMaxTTL: t.AccessTokenMaxTTL, TokenType: "Bearer"})
}

// login takes {clientId, clientSecret, organizationSlug?} as JSON or as a
// form; the slug is accepted and ignored. As in Infisical, the
// Content-Type decides: a form type is read as a form, anything else as
// JSON. A JSON body sent as a form (curl -d's default) gets a message that
// says so, rather than "clientId is required".
func (h *handler) login(w http.ResponseWriter, r *http.Request) {
	body, err := h.body(w, r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	decode := stringMembers
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
		decode = formMembers
		if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && trimmed[0] == '{' {
			h.writeError(w, r, validation.Invalid("", "the body is JSON but its Content-Type is "+mt+
				": send Content-Type: application/json, or the fields as a form"))
			return
		}
	}
	in, err := decode(body, "clientId", "clientSecret")
	if err == nil {
		err = required(in, "clientId", "clientSecret")
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	t, err := h.Login.Login(r.Context(), login.Request{ClientID: in["clientId"], ClientSecret: in["clientSecret"], From: h.origin(r)})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeToken(w, t)
}

// bodyToken reads {accessToken} from a renew or revoke body.
func (h *handler) bodyToken(w http.ResponseWriter, r *http.Request) (string, error) {
	body, err := h.body(w, r)
	if err != nil {
		return "", err
	}
	in, err := stringMembers(body, "accessToken")
	if err == nil {
		err = required(in, "accessToken")
	}
	return in["accessToken"], err
}

func (h *handler) renewToken(w http.ResponseWriter, r *http.Request) {
	raw, err := h.bodyToken(w, r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	t, err := h.Tokens.Renew(r.Context(), raw, h.issuer(r))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeToken(w, t)
}

func (h *handler) revokeToken(w http.ResponseWriter, r *http.Request) {
	raw, err := h.bodyToken(w, r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if err := h.Tokens.Revoke(r.Context(), raw, h.issuer(r)); err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Message string `json:"message"`
	}{"Successfully revoked access token"})
}
