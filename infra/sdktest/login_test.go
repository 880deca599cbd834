// Package sdktest logs in to uauth with a real client: Infisical's own Go
// SDK (github.com/infisical/go-sdk), against the API served on a loopback
// port, wired as Lambda wires it.
//
// It is a module of its own so that the SDK's large dependency graph (GCP,
// OCI, OpenTelemetry, gRPC, an older AWS SDK...) stays out of the Lambda
// functions' module: the root go.mod and go.sum never mention it, and the
// root's `go test ./...` skips this directory. Run it from the repository
// root with:
//
//	go build -o bin/uauth-local ./infra/local && bin/uauth-local with-dynamodb -- sh -c 'cd infra/sdktest && go test -race -count=1 ./...'
//
// Without DYNAMODB_ENDPOINT, TestMain starts DynamoDB Local itself.
package sdktest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"
	infisical "github.com/infisical/go-sdk"
	sdkerrors "github.com/infisical/go-sdk/packages/errors"

	"github.com/uauth/uauth/pkg/app"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/dynamolocal"
	"github.com/uauth/uauth/pkg/dynamotest"
	"github.com/uauth/uauth/pkg/envconfig"
	"github.com/uauth/uauth/pkg/testkeys"
)

func TestMain(m *testing.M) {
	// dynamotest.Main finds DynamoDB Local from the nearest go.mod, which
	// here is this module's: without an endpoint, start it from the
	// repository root (two levels up) instead.
	if os.Getenv(dynamotest.EndpointEnv) == "" {
		root, err := filepath.Abs("../..")
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			var inst *dynamolocal.Instance
			inst, err = dynamolocal.Start(ctx, dynamolocal.Options{Root: root})
			cancel()
			if err == nil {
				os.Setenv(dynamotest.EndpointEnv, inst.Endpoint)
				code := dynamotest.Main(m)
				inst.Stop()
				os.Exit(code)
			}
		}
		fmt.Fprintln(os.Stderr, "sdktest:", err)
		os.Exit(1)
	}
	os.Exit(dynamotest.Main(m))
}

const org = "22222222-2222-4222-8222-222222222222"

// stack is the uauth API on a loopback port, with one identity recorded
// through the provisioner and a platform token to administer it.
type stack struct {
	t        *testing.T
	url      string // http://127.0.0.1:PORT
	identity string
	admin    string // platform token with org:admin
	calls    *calls
}

// calls records each request the API answers: the SDK's traffic, seen
// from the server.
type calls struct {
	mu   sync.Mutex
	list []call
}

type call struct {
	Method, Path, Bearer string
	Status               int
}

func (c *calls) record(x call) {
	c.mu.Lock()
	c.list = append(c.list, x)
	c.mu.Unlock()
}

// to returns the calls made to path, in order.
func (c *calls) to(path string) []call {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []call
	for _, x := range c.list {
		if x.Path == path {
			out = append(out, x)
		}
	}
	return out
}

// recordingWriter records its call as the status goes out, before the
// client can see the response.
type recordingWriter struct {
	http.ResponseWriter
	calls *calls
	call  call
	done  bool
}

func (w *recordingWriter) WriteHeader(code int) {
	if !w.done {
		w.done = true
		w.call.Status = code
		w.calls.record(w.call)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	if !w.done {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// newStack starts the API as the Lambda entry point builds it (app.API with
// the configuration read from the environment) behind a real TCP listener,
// and records an identity allowed identity:read by delivering the platform's
// Identity Created event to the provisioner.
func newStack(t *testing.T) *stack {
	t.Helper()
	ctx := context.Background()
	table := dynamotest.NewTable(t)
	// AUTO_ATTACH=false: the provisioner records the identity bare, and
	// each test attaches its own configuration over the API.
	env := map[string]string{"TABLE_NAME": table, "LOG_LEVEL": "error", "AUTO_ATTACH": "false"}
	cfg, err := envconfig.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	db := dynamotest.Client(t)

	id := uuid.NewString()
	body, _ := json.Marshal(map[string]any{"version": "0", "id": uuid.NewString(), "detail-type": "Identity Created",
		"source": "sdktest", "time": time.Now().UTC().Format(time.RFC3339),
		"detail": map[string]any{"identityId": id, "orgId": org, "name": "sdk", "permissions": []string{"identity:read"}}})
	resp, err := app.Provisioner(cfg, db, nil).Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: uuid.NewString(), Body: string(body)}}})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Identity Created: %v %v", resp, err)
	}

	api, err := app.API(ctx, cfg, db, testkeys.Keys(), app.Platform{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &calls{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rw := &recordingWriter{ResponseWriter: w, calls: rec,
				call: call{Method: r.Method, Path: r.URL.Path, Bearer: strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")}}
			api.ServeHTTP(rw, r)
			if !rw.done {
				rw.WriteHeader(http.StatusOK)
			}
		})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	admin, err := caller.SignPlatform([]byte(testkeys.PlatformSecret), caller.PlatformClaims{Subject: "sdktest", OrgID: org,
		Permissions: []caller.Permission{caller.OrgAdmin}, IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return &stack{t: t, url: "http://" + ln.Addr().String(), identity: id, admin: admin, calls: rec}
}

func (s *stack) configPath() string { return "/api/v1/auth/universal-auth/identities/" + s.identity }

// do makes a plain HTTP request with bearer (none if "") and returns the
// status and the decoded body.
func (s *stack) do(bearer, method, path, body string) (int, map[string]any) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

// admin makes a request with the platform token and wants a 200.
func (s *stack) adminDo(method, path, body string) map[string]any {
	s.t.Helper()
	status, m := s.do(s.admin, method, path, body)
	if status != http.StatusOK {
		s.t.Fatalf("%s %s: %d %v", method, path, status, m)
	}
	return m
}

// configure attaches a Universal Auth configuration with settings (JSON)
// and creates a client secret; it returns the client id and the secret.
func (s *stack) configure(settings string) (clientID, clientSecret string) {
	s.t.Helper()
	ua := s.adminDo("POST", s.configPath(), settings)["identityUniversalAuth"].(map[string]any)
	created := s.adminDo("POST", s.configPath()+"/client-secrets", `{}`)
	return ua["clientId"].(string), created["clientSecret"].(string)
}

// logWriter sends the SDK's log lines to the test log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// newClient returns an SDK client on the stack without the background
// token refresh: the tests drive every call themselves.
func (s *stack) newClient() infisical.InfisicalClientInterface {
	return infisical.NewInfisicalClient(context.Background(), infisical.Config{
		SiteUrl:          s.url,
		AutoTokenRefresh: infisical.BoolPtr(false),
		LogWriter:        logWriter{s.t},
	})
}

// apiError wants err to be the SDK's *APIError.
func apiError(t *testing.T, err error) *sdkerrors.APIError {
	t.Helper()
	var apiErr *sdkerrors.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %T %v, want *errors.APIError", err, err)
	}
	return apiErr
}

func TestUniversalAuthLogin(t *testing.T) {
	s := newStack(t)
	clientID, clientSecret := s.configure(`{"accessTokenTTL": 1200, "accessTokenMaxTTL": 7200}`)
	client := s.newClient()

	cred, err := client.Auth().UniversalAuthLogin(clientID, clientSecret)
	if err != nil {
		t.Fatal(err)
	}
	if cred.AccessToken == "" || cred.ExpiresIn != 1200 || cred.AccessTokenMaxTTL != 7200 || cred.TokenType != "Bearer" {
		t.Fatalf("credential = %+v, want a Bearer token with expiresIn 1200 and accessTokenMaxTTL 7200", cred)
	}
	if got := client.Auth().GetAccessToken(); got != cred.AccessToken {
		t.Fatal("the client does not hold the token it logged in with")
	}

	// uauth accepts the token as the identity's bearer: identity:read lets
	// it read its own configuration.
	status, body := s.do(cred.AccessToken, "GET", s.configPath(), "")
	if status != http.StatusOK {
		t.Fatalf("GET configuration with the SDK's token: %d %v", status, body)
	}
	if got := body["identityUniversalAuth"].(map[string]any)["clientId"]; got != clientID {
		t.Fatalf("configuration clientId = %v, want %s", got, clientID)
	}

	// The SDK revokes it, and uauth refuses it from then on.
	if err := client.Auth().RevokeAccessToken(); err != nil {
		t.Fatal(err)
	}
	if client.Auth().GetAccessToken() != "" {
		t.Fatal("the client still holds a token after revoking it")
	}
	if status, body := s.do(cred.AccessToken, "GET", s.configPath(), ""); status != http.StatusUnauthorized {
		t.Fatalf("GET configuration with the revoked token: %d %v, want 401", status, body)
	}
}

func TestUniversalAuthLoginWrongSecret(t *testing.T) {
	s := newStack(t)
	clientID, _ := s.configure(`{}`)

	_, err := s.newClient().Auth().UniversalAuthLogin(clientID, "not-the-secret")
	apiErr := apiError(t, err)
	if apiErr.StatusCode != http.StatusUnauthorized || apiErr.ErrorMessage != "Invalid credentials" || apiErr.ReqId == "" {
		t.Fatalf("APIError = %+v, want 401 \"Invalid credentials\" with a reqId", apiErr)
	}
	if !strings.HasSuffix(apiErr.URL, "/v1/auth/universal-auth/login") || apiErr.Method != http.MethodPost {
		t.Fatalf("APIError = %+v, want the login call", apiErr)
	}
}

func TestUniversalAuthLoginUntrustedIP(t *testing.T) {
	s := newStack(t)
	// The SDK connects from 127.0.0.1, outside the trusted range.
	clientID, clientSecret := s.configure(`{"clientSecretTrustedIps": [{"ipAddress": "10.0.0.0/8"}]}`)

	_, err := s.newClient().Auth().UniversalAuthLogin(clientID, clientSecret)
	apiErr := apiError(t, err)
	const msg = "You are not allowed to access this resource from the current IP address"
	if apiErr.StatusCode != http.StatusForbidden || apiErr.ErrorMessage != msg || apiErr.ReqId == "" {
		t.Fatalf("APIError = %+v, want 403 %q with a reqId", apiErr, msg)
	}
}

// TestTokenRenewal covers renewal. SDK v0.8.0 has no public renew method:
// it renews by itself, with AutoTokenRefresh on, once the token is within
// five seconds of expiry, before its next request. The background
// goroutine that would also do so is kept from starting (a cancelled
// context), so that the renewal happens in this goroutine, on the request.
func TestTokenRenewal(t *testing.T) {
	s := newStack(t)
	clientID, clientSecret := s.configure(`{"accessTokenTTL": 6, "accessTokenMaxTTL": 3600}`)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	client := infisical.NewInfisicalClient(ctx, infisical.Config{SiteUrl: s.url, LogWriter: logWriter{t}})

	cred, err := client.Auth().UniversalAuthLogin(clientID, clientSecret)
	if err != nil {
		t.Fatal(err)
	}
	if cred.ExpiresIn != 6 || cred.AccessTokenMaxTTL != 3600 {
		t.Fatalf("credential = %+v", cred)
	}
	time.Sleep(1100 * time.Millisecond) // now within 5 s of expiry

	// Any request renews first. uauth serves none of the SDK's secret
	// manager routes, so this one is answered 404, with the new token.
	_, err = client.Folders().List(infisical.ListFoldersOptions{ProjectID: "p", Environment: "dev"})
	if apiErr := apiError(t, err); apiErr.StatusCode != http.StatusNotFound {
		t.Fatalf("folders: %+v, want uauth's 404", apiErr)
	}

	renews := s.calls.to("/api/v1/auth/token/renew")
	if len(renews) != 1 || renews[0].Status != http.StatusOK {
		t.Fatalf("renew calls = %+v, want one answered 200", renews)
	}
	if logins := s.calls.to("/api/v1/auth/universal-auth/login"); len(logins) != 1 {
		t.Fatalf("login calls = %+v, want only the first (the renewal must not fall back to a login)", logins)
	}
	renewed := client.Auth().GetAccessToken()
	if renewed == "" || renewed == cred.AccessToken {
		t.Fatal("the client does not hold a renewed token")
	}
	if folders := s.calls.to("/api/v1/folders"); len(folders) != 1 || folders[0].Bearer != renewed {
		t.Fatalf("folders calls = %+v, want one made with the renewed token", folders)
	}
	if status, body := s.do(renewed, "GET", s.configPath(), ""); status != http.StatusOK {
		t.Fatalf("GET configuration with the renewed token: %d %v", status, body)
	}
}
