package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/dynamostore"
	"github.com/uauth/uauth/pkg/dynamotest"
	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/lambdatest"
	"github.com/uauth/uauth/pkg/testkeys"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

const org = "11111111-1111-4111-8111-111111111111"

// TestBootstrapServesTheSampleEvent runs the real bootstrap, cold start
// included, and sends it events/apigw-attach.json through the Runtime API.
func TestBootstrapServesTheSampleEvent(t *testing.T) {
	table := dynamotest.NewTable(t)
	raw, err := os.ReadFile("../../events/apigw-attach.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	identityID := ev.PathParameters["identityId"]
	store := dynamostore.New(dynamotest.Client(t), table)
	if err := store.RecordIdentity(context.Background(), identity.Identity{ID: identityID, OrgID: org, CreatedAt: time.Now()}, nil, "test"); err != nil {
		t.Fatal(err)
	}
	secret := "bootstrap-test-secret-0123456789abcdef"
	tok, err := caller.SignPlatform([]byte(secret), caller.PlatformClaims{Subject: "tf", OrgID: org, Permissions: []caller.Permission{caller.IdentityEditAuth},
		IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	ev.Headers["authorization"] = "Bearer " + tok
	payload, _ := json.Marshal(ev)

	fn := lambdatest.Start(t, lambdatest.Build(t, "."), append(localKeys(t),
		"TABLE_NAME="+table, "DYNAMODB_ENDPOINT="+dynamotest.Endpoint(), "AUTH_SECRET="+secret)...)
	for i, want := range []int{200, 400} { // cold, then warm: already configured
		res := fn.Invoke(payload)
		var resp events.APIGatewayV2HTTPResponse
		if res.Error != nil || json.Unmarshal(res.Payload, &resp) != nil || resp.StatusCode != want {
			t.Fatalf("invocation %d: %s, want status %d; log:\n%s", i, res, want, fn.Log())
		}
		if i == 0 {
			t.Logf("cold start to first response: %s", time.Since(fn.Started).Round(time.Millisecond))
		}
	}
	if log := fn.Log(); !strings.Contains(log, `"reqId":"`+ev.RequestContext.RequestID+`"`) {
		t.Fatalf("no log line carries API Gateway's request id:\n%s", log)
	}
}

func TestBootstrapRefusesABadConfiguration(t *testing.T) {
	fn := lambdatest.Start(t, lambdatest.Build(t, "."), "AUTH_SECRET=x", "MAX_BODY_BYTES=-1")
	if res := fn.Invoke([]byte(`{}`)); !res.Exited {
		t.Fatalf("a misconfigured function answered: %s", res)
	}
	if code := fn.ExitCode(); code == 0 {
		t.Fatal("exit code 0")
	}
	log := fn.Log()
	for _, want := range []string{`"msg":"cold start failed"`, "TABLE_NAME is required", "MAX_BODY_BYTES"} {
		if !strings.Contains(log, want) {
			t.Errorf("cold start log lacks %q:\n%s", want, log)
		}
	}
}

// BenchmarkColdStart measures a new bootstrap process from exec to the end
// of its first response (a GET: configuration, DynamoDB client, one
// GetItem), against the same for the smallest aws-lambda-go function. The
// key comes from AUTH_SECRET: the Secrets Manager reads of a real cold
// start are not in the figure.
func BenchmarkColdStart(b *testing.B) {
	table := dynamotest.NewTable(b)
	api, hello := lambdatest.Build(b, "."), lambdatest.BuildBaseline(b)
	tok, _ := caller.SignPlatform([]byte(benchSecret), caller.PlatformClaims{Subject: "bench", OrgID: org, Permissions: []caller.Permission{caller.IdentityRead},
		IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)})
	get, _ := json.Marshal(events.APIGatewayV2HTTPRequest{
		RawPath: "/api/v1/auth/universal-auth/identities/8c1f4b8e-5d2a-4b7e-9f3c-2a6d1e0b7c45",
		Headers: map[string]string{"authorization": "Bearer " + tok},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "bench", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET"},
		},
	})
	var apiTotal, helloTotal time.Duration
	for b.Loop() {
		fn := lambdatest.Start(b, api, append(localKeys(b), "TABLE_NAME="+table, "DYNAMODB_ENDPOINT="+dynamotest.Endpoint(), "AUTH_SECRET="+benchSecret)...)
		if res := fn.Invoke(get); !strings.Contains(string(res.Payload), `"statusCode":404`) {
			b.Fatalf("%s\n%s", res, fn.Log())
		}
		apiTotal += time.Since(fn.Started)
		fn.Stop()

		base := lambdatest.Start(b, hello)
		if res := base.Invoke([]byte(`{}`)); string(res.Payload) != `"hello"` {
			b.Fatalf("baseline: %s", res)
		}
		helloTotal += time.Since(base.Started)
		base.Stop()
	}
	b.ReportMetric(float64(apiTotal.Microseconds())/1000/float64(b.N), "api-cold-ms")
	b.ReportMetric(float64(helloTotal.Microseconds())/1000/float64(b.N), "hello-cold-ms")
	b.ReportMetric(float64(apiTotal)/float64(helloTotal), "api/hello")
}

const benchSecret = "cold-start-bench-secret-0123456789abcdef"

// localKeys is the environment that gives the bootstrap its signing and
// client-secret keys the local way.
func localKeys(t testing.TB) []string {
	file := filepath.Join(t.TempDir(), "signing-key.pem")
	if err := os.WriteFile(file, testkeys.SigningKeyPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"SIGNING_KEY_FILE=" + file, "CLIENT_SECRET_KEY=" + testkeys.ClientSecretKey}
}
