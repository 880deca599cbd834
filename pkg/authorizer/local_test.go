package authorizer_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/uuid"

	"github.com/uauth/uauth/pkg/authorizer"
	"github.com/uauth/uauth/pkg/caller"
)

// TestLocalHandlerAnswersAsAPIGateway: the local demo API puts each
// request through the authorizer as API Gateway would (the TCP peer as
// sourceIp, "METHOD /_local/protected/{proxy+}" as routeKey, a request id
// of its own) and answers as API Gateway does: 200 with the authorizer's
// context, 403 on a deny, 401 without a token, 500 when the authorizer
// fails.
func TestLocalHandlerAnswersAsAPIGateway(t *testing.T) {
	e := newEnv(t)
	e.auth.Routes = map[string]caller.Permission{"POST " + authorizer.LocalPrefix + "/{proxy+}": "orders:write"}
	reader := e.identity(`{}`, "orders:read")
	fenced := e.identity(`{"accessTokenTrustedIps": [{"ipAddress": "10.0.0.0/8"}]}`)
	issuerOf := issuer
	h := authorizer.LocalHandler(e.auth, func(*http.Request) string { return issuerOf })

	serve := func(method, tok, remote string) (*httptest.ResponseRecorder, map[string]any) {
		t.Helper()
		r := httptest.NewRequest(method, authorizer.LocalPrefix+"/orders/1?x=y", nil)
		r.RemoteAddr = remote
		if tok != "" {
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		var body map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s %s: body %q: %v", method, remote, w.Body.String(), err)
		}
		if w.Header().Get("Content-Type") != "application/json" || uuid.Validate(w.Header().Get("Apigw-Requestid")) != nil {
			t.Fatalf("headers %v", w.Header())
		}
		return w, body
	}
	const from = ipA + ":40000"

	w, body := serve("GET", reader.token, from)
	if w.Code != http.StatusOK || body["identityId"] != reader.id || body["permissions"] != "orders:read" || body["jti"] != parse(t, reader.token).ID {
		t.Fatalf("allowed: %d %v", w.Code, body)
	}
	for _, tc := range []struct {
		name, method, tok, remote string
		status                    int
		message                   string
	}{
		{"the route's permission missing", "POST", reader.token, from, http.StatusForbidden, "Forbidden"},
		{"the peer outside the trusted IPs", "GET", fenced.token, from, http.StatusForbidden, "Forbidden"},
		{"a peer address that does not parse", "GET", reader.token, "somewhere", http.StatusForbidden, "Forbidden"},
		{"no token", "GET", "", from, http.StatusUnauthorized, "Unauthorized"},
	} {
		if w, body := serve(tc.method, tc.tok, tc.remote); w.Code != tc.status || len(body) != 1 || body["message"] != tc.message {
			t.Errorf("%s: %d %v, want %d %q", tc.name, w.Code, body, tc.status, tc.message)
		}
	}
	issuerOf = "" // the authorizer cannot decide without an issuer
	if w, body := serve("GET", reader.token, from); w.Code != http.StatusInternalServerError || body["message"] != "Internal Server Error" {
		t.Errorf("no issuer: %d %v", w.Code, body)
	}
}
