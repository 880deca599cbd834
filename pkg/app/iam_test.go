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
	"github.com/uauth/uauth/pkg/authorizer"
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
	prov := app.Provisioner(cfg, dynamotest.Client(t, provCalls.Option), nil)
	identities := []string{uuid.NewString(), uuid.NewString()}
	deliver := func(detailType, id string) {
		body, _ := json.Marshal(map[string]any{"version": "0", "id": uuid.NewString(), "detail-type": detailType,
			"source": "test", "time": time.Now().UTC().Format(time.RFC3339),
			"detail": map[string]any{"identityId": id, "orgId": org, "name": "n", "permissions": []string{"identity:read"}}})
		resp, err := prov.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: uuid.NewString(), Body: string(body)}}})
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("%s: %v %v", detailType, resp, err)
		}
	}
	for _, id := range identities {
		deliver("Identity Created", id)
	}
	deliver("Identity Created", identities[0]) // a duplicate
	deliver("Identity Updated", identities[0])
	deliver("Identity Deleted", identities[1])

	apiCalls := &dynamotest.Counter{}
	api, err := app.API(context.Background(), cfg, dynamotest.Client(t, apiCalls.Option), testkeys.Keys(), app.Platform{})
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := caller.SignPlatform([]byte(secret), caller.PlatformClaims{Subject: "iam", OrgID: org,
		Permissions: []caller.Permission{caller.OrgAdmin}, IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)})
	// send makes one request as bearer (none if ""), and returns the body.
	send := func(bearer, method, path, body string, want int) map[string]any {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, rec.Code, rec.Body, want)
		}
		var m map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &m)
		return m
	}
	do := func(method, path, body string, want int) map[string]any { return send(tok, method, path, body, want) }
	cfgPath := "/api/v1/auth/universal-auth/identities/" + identities[0]
	do("GET", cfgPath, "", 200)
	do("PATCH", cfgPath, `{"accessTokenTTL": 60}`, 200)
	do("DELETE", cfgPath, "", 200)
	client := do("POST", cfgPath, `{"accessTokenNumUsesLimit": 5}`, 200)["identityUniversalAuth"].(map[string]any)["clientId"].(string)

	// Client secrets, login and lockouts.
	created := do("POST", cfgPath+"/client-secrets", `{}`, 200)
	secret := created["clientSecret"].(string)
	secretID := created["clientSecretData"].(map[string]any)["id"].(string)
	do("GET", cfgPath+"/client-secrets", "", 200)
	do("GET", cfgPath+"/client-secrets/"+secretID, "", 200)
	login := func(secret string, want int) map[string]any {
		return send("", "POST", "/api/v1/auth/universal-auth/login", `{"clientId":"`+client+`","clientSecret":"`+secret+`"}`, want)
	}
	access := login(secret, 200)["accessToken"].(string) // a limited token, and the use count due
	login(secret, 200)
	login("wrong", 401)
	login(secret, 200) // clears the failure
	login("wrong", 401)
	do("POST", cfgPath+"/clear-lockouts", "", 200)

	// A limited token's use, renewal and revocation.
	send(access, "GET", cfgPath, "", 200)
	renewed := send("", "POST", "/api/v1/auth/token/renew", `{"accessToken":"`+access+`"}`, 200)["accessToken"].(string)
	send("", "POST", "/api/v1/auth/token/revoke", `{"accessToken":"`+renewed+`"}`, 200)
	do("POST", cfgPath+"/client-secrets/"+secretID+"/revoke", "", 200)

	// An unlimited token's use.
	do("PATCH", cfgPath, `{"accessTokenNumUsesLimit": 0}`, 200)
	limited := do("POST", cfgPath+"/client-secrets", `{"numUsesLimit": 3}`, 200)["clientSecret"].(string)
	send(login(limited, 200)["accessToken"].(string), "GET", cfgPath, "", 200)

	// The authorizer: an unlimited token's use, a limited one's, a deny.
	authzCalls := &dynamotest.Counter{}
	authzCfg := cfg
	authzCfg.Issuer = "http://example.com" // httptest's requests come in on example.com
	authz, err := app.Authorizer(context.Background(), authzCfg, dynamotest.Client(t, authzCalls.Option), testkeys.Keys().Signing, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	unlimited := login(limited, 200)["accessToken"].(string)
	do("PATCH", cfgPath, `{"accessTokenNumUsesLimit": 2}`, 200)
	limitedToken := login(limited, 200)["accessToken"].(string)
	for bearer, allow := range map[string]bool{unlimited: true, limitedToken: true, renewed: false} {
		d, err := authz.Decide(context.Background(), authorizer.Request{Authorization: "Bearer " + bearer, SourceIP: "192.0.2.1", RouteKey: "GET /x"})
		if err != nil || d.Allow != allow {
			t.Fatalf("authorizer: %+v, %v; want allow %v", d, err, allow)
		}
	}

	for fn, calls := range map[string]*dynamotest.Counter{"ApiFunction": apiCalls, "ProvisionerFunction": provCalls, "AuthorizerFunction": authzCalls} {
		granted, err := tmpl.TableActions(fn)
		if err != nil {
			t.Fatal(err)
		}
		if made := calls.Actions(); !slices.Equal(made, granted) {
			t.Errorf("%s: template.yaml grants %v on the table; its calls need %v", fn, granted, made)
		}
	}
}
