package httpapi

import (
	"net/http"

	"github.com/uauth/uauth/pkg/accesstoken"
)

const (
	jwksPath      = "/.well-known/jwks.json"
	discoveryPath = "/.well-known/openid-configuration"
)

// The keys and the discovery document are public: verifiers such as an
// API Gateway JWT authorizer fetch them with no credentials.
func (h *handler) routeWellKnown() {
	h.mux.HandleFunc("GET "+jwksPath, h.jwks)
	h.allow(jwksPath, "GET")
	h.mux.HandleFunc("GET "+discoveryPath, h.discovery)
	h.allow(discoveryPath, "GET")
}

func (h *handler) jwks(w http.ResponseWriter, r *http.Request) {
	b, err := h.Tokens.Signer.JWKSFor(r.Context())
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeBody(w, http.StatusOK, b)
}

func (h *handler) discovery(w http.ResponseWriter, r *http.Request) {
	b, err := accesstoken.Discovery(h.issuer(r))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeBody(w, http.StatusOK, b)
}

// issuer is the deployment's URL, which uauth's tokens name as iss: the
// configured one, or else the URL r came in on (API Gateway's domain name
// in Lambda; the Host header on the local stack).
func (h *handler) issuer(r *http.Request) string {
	if h.Issuer != "" {
		return h.Issuer
	}
	if h.BaseURL != nil {
		if u := h.BaseURL(r); u != "" {
			return u
		}
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
