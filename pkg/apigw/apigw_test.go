package apigw_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/uauth/uauth/pkg/apigw"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/dynamostore"
	"github.com/uauth/uauth/pkg/dynamotest"
	"github.com/uauth/uauth/pkg/httpapi"
	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/keyring"
	"github.com/uauth/uauth/pkg/uaconfig"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

// sample loads events/apigw-attach.json, the event API Gateway sends for
// the Terraform provider's attach.
func sample(t *testing.T) events.APIGatewayV2HTTPRequest {
	raw, err := os.ReadFile("../../events/apigw-attach.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestAdapterRoundTripsTheSampleEvent(t *testing.T) {
	secret := []byte("adapter-secret-0123456789abcdef0123")
	store := dynamostore.New(dynamotest.Client(t), dynamotest.NewTable(t))
	ev := sample(t)
	identityID := ev.PathParameters["identityId"]
	const org = "11111111-1111-4111-8111-111111111111"
	if err := store.RecordIdentity(context.Background(), identity.Identity{ID: identityID, OrgID: org, CreatedAt: time.Now()}, nil, "test"); err != nil {
		t.Fatal(err)
	}
	ring, err := keyring.New(context.Background(), keyring.Static(secret), keyring.Secret)
	if err != nil {
		t.Fatal(err)
	}
	handler := apigw.Handler(httpapi.New(httpapi.Options{
		Config: uaconfig.NewService(store), Auth: &caller.Authenticator{Platform: caller.NewPlatform(ring)}, ClientIP: apigw.SourceIP,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), RequestID: apigw.RequestID,
	}))
	tok, err := caller.SignPlatform(secret, caller.PlatformClaims{Subject: "tf", OrgID: org, Permissions: []caller.Permission{caller.IdentityEditAuth},
		IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	ev.Headers["authorization"] = "Bearer " + tok

	resp, err := handler(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Headers["Content-Type"], "application/json") {
		t.Fatalf("status %d, headers %v: %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	var body struct {
		UA struct {
			IdentityID     string           `json:"identityId"`
			AccessTokenTTL int              `json:"accessTokenTTL"`
			SecretIPs      []map[string]any `json:"clientSecretTrustedIps"`
			TokenIPs       []map[string]any `json:"accessTokenTrustedIps"`
		} `json:"identityUniversalAuth"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		t.Fatal(err)
	}
	if body.UA.IdentityID != identityID || body.UA.AccessTokenTTL != 3600 ||
		body.UA.SecretIPs[0]["prefix"] != 8.0 || body.UA.TokenIPs[0]["prefix"] != nil {
		t.Fatalf("unexpected body %s", resp.Body)
	}
	if resp.Headers["X-Request-Id"] != ev.RequestContext.RequestID {
		t.Fatalf("X-Request-Id = %q, want API Gateway's %q", resp.Headers["X-Request-Id"], ev.RequestContext.RequestID)
	}

	// Errors carry API Gateway's request id as reqId.
	resp, err = handler(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	var errBody map[string]any
	_ = json.Unmarshal([]byte(resp.Body), &errBody)
	if resp.StatusCode != 400 || errBody["reqId"] != ev.RequestContext.RequestID {
		t.Fatalf("second attach: %d %s, want 400 with reqId %s", resp.StatusCode, resp.Body, ev.RequestContext.RequestID)
	}
}
