package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/dynamostore"
	"github.com/uauth/uauth/pkg/dynamotest"
	"github.com/uauth/uauth/pkg/httpapi"
	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/keyring"
	"github.com/uauth/uauth/pkg/uaconfig"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

const (
	orgA = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
	orgB = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
)

var testSecret = []byte("contract-test-secret-0123456789abcdef")

// env is one API over its own table in DynamoDB Local, with every DynamoDB
// call counted.
type env struct {
	t       testing.TB
	handler http.Handler
	store   *dynamostore.Store
	db      *dynamodb.Client
	table   string
	calls   *dynamotest.Counter
	logs    *logBuffer
	clock   *time.Time
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{t: t, calls: &dynamotest.Counter{}, logs: &logBuffer{}}
	e.table = dynamotest.NewTable(t)
	e.db = dynamotest.Client(t, e.calls.Option)
	e.store = dynamostore.New(e.db, e.table)
	now := time.Date(2026, 11, 7, 5, 31, 56, 123e6, time.UTC)
	e.clock = &now
	svc := uaconfig.NewService(e.store)
	svc.Now = func() time.Time { return *e.clock }
	e.handler = httpapi.New(httpapi.Options{
		Config: svc,
		Auth:   platformAuth(t),
		Logger: slog.New(slog.NewJSONHandler(e.logs, nil)),
	})
	return e
}

// platformAuth accepts platform tokens signed with testSecret.
func platformAuth(t testing.TB) *caller.Authenticator {
	ring, err := keyring.New(context.Background(), keyring.Static(testSecret), keyring.Secret)
	if err != nil {
		t.Fatal(err)
	}
	return &caller.Authenticator{Platform: caller.NewPlatform(ring)}
}

// identity records a new identity in org, as the provisioner would.
func (e *env) identity(org string) string {
	e.t.Helper()
	id := uuid.NewString()
	err := e.store.RecordIdentity(context.Background(), identity.Identity{ID: id, OrgID: org, Name: "test", CreatedAt: time.Now()}, nil, "test")
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func token(t testing.TB, org string, perms ...caller.Permission) string {
	t.Helper()
	s, err := caller.SignPlatform(testSecret, caller.PlatformClaims{Subject: "tester", OrgID: org, ActorType: "user", Permissions: perms,
		IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func path(id string) string { return "/api/v1/auth/universal-auth/identities/" + id }

// do sends one request through the real handler.
func (e *env) do(method, target, tok, body string) *response {
	e.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return &response{t: e.t, rec: rec}
}

// item returns the identity's raw item, to check that refused requests
// changed nothing. The read is not counted.
func (e *env) item(id string) string {
	e.t.Helper()
	out, err := dynamotest.Client(e.t).GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(e.table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "IDENTITY#" + id}, "sk": &types.AttributeValueMemberS{Value: "IDENTITY"}},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := json.Marshal(out.Item)
	return string(b)
}

type response struct {
	t   testing.TB
	rec *httptest.ResponseRecorder
}

func (r *response) status() int { return r.rec.Code }

// json decodes the body into a generic map, so that tests see exactly the
// fields on the wire.
func (r *response) json() map[string]any {
	r.t.Helper()
	if ct := r.rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		r.t.Fatalf("Content-Type = %q, want application/json", ct)
	}
	var m map[string]any
	if err := json.Unmarshal(r.rec.Body.Bytes(), &m); err != nil {
		r.t.Fatalf("body %q is not a JSON object: %v", r.rec.Body.String(), err)
	}
	return m
}

// config returns identityUniversalAuth of a 200 response.
func (r *response) config() map[string]any {
	r.t.Helper()
	if r.rec.Code != http.StatusOK {
		r.t.Fatalf("status %d, want 200: %s", r.rec.Code, r.rec.Body.String())
	}
	c, ok := r.json()["identityUniversalAuth"].(map[string]any)
	if !ok {
		r.t.Fatalf("no identityUniversalAuth object in %s", r.rec.Body.String())
	}
	return c
}

// expectError checks the contract's error shape.
func (r *response) expectError(status int, name, message string) map[string]any {
	r.t.Helper()
	body := r.json()
	if r.rec.Code != status || body["error"] != name || body["statusCode"] != float64(status) {
		r.t.Fatalf("got %d %s, want %d %s: %s", r.rec.Code, body["error"], status, name, r.rec.Body.String())
	}
	if id, _ := body["reqId"].(string); id == "" || id != r.rec.Header().Get("X-Request-Id") {
		r.t.Fatalf("reqId %q missing or not the X-Request-Id header %q", id, r.rec.Header().Get("X-Request-Id"))
	}
	// A message ending in "*" is a prefix: token errors append the reason.
	if prefix, isPrefix := strings.CutSuffix(message, "*"); message != "" {
		got, _ := body["message"].(string)
		if got != message && !(isPrefix && strings.HasPrefix(got, prefix)) {
			r.t.Fatalf("message = %v, want %q", body["message"], message)
		}
	}
	return body
}

// logBuffer collects log lines from concurrent requests.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// lines returns the JSON log lines written so far.
func (l *logBuffer) lines() []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(l.buf.Bytes()), []byte("\n")) {
		var m map[string]any
		if json.Unmarshal(line, &m) == nil {
			out = append(out, m)
		}
	}
	return out
}
