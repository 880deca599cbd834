package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/uauth/uauth/pkg/app"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/dynamotest"
	"github.com/uauth/uauth/pkg/envconfig"
	"github.com/uauth/uauth/pkg/testkeys"
)

// TestEventInjection posts events/eventbridge-identity-created.json, alone
// and in a batch with a poison record, as the walkthrough does.
func TestEventInjection(t *testing.T) {
	cfg, err := envconfig.Load(func(k string) string {
		return map[string]string{"TABLE_NAME": dynamotest.NewTable(t), "LOG_LEVEL": "error"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	db := dynamotest.Client(t)
	api, err := app.API(t.Context(), cfg, db, testkeys.Keys(), app.Platform{})
	if err != nil {
		t.Fatal(err)
	}
	h := newLocalHandler(localRoutes{api: api, prov: app.Provisioner(cfg, db, nil), protected: http.NotFoundHandler()})
	sample, err := os.ReadFile("../../events/eventbridge-identity-created.json")
	if err != nil {
		t.Fatal(err)
	}
	post := func(body string) events.SQSEventResponse {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", eventsPath, strings.NewReader(body)))
		var resp events.SQSEventResponse
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &resp) != nil {
			t.Fatalf("%d %s", rec.Code, rec.Body.String())
		}
		return resp
	}
	if resp := post(string(sample)); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("sample event failed: %+v", resp)
	}
	if resp := post(`[` + string(sample) + `, {"detail-type": "nonsense"}]`); len(resp.BatchItemFailures) != 1 {
		t.Fatalf("batch with one poison record: %+v, want exactly one failure", resp)
	}

	tok, _ := mintToken(testkeys.PlatformSecret, devOrgID, devActor, "user", []caller.Permission{caller.IdentityRead}, 60e9)
	req := httptest.NewRequest("GET", "/api/v1/auth/universal-auth/identities/8c1f4b8e-5d2a-4b7e-9f3c-2a6d1e0b7c45", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("the injected identity has no configuration: %d %s", rec.Code, rec.Body.String())
	}

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", eventsPath, nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("GET %s: %d", eventsPath, rec.Code)
	}
}
