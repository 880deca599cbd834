package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/httpapi"
	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/uaconfig"
)

// absentStore knows no identity. The fuzzer is about the handler's own
// behaviour on hostile input; the store is tested against DynamoDB Local.
type absentStore struct{}

func (absentStore) CreateConfig(context.Context, string, uaconfig.Config, string, identity.Guard) error {
	return identity.ErrNotFound
}
func (absentStore) GetConfig(context.Context, string, string) (uaconfig.Config, error) {
	return uaconfig.Config{}, identity.ErrNotFound
}
func (absentStore) UpdateConfig(context.Context, string, string, func(uaconfig.Config) (uaconfig.Config, error), string, identity.Guard) (uaconfig.Config, error) {
	return uaconfig.Config{}, identity.ErrNotFound
}
func (absentStore) DeleteConfig(context.Context, string, string, time.Time, string, identity.Guard) (uaconfig.Config, error) {
	return uaconfig.Config{}, identity.ErrNotFound
}

// FuzzHandler: whatever the method, path, token and body, the answer is
// JSON, and every error has the contract's shape with a request id.
func FuzzHandler(f *testing.F) {
	h := httpapi.New(httpapi.Options{
		Config: uaconfig.NewService(absentStore{}), Auth: platformAuth(f),
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), MaxBodyBytes: 1024,
	})
	admin := token(f, orgA, caller.OrgAdmin)
	id := "8c1f4b8e-5d2a-4b7e-9f3c-2a6d1e0b7c45"
	f.Add("POST", id, true, `{}`)
	f.Add("PATCH", id+"/", true, `{"accessTokenTTL":1}`)
	f.Add("DELETE", "./"+id, false, `[`)
	f.Add("GET", "%2e%2e/"+id, true, ``)
	f.Add("PUT", id, true, `{"clientSecretTrustedIps":[{"ipAddress":"1.2.3.4/8x"}]}`)
	f.Fuzz(func(t *testing.T, method, suffix string, withToken bool, body string) {
		req, err := http.NewRequest(method, "http://uauth/api/v1/auth/universal-auth/identities/"+suffix, strings.NewReader(body))
		if err != nil {
			return // not a request a client could send
		}
		if withToken {
			req.Header.Set("Authorization", "Bearer "+admin)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("%s %q: Content-Type %q, status %d", method, suffix, ct, rec.Code)
		}
		var e struct {
			ReqID      string `json:"reqId"`
			StatusCode int    `json:"statusCode"`
			Message    any    `json:"message"`
			Error      string `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
			t.Fatalf("body %q: %v", rec.Body.String(), err)
		}
		if rec.Code == http.StatusOK || rec.Code >= 500 {
			t.Fatalf("%s %q %q: status %d %s", method, suffix, body, rec.Code, rec.Body.String())
		}
		if e.ReqID == "" || e.StatusCode != rec.Code || e.Error == "" || e.Message == nil {
			t.Fatalf("error body %s does not have the contract's shape", rec.Body.String())
		}
	})
}
