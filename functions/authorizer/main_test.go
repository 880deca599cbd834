package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"

	"github.com/uauth/uauth/pkg/app"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/dynamostore"
	"github.com/uauth/uauth/pkg/dynamotest"
	"github.com/uauth/uauth/pkg/envconfig"
	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/lambdatest"
	"github.com/uauth/uauth/pkg/testkeys"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

const (
	org    = "11111111-1111-4111-8111-111111111111"
	issuer = "http://example.com" // httptest's requests come in on example.com
)

// TestBootstrapDecidesBothKindsOfEvent runs the real bootstrap under the
// Lambda Runtime Interface Emulator with the sample HTTP API and REST API
// events, holding a token an identity got by logging in to the API.
func TestBootstrapDecidesBothKindsOfEvent(t *testing.T) {
	table := dynamotest.NewTable(t)
	tok, identityID, revoke := loggedIn(t, table)
	fn := lambdatest.Start(t, lambdatest.Build(t, "."), "TABLE_NAME="+table, "DYNAMODB_ENDPOINT="+dynamotest.Endpoint(),
		"SIGNING_KEY_FILE="+keyFile(t), "ISSUER="+issuer, "ROUTE_PERMISSIONS=GET /orders/{id}=orders:read")

	httpEvent := sample(t, "authorizer-http.json", tok)
	res := fn.Invoke(httpEvent)
	var simple events.APIGatewayV2CustomAuthorizerSimpleResponse
	if res.Error != nil || json.Unmarshal(res.Payload, &simple) != nil || !simple.IsAuthorized {
		t.Fatalf("HTTP API event: %s; log:\n%s", res, fn.Log())
	}
	for _, k := range []string{"identityId", "orgId", "clientId", "jti", "exp", "permissions"} {
		if simple.Context[k] == nil {
			t.Errorf("context lacks %s: %v", k, simple.Context)
		}
	}
	if simple.Context["identityId"] != identityID || simple.Context["permissions"] != "orders:read" {
		t.Errorf("context = %v", simple.Context)
	}

	restEvent := sample(t, "authorizer-rest.json", tok)
	res = fn.Invoke(restEvent)
	var policy events.APIGatewayCustomAuthorizerResponse
	if res.Error != nil || json.Unmarshal(res.Payload, &policy) != nil {
		t.Fatalf("REST event: %s", res)
	}
	st := policy.PolicyDocument.Statement
	if policy.PrincipalID != identityID || len(st) != 1 || st[0].Effect != "Allow" ||
		st[0].Resource[0] != "arn:aws:execute-api:us-east-1:123456789012:ghi789/prod/GET/orders/42" || policy.Context["identityId"] != identityID {
		t.Fatalf("REST answer = %+v", policy)
	}

	// Revoked: both deny. Without a token: API Gateway's 401.
	revoke()
	if res := fn.Invoke(httpEvent); res.Error != nil || json.Unmarshal(res.Payload, &simple) != nil || simple.IsAuthorized {
		t.Fatalf("HTTP API event, revoked token: %s", res)
	}
	if res := fn.Invoke(restEvent); res.Error != nil || json.Unmarshal(res.Payload, &policy) != nil || policy.PolicyDocument.Statement[0].Effect != "Deny" {
		t.Fatalf("REST event, revoked token: %s", res)
	}
	noToken := strings.ReplaceAll(string(httpEvent), "Bearer "+tok, "")
	if res := fn.Invoke([]byte(noToken)); res.Error == nil || !strings.Contains(string(res.Error), `"errorMessage":"Unauthorized"`) {
		t.Fatalf("no token: %s, want the error Unauthorized", res)
	}
	fn.Stop()
	if !strings.Contains(fn.Log(), `"reason":"revoked"`) || strings.Contains(fn.Log(), tok) {
		t.Fatalf("the deny is not logged with its reason, or the token is logged:\n%s", fn.Log())
	}
}

func TestBootstrapRefusesToStartWithoutAnIssuer(t *testing.T) {
	fn := lambdatest.Start(t, lambdatest.Build(t, "."), "TABLE_NAME=t", "SIGNING_KEY_FILE="+keyFile(t))
	if res := fn.Invoke([]byte(`{}`)); !res.Exited() {
		t.Fatalf("an authorizer without ISSUER answered: %s", res)
	}
	fn.Stop()
	if !fn.InitFailed() || !strings.Contains(fn.Log(), "ISSUER is required") {
		t.Fatalf("cold start log:\n%s", fn.Log())
	}
}

// loggedIn records an identity with orders:read in table, attaches a
// configuration and logs in through the API, as app assembles it; it
// returns the token, the identity and a function that revokes the token.
func loggedIn(t *testing.T, table string) (string, string, func()) {
	t.Helper()
	ctx := context.Background()
	cfg, err := envconfig.Load(func(k string) string {
		return map[string]string{"TABLE_NAME": table, "LOG_LEVEL": "error"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	db := dynamotest.Client(t)
	id := uuid.NewString()
	if err := dynamostore.New(db, table).RecordIdentity(ctx, identity.Identity{ID: id, OrgID: org, Permissions: []string{"orders:read"}, CreatedAt: time.Now()}, nil, "test"); err != nil {
		t.Fatal(err)
	}
	api, err := app.API(ctx, cfg, db, testkeys.Keys(), app.Platform{})
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := caller.SignPlatform([]byte(testkeys.PlatformSecret), caller.PlatformClaims{Subject: "t", OrgID: org,
		Permissions: []caller.Permission{caller.OrgAdmin}, IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)})
	send := func(bearer, method, path, body string) map[string]any {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
		}
		var m map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &m)
		return m
	}
	path := "/api/v1/auth/universal-auth/identities/" + id
	client := send(admin, "POST", path, `{}`)["identityUniversalAuth"].(map[string]any)["clientId"].(string)
	secret := send(admin, "POST", path+"/client-secrets", `{}`)["clientSecret"].(string)
	tok := send("", "POST", "/api/v1/auth/universal-auth/login", `{"clientId":"`+client+`","clientSecret":"`+secret+`"}`)["accessToken"].(string)
	return tok, id, func() { send("", "POST", "/api/v1/auth/token/revoke", `{"accessToken":"`+tok+`"}`) }
}

// sample is a sample event of events/, carrying tok.
func sample(t *testing.T, name, tok string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../events", name))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.ReplaceAll(string(b), "REPLACE_WITH_AN_ACCESS_TOKEN", tok))
}

func keyFile(t *testing.T) string {
	file := filepath.Join(t.TempDir(), "signing-key.pem")
	if err := os.WriteFile(file, testkeys.SigningKeyPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}
