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
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"
	"github.com/uauth/uauth/pkg/accesstoken"
	"github.com/uauth/uauth/pkg/audit"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/clientsecret"
	"github.com/uauth/uauth/pkg/dynamostore"
	"github.com/uauth/uauth/pkg/dynamotest"
	"github.com/uauth/uauth/pkg/httpapi"
	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/keyring"
	"github.com/uauth/uauth/pkg/login"
	"github.com/uauth/uauth/pkg/orgdefaults"
	"github.com/uauth/uauth/pkg/testkeys"
	"github.com/uauth/uauth/pkg/uaconfig"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

const (
	orgA = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
	orgB = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
)

var testSecret = []byte(testkeys.PlatformSecret)

// env is one API over its own table in DynamoDB Local, with every DynamoDB
// call counted and one clock for every rule.
type env struct {
	t       testing.TB
	handler http.Handler
	store   *dynamostore.Store
	db      *dynamodb.Client
	table   string
	calls   *dynamotest.Counter
	logs    *logBuffer
	obs     *logBuffer // the EMF lines and the audit trail
	clock   *clock
	signer  *accesstoken.Signer
}

// clock is the services' clock, which tests move forward instead of
// sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{t: t, calls: &dynamotest.Counter{}, logs: &logBuffer{}, obs: &logBuffer{}}
	e.table = dynamotest.NewTable(t)
	e.db = dynamotest.Client(t, e.calls.Option)
	e.store = dynamostore.New(e.db, e.table)
	// Ten years ahead: DynamoDB Local deletes items whose TTL attribute is
	// past by the real clock, which would make records written at a past
	// test time vanish under the test.
	e.clock = &clock{t: time.Date(2036, 11, 7, 5, 31, 56, 123e6, time.UTC)}
	e.handler = e.newHandler(e.store)
	return e
}

// newHandler wires the API over store, as package app does, with the
// env's clock and test keys.
func (e *env) newHandler(store *dynamostore.Store) http.Handler {
	e.t.Helper()
	hasher, err := clientsecret.NewHasher([]byte(testkeys.ClientSecretKey))
	if err != nil {
		e.t.Fatal(err)
	}
	signingKeys, err := keyring.New(context.Background(), keyring.Static(testkeys.SigningKeyPEM()), accesstoken.ParseSigningKey)
	if err != nil {
		e.t.Fatal(err)
	}
	e.signer = accesstoken.NewSigner(signingKeys, "uauth")
	config := uaconfig.NewService(store)
	config.Now = e.clock.now
	tokens := &accesstoken.Service{Store: store, Signer: e.signer, Now: e.clock.now}
	auth := platformAuth(e.t)
	auth.Identity = tokens
	return httpapi.New(httpapi.Options{
		Config:  config,
		Secrets: &clientsecret.Service{Store: store, Hasher: hasher, Now: e.clock.now},
		Login:   &login.Service{Store: store, Hasher: hasher, Signer: e.signer, Now: e.clock.now},
		Tokens:  tokens,
		OrgDefaults: &orgdefaults.Service{Store: store, Now: e.clock.now,
			Deployment: orgdefaults.Deployment(uaconfig.InfisicalDefaults(), true)},
		Auth:    auth,
		Logger:  slog.New(slog.NewJSONHandler(e.logs, nil)),
		Metrics: e.obs,
		Audit:   audit.NewWriter(e.obs),
	})
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
	return e.identityWith(org)
}

// identityWith records a new identity in org holding perms.
func (e *env) identityWith(org string, perms ...caller.Permission) string {
	e.t.Helper()
	id := uuid.NewString()
	list := make([]string, len(perms))
	for i, p := range perms {
		list[i] = string(p)
	}
	err := e.store.RecordIdentity(context.Background(), identity.Identity{ID: id, OrgID: org, Name: "test", Permissions: list, CreatedAt: time.Now()}, nil, "test")
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

// attached records an identity in org with the given permissions and a
// configuration attached with body; it returns the identity and client ids.
func (e *env) attached(org, body string, perms ...caller.Permission) (string, string) {
	e.t.Helper()
	id := e.identityWith(org, perms...)
	c := e.do("POST", path(id), token(e.t, org, caller.OrgAdmin), body).config()
	return id, c["clientId"].(string)
}

// newSecret creates a client secret with body; it returns the secret and
// its clientSecretData.
func (e *env) newSecret(org, id, body string) (string, map[string]any) {
	e.t.Helper()
	resp := e.do("POST", path(id)+"/client-secrets", token(e.t, org, caller.OrgAdmin), body)
	m := resp.ok()
	return m["clientSecret"].(string), m["clientSecretData"].(map[string]any)
}

// login logs in from addr.
func (e *env) login(clientID, secret, addr string, header ...string) *response {
	e.t.Helper()
	b, _ := json.Marshal(map[string]string{"clientId": clientID, "clientSecret": secret})
	return e.doFrom(addr, "POST", "/api/v1/auth/universal-auth/login", "", string(b), header...)
}

// accessToken logs in from addr and returns the access token.
func (e *env) accessToken(clientID, secret, addr string) string {
	e.t.Helper()
	return e.login(clientID, secret, addr).ok()["accessToken"].(string)
}

// do sends one request through the real handler, from the test address
// httptest uses (192.0.2.1).
func (e *env) do(method, target, tok, body string) *response {
	e.t.Helper()
	return e.doFrom("192.0.2.1:1234", method, target, tok, body)
}

// doFrom sends a request from addr (host:port), the TCP peer the handler
// sees, with extra header pairs.
func (e *env) doFrom(addr, method, target, tok, body string, header ...string) *response {
	e.t.Helper()
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, request(addr, method, target, tok, body, header...))
	return &response{t: e.t, rec: rec}
}

// request is a request as a client at addr sends it.
func request(addr, method, target, tok, body string, header ...string) *http.Request {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	req.RemoteAddr = addr
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
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

// ok returns the body of a 200 response.
func (r *response) ok() map[string]any {
	r.t.Helper()
	if r.rec.Code != http.StatusOK {
		r.t.Fatalf("status %d, want 200: %s", r.rec.Code, r.rec.Body.String())
	}
	return r.json()
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

func dynamoClient(t testing.TB) *dynamodb.Client { return dynamotest.Client(t) }

// sortedItems renders items as JSON lines in a stable order.
func sortedItems(items []map[string]types.AttributeValue) []string {
	out := make([]string, len(items))
	for i, it := range items {
		b, _ := json.Marshal(it)
		out[i] = string(b)
	}
	slices.Sort(out)
	return out
}
