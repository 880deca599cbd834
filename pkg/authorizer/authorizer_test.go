package authorizer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/uauth/uauth/pkg/accesstoken"
	"github.com/uauth/uauth/pkg/authorizer"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/clientsecret"
	"github.com/uauth/uauth/pkg/dynamostore"
	"github.com/uauth/uauth/pkg/dynamotest"
	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/keyring"
	"github.com/uauth/uauth/pkg/login"
	"github.com/uauth/uauth/pkg/testkeys"
	"github.com/uauth/uauth/pkg/uaconfig"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

const (
	org    = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
	issuer = "https://uauth.example"
	ipA    = "192.0.2.1"
)

// env is the authorizer over its own table in DynamoDB Local, with the
// services that set up identities and log them in, on one clock.
type env struct {
	t       *testing.T
	store   *dynamostore.Store
	calls   *dynamotest.Counter
	config  *uaconfig.Service
	secrets *clientsecret.Service
	login   *login.Service
	tokens  *accesstoken.Service
	auth    *authorizer.Authorizer
	logs    *syncBuffer
	now     atomic.Pointer[time.Time]
}

func newEnv(t *testing.T) *env {
	e := &env{t: t, calls: &dynamotest.Counter{}, logs: &syncBuffer{}}
	start := time.Now()
	e.now.Store(&start)
	clock := func() time.Time { return *e.now.Load() }
	e.store = dynamostore.New(dynamotest.Client(t, e.calls.Option), dynamotest.NewTable(t))
	ring, err := keyring.New(context.Background(), keyring.Static(testkeys.SigningKeyPEM()), accesstoken.ParseSigningKey)
	if err != nil {
		t.Fatal(err)
	}
	signer := accesstoken.NewSigner(ring, "uauth")
	hasher, err := clientsecret.NewHasher([]byte(testkeys.ClientSecretKey))
	if err != nil {
		t.Fatal(err)
	}
	e.config = &uaconfig.Service{Store: e.store, Defaults: uaconfig.InfisicalDefaults(), Now: clock}
	e.secrets = &clientsecret.Service{Store: e.store, Hasher: hasher, Now: clock}
	e.login = &login.Service{Store: e.store, Hasher: hasher, Signer: signer, Now: clock}
	e.tokens = &accesstoken.Service{Store: e.store, Signer: signer, Now: clock}
	e.auth = &authorizer.Authorizer{Tokens: e.tokens, Issuer: issuer,
		Routes: map[string]caller.Permission{"GET /orders/{id}": "orders:read"},
		Logger: slog.New(slog.NewJSONHandler(e.logs, nil))}
	return e
}

func (e *env) advance(d time.Duration) {
	t := e.now.Load().Add(d)
	e.now.Store(&t)
}

// session is an identity logged in.
type session struct{ id, client, secret, secretID, token string }

// identity records an identity with perms, attaches a configuration from
// body (an attach body), creates a secret and logs in from ipA.
func (e *env) identity(body string, perms ...string) session {
	e.t.Helper()
	ctx := context.Background()
	s := session{id: uuid.NewString()}
	if err := e.store.RecordIdentity(ctx, identity.Identity{ID: s.id, OrgID: org, Permissions: perms, CreatedAt: time.Now()}, nil, "test"); err != nil {
		e.t.Fatal(err)
	}
	settings, err := uaconfig.DecodeSettings([]byte(body), s.id)
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := e.config.Attach(ctx, org, s.id, settings, "test", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	s.client = c.ClientID
	secret, data, err := e.secrets.Create(ctx, org, s.id, clientsecret.CreateRequest{}, "test", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	s.secret, s.secretID = secret, data.ID
	s.token = e.loginAs(s)
	return s
}

func (e *env) loginAs(s session) string {
	e.t.Helper()
	issued, err := e.login.Login(context.Background(), login.Request{ClientID: s.client, ClientSecret: s.secret,
		From: caller.Origin{IP: netip.MustParseAddr(ipA), Issuer: issuer}})
	if err != nil {
		e.t.Fatalf("login: %v", err)
	}
	return issued.AccessToken
}

// decide asks the authorizer about a request with tok from ip to route.
func (e *env) decide(tok, ip, route string) (authorizer.Decision, error) {
	header := ""
	if tok != "" {
		header = "Bearer " + tok
	}
	return e.auth.Decide(context.Background(), authorizer.Request{Authorization: header, SourceIP: ip, RouteKey: route, RequestID: "req-1"})
}

func (e *env) mustAllow(tok, ip, route string) authorizer.Decision {
	e.t.Helper()
	d, err := e.decide(tok, ip, route)
	if err != nil || !d.Allow {
		e.t.Fatalf("want an allow, got %+v, %v", d, err)
	}
	return d
}

func (e *env) mustDeny(tok, ip, route, reason string) {
	e.t.Helper()
	d, err := e.decide(tok, ip, route)
	if err != nil || d.Allow || d.Reason != reason {
		e.t.Fatalf("want a deny for %q, got %+v, %v", reason, d, err)
	}
}

func TestAllowCarriesTheContext(t *testing.T) {
	e := newEnv(t)
	s := e.identity(`{}`, "orders:read", "orders:write")
	e.calls.Reset()
	d := e.mustAllow(s.token, ipA, "GET /orders")
	claims := parse(t, s.token)
	want := map[string]any{"identityId": s.id, "orgId": org, "clientId": s.client, "jti": claims.ID,
		"exp": claims.ExpiresAt.Unix(), "permissions": "orders:read orders:write"}
	if !reflect.DeepEqual(d.Context, want) || d.PrincipalID != s.id {
		t.Fatalf("context %v, principal %q\nwant %v", d.Context, d.PrincipalID, want)
	}
	if got := e.calls.Total(); got != 1 {
		t.Fatalf("%d DynamoDB round trips, want 1 (%v)", got, e.calls.Calls())
	}
}

// TestEveryRuleOfAUse: each way a token stops being usable is a deny, with
// its reason, in front of another API exactly as on uauth's own routes.
func TestEveryRuleOfAUse(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name   string
		body   string
		spoil  func(e *env, s session) string // returns the token to present
		ip     string
		reason string
	}{
		{"revoked token", `{}`, func(e *env, s session) string {
			if err := e.tokens.Revoke(ctx, s.token, issuer); err != nil {
				t.Fatal(err)
			}
			return s.token
		}, ipA, accesstoken.InactiveRevoked},
		{"revoked secret's token", `{}`, func(e *env, s session) string {
			if _, err := e.secrets.Revoke(ctx, org, s.id, s.secretID, "test", nil); err != nil {
				t.Fatal(err)
			}
			return s.token
		}, ipA, accesstoken.InactiveSecretRevoked},
		{"revoked configuration", `{}`, func(e *env, s session) string {
			if _, err := e.config.Revoke(ctx, org, s.id, "test", nil); err != nil {
				t.Fatal(err)
			}
			return s.token
		}, ipA, accesstoken.InactiveMethodRevoked},
		{"re-attached configuration", `{}`, func(e *env, s session) string {
			if _, err := e.config.Revoke(ctx, org, s.id, "test", nil); err != nil {
				t.Fatal(err)
			}
			if _, err := e.config.Attach(ctx, org, s.id, uaconfig.Settings{}, "test", nil); err != nil {
				t.Fatal(err)
			}
			return s.token
		}, ipA, accesstoken.InactiveMethodRevoked},
		{"deleted identity", `{}`, func(e *env, s session) string {
			if err := e.store.DeleteIdentity(ctx, s.id, org, time.Now(), time.Now().Add(time.Hour), "test"); err != nil {
				t.Fatal(err)
			}
			return s.token
		}, ipA, accesstoken.InactiveIdentityGone},
		{"expired token", `{"accessTokenTTL": 60}`, func(e *env, s session) string {
			e.advance(60*time.Second + caller.Leeway + time.Second)
			return s.token
		}, ipA, accesstoken.InactiveInvalid},
		{"another audience", `{}`, func(e *env, s session) string {
			return reissue(t, e, s.token, func(c jwt.MapClaims) { c["aud"] = "another-api" })
		}, ipA, accesstoken.InactiveInvalid},
		{"another issuer", `{}`, func(e *env, s session) string {
			return reissue(t, e, s.token, func(c jwt.MapClaims) { c["iss"] = "https://evil.example" })
		}, ipA, accesstoken.InactiveInvalid},
		{"HS256 signed with the public key", `{}`, func(e *env, s session) string {
			return confused(t, s.token)
		}, ipA, authorizer.ReasonPlatformToken},
		{"address outside accessTokenTrustedIps", `{"accessTokenTrustedIps": [{"ipAddress": "10.0.0.0/8"}]}`,
			func(e *env, s session) string { return s.token }, ipA, accesstoken.InactiveIPRefused},
		{"limited token used up", `{"accessTokenNumUsesLimit": 1}`, func(e *env, s session) string {
			e.mustAllow(s.token, ipA, "GET /orders")
			return s.token
		}, ipA, accesstoken.InactiveUsageLimit},
		{"route permission missing", `{}`, func(e *env, s session) string { return s.token },
			ipA, authorizer.ReasonPermissionDenied},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			s := e.identity(tc.body)
			route := "GET /orders"
			if tc.reason == authorizer.ReasonPermissionDenied {
				route = "GET /orders/{id}"
			}
			tok := tc.spoil(e, s)
			e.mustDeny(tok, tc.ip, route, tc.reason)
			// Every deny is logged with its reason and the jti, never the token.
			logs := e.logs.String()
			if !strings.Contains(logs, `"reason":"`+tc.reason+`"`) || !strings.Contains(logs, parse(t, s.token).ID) {
				t.Fatalf("the deny's log line lacks its reason or jti:\n%s", logs)
			}
			if strings.Contains(logs, tok) || strings.Contains(logs, s.token) {
				t.Fatal("a token was logged")
			}
		})
	}
}

// TestTheSourceAddressIsThePlatforms: the trusted IPs are checked against
// API Gateway's sourceIp; a client's X-Forwarded-For changes nothing.
func TestTheSourceAddressIsThePlatforms(t *testing.T) {
	e := newEnv(t)
	s := e.identity(`{"accessTokenTrustedIps": [{"ipAddress": "10.0.0.0/8"}]}`)
	ev := httpEvent(s.token, ipA, "GET /orders")
	ev.Headers["x-forwarded-for"] = "10.1.2.3"
	ev.Headers["x-real-ip"] = "10.1.2.3"
	resp, err := e.auth.HTTP(context.Background(), ev)
	if err != nil || resp.IsAuthorized {
		t.Fatalf("a spoofed header got %+v, %v", resp, err)
	}
	ev.RequestContext.HTTP.SourceIP = "10.1.2.3"
	if resp, err := e.auth.HTTP(context.Background(), ev); err != nil || !resp.IsAuthorized {
		t.Fatalf("a trusted source address got %+v, %v", resp, err)
	}
	rest := restEvent(s.token, ipA)
	rest.Headers["X-Forwarded-For"] = "10.1.2.3"
	if resp, err := e.auth.REST(context.Background(), rest); err != nil || resp.PolicyDocument.Statement[0].Effect != "Deny" {
		t.Fatalf("REST with a spoofed header got %+v, %v", resp, err)
	}
	rest.RequestContext.Identity.SourceIP = "10.1.2.3"
	if resp, err := e.auth.REST(context.Background(), rest); err != nil || resp.PolicyDocument.Statement[0].Effect != "Allow" {
		t.Fatalf("REST from a trusted address got %+v, %v", resp, err)
	}
}

func TestRoutePermissions(t *testing.T) {
	e := newEnv(t)
	reader := e.identity(`{}`, "orders:read")
	admin := e.identity(`{}`, string(caller.OrgAdmin))
	nobody := e.identity(`{}`)
	e.mustAllow(reader.token, ipA, "GET /orders/{id}")
	e.mustAllow(admin.token, ipA, "GET /orders/{id}") // org:admin covers every permission
	e.mustDeny(nobody.token, ipA, "GET /orders/{id}", authorizer.ReasonPermissionDenied)
	e.mustAllow(nobody.token, ipA, "GET /orders") // not in the map: a valid token will do

	// A limited token's permission is checked inside the transaction that
	// counts its use; a refusal counts nothing.
	limited := e.identity(`{"accessTokenNumUsesLimit": 1}`)
	e.mustDeny(limited.token, ipA, "GET /orders/{id}", authorizer.ReasonPermissionDenied)
	e.mustAllow(limited.token, ipA, "GET /orders")
}

// TestPlatformTokens are refused unless allowed: they carry no revocation,
// use limit or trusted IPs for uauth to check.
func TestPlatformTokens(t *testing.T) {
	e := newEnv(t)
	tok, err := caller.SignPlatform([]byte(testkeys.PlatformSecret), caller.PlatformClaims{Subject: "u1", OrgID: org,
		ActorType: caller.ActorUser, Permissions: []caller.Permission{"orders:read"}, IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	e.mustDeny(tok, ipA, "GET /orders", authorizer.ReasonPlatformToken)
	ring, err := keyring.New(context.Background(), keyring.Static([]byte(testkeys.PlatformSecret)), keyring.Secret)
	if err != nil {
		t.Fatal(err)
	}
	e.auth.Platform = caller.NewPlatform(ring)
	d := e.mustAllow(tok, ipA, "GET /orders/{id}")
	if d.Context["identityId"] != "u1" || d.Context["permissions"] != "orders:read" {
		t.Fatalf("context = %v", d.Context)
	}
	other, _ := caller.SignPlatform([]byte(testkeys.PlatformSecret), caller.PlatformClaims{Subject: "u2", OrgID: org,
		IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)})
	e.mustDeny(other, ipA, "GET /orders/{id}", authorizer.ReasonPermissionDenied)
	// Allowed, they are still HS256 with the platform's key only: an
	// identity token's claims signed with uauth's public key are not one.
	s := e.identity(`{}`)
	e.mustDeny(confused(t, s.token), ipA, "GET /orders", accesstoken.InactiveInvalid)
}

// TestNoOrMalformedTokenIsUnauthorized: API Gateway answers these with its
// 401, before any rule.
func TestNoOrMalformedTokenIsUnauthorized(t *testing.T) {
	e := newEnv(t)
	for _, header := range []string{"", "Bearer", "Bearer ", "Basic abc", "Bearer not-a-jwt", "Bearer a.b.c"} {
		_, err := e.auth.Decide(context.Background(), authorizer.Request{Authorization: header, SourceIP: ipA})
		if !errors.Is(err, authorizer.ErrUnauthorized) || err.Error() != "Unauthorized" {
			t.Errorf("%q: %v, want Unauthorized", header, err)
		}
	}
	if got := e.calls.Total(); got != 0 {
		t.Fatalf("%d DynamoDB calls for tokens that do not parse", got)
	}
}

// TestADatabaseFailureIsAnErrorNeverAnAllow.
func TestADatabaseFailureIsAnErrorNeverAnAllow(t *testing.T) {
	e := newEnv(t)
	unlimited := e.identity(`{}`)
	limited := e.identity(`{"accessTokenNumUsesLimit": 5}`)
	e.tokens.Store = dynamostore.New(failingDB{e.store.DB}, e.store.Table)
	for _, tok := range []string{unlimited.token, limited.token} {
		d, err := e.decide(tok, ipA, "GET /orders")
		if err == nil || d.Allow || errors.Is(err, authorizer.ErrUnauthorized) {
			t.Fatalf("a failing database gave %+v, %v", d, err)
		}
	}
}

// TestConcurrentUsesOfALimitedToken: 20 authorizations at once of a token
// with 5 uses give exactly 5 allows.
func TestConcurrentUsesOfALimitedToken(t *testing.T) {
	e := newEnv(t)
	s := e.identity(`{"accessTokenNumUsesLimit": 5}`)
	var allows, denies atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 20 {
		wg.Go(func() {
			<-start
			d, err := e.decide(s.token, ipA, "GET /orders")
			switch {
			case err != nil:
				t.Error(err)
			case d.Allow:
				allows.Add(1)
			case d.Reason == accesstoken.InactiveUsageLimit:
				denies.Add(1)
			default:
				t.Errorf("deny for %q", d.Reason)
			}
		})
	}
	close(start)
	wg.Wait()
	if allows.Load() != 5 || denies.Load() != 15 {
		t.Fatalf("%d allows and %d denies, want 5 and 15", allows.Load(), denies.Load())
	}
}

// TestHandleTellsTheEventsApart: one function serves HTTP APIs (payload
// 2.0, simple responses) and REST APIs (REQUEST, an IAM policy).
func TestHandleTellsTheEventsApart(t *testing.T) {
	e := newEnv(t)
	s := e.identity(`{}`)
	raw, _ := json.Marshal(httpEvent(s.token, ipA, "GET /orders"))
	out, err := e.auth.Handle(context.Background(), raw)
	if simple, ok := out.(events.APIGatewayV2CustomAuthorizerSimpleResponse); err != nil || !ok || !simple.IsAuthorized || simple.Context["identityId"] != s.id {
		t.Fatalf("HTTP API event: %#v, %v", out, err)
	}
	rest := restEvent(s.token, ipA)
	raw, _ = json.Marshal(rest)
	out, err = e.auth.Handle(context.Background(), raw)
	policy, ok := out.(events.APIGatewayCustomAuthorizerResponse)
	if err != nil || !ok || policy.PrincipalID != s.id || policy.Context["identityId"] != s.id {
		t.Fatalf("REST event: %#v, %v", out, err)
	}
	want := events.APIGatewayCustomAuthorizerPolicy{Version: "2012-10-17", Statement: []events.IAMPolicyStatement{
		{Action: []string{"execute-api:Invoke"}, Effect: "Allow", Resource: []string{rest.MethodArn}}}}
	if !reflect.DeepEqual(policy.PolicyDocument, want) {
		t.Fatalf("policy = %+v", policy.PolicyDocument)
	}
	for _, bad := range []string{`{"type":"TOKEN","authorizationToken":"Bearer x","methodArn":"arn"}`, `[]`, `{}`} {
		if _, err := e.auth.Handle(context.Background(), json.RawMessage(bad)); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
	// Without a token, both answer API Gateway's 401.
	ev := httpEvent("", ipA, "GET /orders")
	delete(ev.Headers, "authorization")
	if _, err := e.auth.HTTP(context.Background(), ev); !errors.Is(err, authorizer.ErrUnauthorized) {
		t.Fatalf("HTTP without a token: %v", err)
	}
	if _, err := e.auth.REST(context.Background(), restEvent("", ipA)); !errors.Is(err, authorizer.ErrUnauthorized) {
		t.Fatalf("REST without a token: %v", err)
	}
}

func TestParseRoutes(t *testing.T) {
	got, err := authorizer.ParseRoutes(" GET /orders/{id} = orders:read ;\nPOST  /orders=orders:write\n")
	want := map[string]caller.Permission{"GET /orders/{id}": "orders:read", "POST /orders": "orders:write"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseRoutes = %v, %v", got, err)
	}
	if got, err := authorizer.ParseRoutes(""); err != nil || len(got) != 0 {
		t.Fatalf("empty: %v, %v", got, err)
	}
	for _, bad := range []string{"GET /orders", "/orders=x", "GET orders=x", "GET /a=x;GET /a=y", "GET /a=two words", "GET /a="} {
		if _, err := authorizer.ParseRoutes(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

func httpEvent(tok, ip, route string) events.APIGatewayV2CustomAuthorizerV2Request {
	ev := events.APIGatewayV2CustomAuthorizerV2Request{Version: "2.0", Type: "REQUEST", RouteKey: route,
		RouteArn: "arn:aws:execute-api:us-east-1:123456789012:api/$default/GET/orders",
		Headers:  map[string]string{"authorization": "Bearer " + tok}}
	ev.RequestContext.HTTP.SourceIP = ip
	ev.RequestContext.RequestID = "req-http"
	return ev
}

func restEvent(tok, ip string) events.APIGatewayCustomAuthorizerRequestTypeRequest {
	ev := events.APIGatewayCustomAuthorizerRequestTypeRequest{Type: "REQUEST", HTTPMethod: "GET", Resource: "/orders",
		MethodArn: "arn:aws:execute-api:us-east-1:123456789012:api/prod/GET/orders",
		Headers:   map[string]string{"Authorization": "Bearer " + tok}}
	if tok == "" {
		ev.Headers = map[string]string{}
	}
	ev.RequestContext.Identity.SourceIP = ip
	return ev
}

func parse(t *testing.T, tok string) *caller.Claims {
	t.Helper()
	p, err := caller.Parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	return &p.Claims
}

// reissue signs tok's claims, changed by mod, with uauth's own key: a
// token whose signature is good but whose claims are not for this API.
func reissue(t *testing.T, e *env, tok string, mod func(jwt.MapClaims)) string {
	t.Helper()
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tok, claims); err != nil {
		t.Fatal(err)
	}
	mod(claims)
	key := e.tokens.Signer.Keys.Keys(context.Background())[0]
	j := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	j.Header["kid"] = key.Public.KeyID
	s, err := j.SignedString(key.Private)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// confused is tok's claims as HS256 with uauth's public key as the secret:
// the algorithm-confusion attack.
func confused(t *testing.T, tok string) string {
	t.Helper()
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tok, claims); err != nil {
		t.Fatal(err)
	}
	key, _ := accesstoken.ParseSigningKey(testkeys.SigningKeyPEM())
	pub, _ := json.Marshal(key.Public)
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(pub)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// failingDB fails the reads and transactions a token's use makes.
type failingDB struct{ dynamostore.DynamoDB }

var errDown = errors.New("injected: DynamoDB is unavailable")

func (failingDB) BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return nil, errDown
}

func (failingDB) TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return nil, errDown
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }
