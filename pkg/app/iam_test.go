package app_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"

	"github.com/uauth/uauth/pkg/app"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/dynamotest"
	"github.com/uauth/uauth/pkg/envconfig"
	"github.com/uauth/uauth/pkg/stack"
	"github.com/uauth/uauth/pkg/testkeys"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

const (
	org    = "11111111-1111-4111-8111-111111111111"
	secret = testkeys.PlatformSecret
)

// TestFunctionsAreGrantedExactlyTheCallsTheyMake runs every operation of
// each function, as app assembles it, against DynamoDB Local, records the
// IAM actions its calls need, and holds them equal to what template.yaml
// grants the function on the table: nothing missing (it would fail in AWS),
// nothing extra (least privilege).
func TestFunctionsAreGrantedExactlyTheCallsTheyMake(t *testing.T) {
	tmpl, err := stack.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	table := dynamotest.NewTable(t)
	cfg, err := envconfig.Load(func(k string) string {
		return map[string]string{"TABLE_NAME": table, "LOG_LEVEL": "error", "AUTH_SECRET": secret}[k]
	})
	if err != nil {
		t.Fatal(err)
	}

	provCalls := &dynamotest.Counter{}
	prov := app.Provisioner(cfg, dynamotest.Client(t, provCalls.Option))
	identities := []string{uuid.NewString(), uuid.NewString()}
	deliver := func(detailType, id string) {
		body, _ := json.Marshal(map[string]any{"version": "0", "id": uuid.NewString(), "detail-type": detailType,
			"source": "test", "time": time.Now().UTC().Format(time.RFC3339),
			"detail": map[string]string{"identityId": id, "orgId": org, "name": "n"}})
		resp, err := prov.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: uuid.NewString(), Body: string(body)}}})
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("%s: %v %v", detailType, resp, err)
		}
	}
	for _, id := range identities {
		deliver("Identity Created", id)
	}
	deliver("Identity Created", identities[0]) // a duplicate
	deliver("Identity Deleted", identities[1])

	apiCalls := &dynamotest.Counter{}
	api, err := app.API(context.Background(), cfg, dynamotest.Client(t, apiCalls.Option), testkeys.Keys(), app.Platform{})
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := caller.SignPlatform([]byte(secret), caller.PlatformClaims{Subject: "iam", OrgID: org,
		Permissions: []caller.Permission{caller.OrgAdmin}, IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)})
	do := func(method, path, body string, want int) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, rec.Code, rec.Body, want)
		}
	}
	cfgPath := "/api/v1/auth/universal-auth/identities/" + identities[0]
	do("GET", cfgPath, "", 200)
	do("PATCH", cfgPath, `{"accessTokenTTL": 60}`, 200)
	do("DELETE", cfgPath, "", 200)
	do("POST", cfgPath, `{}`, 200)

	for fn, calls := range map[string]*dynamotest.Counter{"ApiFunction": apiCalls, "ProvisionerFunction": provCalls} {
		granted, err := tmpl.TableActions(fn)
		if err != nil {
			t.Fatal(err)
		}
		if made := calls.Actions(); !slices.Equal(made, granted) {
			t.Errorf("%s: template.yaml grants %v on the table; its calls need %v", fn, granted, made)
		}
	}
}
