package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/google/uuid"

	"github.com/uauth/uauth/pkg/accesstoken"
	"github.com/uauth/uauth/pkg/authorizer"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/dynamostore"
	"github.com/uauth/uauth/pkg/httpapi"
)

// The API reference, docs/openapi.yaml, is checked here against the real
// handler, over DynamoDB Local: a table of requests produces, for every
// operation, its success and every error status it documents, and each
// answer is validated against the document (status, headers, Content-Type
// and body) with kin-openapi's openapi3filter.ValidateResponse.
//
// kin-openapi v0.153.0 supports OpenAPI 3.1: doc.Validate checks a 3.1
// document as such, and openapi3filter validates bodies of a 3.1 document
// with its JSON Schema 2020-12 validator (openapi3.EnableJSONSchema2020),
// so that "type: [integer, 'null']", const, if/then and the keywords next
// to a $ref mean what 3.1 says. The router is routers/legacy, which needs
// nothing beyond kin-openapi (gorillamux would add gorilla/mux).
//
// Three statuses are not tied to one operation:
//   - 405: every path answers it to the methods it does not list. OpenAPI
//     3.1 has no place for "any other method" (its path items have fixed
//     method fields), so the document describes it on each path item and in
//     components.responses.MethodNotAllowed, which each path's 405 is
//     validated against; its Allow header must list exactly the path's
//     documented operations.
//   - 404 "Route not found", for paths the document does not list:
//     validated against components.responses.NotFound.
//   - 429 comes from API Gateway's throttling, before the handler runs, so
//     the handler cannot produce it. Every operation must document it, and
//     API Gateway's fixed answer is validated against each of them.
//
// Coverage is checked both ways: every documented operation × status (and
// every path's 405) must be produced by a request of the table, and every
// answer must be documented (IncludeResponseStatus).

const openapiPath = "../../docs/openapi.yaml"

// schemaCheck says what the document must make of a request.
type schemaCheck int

const (
	// schemaAccepts: the request conforms to the document (ValidateRequest
	// passes); its refusal, if any, is one the document describes in words,
	// such as a TTL above the max TTL or an unknown identity.
	schemaAccepts schemaCheck = iota
	// schemaRejects: the document's schema already refuses it (a 422
	// the schema predicts, or a missing bearer token).
	schemaRejects
	// schemaUnchecked: the document cannot say (an oversized body, a
	// bearer token that is not valid).
	schemaUnchecked
)

// apiCase is one request of the table.
type apiCase struct {
	name string
	// op is the operation as the document names it, "METHOD /path/{param}";
	// for a 405, a method the path does not list; "" for a path the
	// document does not list.
	op     string
	status int
	// The request.
	method, target, token, body string
	header                      []string     // extra header pairs
	from                        string       // TCP peer; addrA if empty
	handler                     http.Handler // the env's handler if nil
	schema                      schemaCheck
}

const (
	configT   = "/api/v1/auth/universal-auth/identities/{identityId}"
	secretsT  = configT + "/client-secrets"
	secretT   = secretsT + "/{clientSecretId}"
	revokeT   = secretT + "/revoke"
	lockoutsT = configT + "/clear-lockouts"
	loginT    = "/api/v1/auth/universal-auth/login"
	renewT    = "/api/v1/auth/token/renew"
	revokeTkT = "/api/v1/auth/token/revoke"
	jwksT     = "/.well-known/jwks.json"
	discT     = "/.well-known/openid-configuration"
	orgDefT   = "/api/v1/auth/universal-auth/org-defaults"
	localT    = "GET /_local/protected/{proxy}"
)

func TestOpenAPIDocumentMatchesTheHandler(t *testing.T) {
	doc, router := loadOpenAPI(t)
	e := newEnv(t)
	cases := openapiCases(t, e, doc)

	produced := map[string]bool{}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s %d %s", c.op, c.status, c.name), func(t *testing.T) {
			checkCase(t, doc, router, e, c)
		})
		produced[coverageKey(doc, c)] = true
	}

	documented := map[string]bool{}
	for p, item := range doc.Paths.Map() {
		if !isLocal(item) { // the local stack's paths serve every method
			documented[fmt.Sprintf("%s 405", p)] = true
		}
		for method, op := range item.Operations() {
			for status := range op.Responses.Map() {
				if status == "429" {
					continue // API Gateway's; see TestOpenAPIThrottlingIsDocumented
				}
				documented[fmt.Sprintf("%s %s %s", method, p, status)] = true
			}
		}
	}
	documented["route not found 404"] = true
	for _, k := range openapiSortedKeys(documented) {
		if !produced[k] {
			t.Errorf("documented but produced by no request of the table: %s", k)
		}
	}
	for _, k := range openapiSortedKeys(produced) {
		if !documented[k] {
			t.Errorf("produced but not documented: %s", k)
		}
	}
}

// coverageKey is what a case covers: "METHOD /path status", "/path 405"
// or "route not found 404".
func coverageKey(doc *openapi3.T, c apiCase) string {
	if c.op == "" {
		return fmt.Sprintf("route not found %d", c.status)
	}
	method, p, _ := strings.Cut(c.op, " ")
	if item := doc.Paths.Value(p); item != nil && item.GetOperation(method) == nil {
		return fmt.Sprintf("%s %d", p, c.status)
	}
	return fmt.Sprintf("%s %d", c.op, c.status)
}

// checkCase sends c through the handler and validates the request and the
// answer against the document.
func checkCase(t *testing.T, doc *openapi3.T, router routers.Router, e *env, c apiCase) {
	h := c.handler
	if h == nil {
		h = e.handler
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, c.request())
	if rec.Code != c.status {
		t.Fatalf("status %d, want %d: %s", rec.Code, c.status, rec.Body)
	}

	ctx := context.Background()
	req := c.request()
	route, params, operation := routeOf(t, doc, router, req, c)
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: &openapi3filter.Options{
		AuthenticationFunc: openapiBearerPresent, SkipSettingDefaults: true, IncludeResponseStatus: true, MultiError: true,
	}}
	if operation { // the document describes the request too
		err := openapi3filter.ValidateRequest(ctx, in)
		switch {
		case c.schema == schemaAccepts && err != nil:
			t.Errorf("the document refuses the request: %v", err)
		case c.schema == schemaRejects && err == nil:
			t.Errorf("the document accepts the request, which the handler refuses with %d: %s", rec.Code, rec.Body)
		}
	}

	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.Code, Header: rec.Header(), Options: in.Options}
	out.SetBodyBytes(rec.Body.Bytes())
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		t.Errorf("the answer does not match the document: %v\nbody: %s", err, rec.Body)
	}
	if rec.Code >= 400 && !isLocal(route.PathItem) { // API Gateway's own answers carry no reqId
		if id := rec.Header().Get("X-Request-Id"); !strings.Contains(rec.Body.String(), `"reqId":"`+id+`"`) {
			t.Errorf("reqId is not the X-Request-Id header %q: %s", id, rec.Body)
		}
	}
	if rec.Code == http.StatusMethodNotAllowed {
		var want []string
		for m := range route.PathItem.Operations() {
			want = append(want, m)
		}
		got := strings.Split(rec.Header().Get("Allow"), ", ")
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("Allow lists %v, the document %v", got, want)
		}
	}
}

// routeOf finds the document's route for req and checks it is c.op. A 405
// gets its path item with an operation made of
// components.responses.MethodNotAllowed, an undocumented path one made of
// components.responses.NotFound.
func routeOf(t *testing.T, doc *openapi3.T, router routers.Router, req *http.Request, c apiCase) (route *routers.Route, params map[string]string, operation bool) {
	t.Helper()
	// The handler accepts a trailing slash on every path; the document
	// lists each path once, without.
	r := req.Clone(req.Context())
	if p := r.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") {
		r.URL.Path = strings.TrimSuffix(p, "/")
	}
	if c.op == "" {
		for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"} {
			r.Method = m
			if route, _, err := router.FindRoute(r); err == nil {
				t.Fatalf("%s is a documented path (%s %s), not an unknown one", r.URL.Path, route.Method, route.Path)
			}
		}
		r.Method = req.Method
		return syntheticRoute(doc, r.URL.Path, &openapi3.PathItem{}, r.Method, "NotFound", http.StatusNotFound), nil, false
	}
	method, p, _ := strings.Cut(c.op, " ")
	item := doc.Paths.Value(p)
	if item == nil {
		t.Fatalf("%s is not a path of the document", p)
	}
	if item.GetOperation(method) == nil {
		// A 405: the target must be this path, as routed with a method it lists.
		for m := range item.Operations() {
			r.Method = m
			if route, _, err := router.FindRoute(r); err == nil && route.Path == p {
				return syntheticRoute(doc, p, item, method, "MethodNotAllowed", http.StatusMethodNotAllowed), nil, false
			}
		}
		t.Fatalf("%s does not route to %s", req.URL.Path, p)
	}
	route, params, err := router.FindRoute(r)
	if err != nil {
		t.Fatalf("no documented route for %s %s: %v", r.Method, r.URL.Path, err)
	}
	if got := route.Method + " " + route.Path; got != c.op {
		t.Fatalf("%s %s routes to %s, the table says %s", r.Method, r.URL.Path, got, c.op)
	}
	return route, params, true
}

// syntheticRoute is a route whose one operation answers status with the named
// component response.
func syntheticRoute(doc *openapi3.T, p string, item *openapi3.PathItem, method, response string, status int) *routers.Route {
	op := &openapi3.Operation{Responses: openapi3.NewResponses(openapi3.WithStatus(status, doc.Components.Responses[response]))}
	return &routers.Route{Spec: doc, Path: p, PathItem: item, Method: method, Operation: op}
}

// openapiBearerPresent is the document's bearer scheme as far as a document can
// tell: an Authorization header with a Bearer credential. Whether the token
// is valid is the handler's business.
func openapiBearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if s := in.SecurityScheme; s.Type != "http" || s.Scheme != "bearer" {
		return fmt.Errorf("unexpected security scheme %s %s", s.Type, s.Scheme)
	}
	if _, ok := caller.BearerToken(in.RequestValidationInput.Request); !ok {
		return errors.New("no bearer token")
	}
	return nil
}

func (c apiCase) request() *http.Request {
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	r := httptest.NewRequest(c.method, c.target, body)
	r.RemoteAddr = c.from
	if r.RemoteAddr == "" {
		r.RemoteAddr = addrA
	}
	if c.token != "" {
		r.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(c.header); i += 2 {
		r.Header.Set(c.header[i], c.header[i+1])
	}
	if c.body != "" && r.Header.Get("Content-Type") == "" {
		r.Header.Set("Content-Type", "application/json")
	}
	return r
}

// loadOpenAPI loads and validates the document, and routes its operations.
func loadOpenAPI(t *testing.T) (*openapi3.T, routers.Router) {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(openapiPath)
	if err != nil {
		t.Fatal(err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi %q, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(loader.Context, openapi3.EnableExamplesValidation(), openapi3.EnableSchemaDefaultsValidation()); err != nil {
		t.Fatalf("docs/openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	// The servers name deployments; the table's requests come in on
	// httptest's example.com. Route on paths alone.
	routed := *doc
	routed.Servers = nil
	router, err := legacy.NewRouter(&routed)
	if err != nil {
		t.Fatal(err)
	}
	return doc, router
}

// docPermission is the permission the document says op needs.
func docPermission(t *testing.T, doc *openapi3.T, op string) caller.Permission {
	t.Helper()
	method, p, _ := strings.Cut(op, " ")
	o := doc.Paths.Value(p).GetOperation(method)
	perm, _ := o.Extensions["x-uauth-permission"].(string)
	if perm == "" {
		t.Fatalf("%s names no x-uauth-permission", op)
	}
	return caller.Permission(perm)
}

// openapiCases sets up the identities, secrets and tokens the table needs
// and returns the table. Cases run in order, but none depends on another.
func openapiCases(t *testing.T, e *env, doc *openapi3.T) []apiCase {
	admin := token(t, orgA, caller.OrgAdmin)
	// permitted holds exactly the permission the document names for op;
	// denied holds every other one.
	permitted := func(op string) string { return token(t, orgA, docPermission(t, doc, op)) }
	// permittedIn is permitted in org: the org-defaults routes act on the
	// token's org, so each case that reads or changes them has an org of
	// its own.
	permittedIn := func(org, op string) string { return token(t, org, docPermission(t, doc, op)) }
	denied := func(op string) string {
		need := docPermission(t, doc, op)
		var others []caller.Permission
		for _, p := range []caller.Permission{caller.IdentityRead, caller.IdentityEditAuth, caller.IdentityRevokeAuth} {
			if p != need {
				others = append(others, p)
			}
		}
		return token(t, orgA, others...)
	}

	target, _ := e.attached(orgA, `{}`)
	_, sec := e.newSecret(orgA, target, `{"description": "read me"}`)
	secretID := sec["id"].(string)
	_, toRevoke := e.newSecret(orgA, target, `{}`)
	bare := e.identity(orgA)
	foreign, _ := e.attached(orgB, `{}`)
	gone, _ := e.attached(orgA, `{}`)
	spare, _ := e.attached(orgA, `{}`) // a DELETE allowed by mistake would remove only this
	fresh := e.identity(orgA)
	unknown := uuid.NewString()
	loginID, loginClient := e.attached(orgA, `{"clientSecretTrustedIps":[{"ipAddress":"192.0.2.0/24"}]}`)
	loginSecret, _ := e.newSecret(orgA, loginID, `{}`)

	reader := e.identityToken(`{}`, addrA, caller.IdentityRead)
	fenced := e.identityToken(`{"accessTokenTrustedIps":[{"ipAddress":"10.0.0.0/8"}]}`, addrA, caller.IdentityEditAuth)
	revoked := e.identityToken(`{}`, addrA, caller.IdentityRead)
	e.do("POST", revokeTkT, "", `{"accessToken":"`+revoked.token+`"}`).ok()
	renewable := e.identityToken(`{}`, addrA)
	dropped := e.identityToken(`{}`, addrA)

	// Orgs whose admin set defaults, and orgs with none (the deployment's).
	orgDefaultsBody := `{"accessTokenTTL": 3600, "accessTokenMaxTTL": 86400, "accessTokenTrustedIps": [{"ipAddress": "10.0.0.0/8"}], "autoAttach": false}`
	withDefaults, toClear := uuid.NewString(), uuid.NewString()
	for _, org := range []string{withDefaults, toClear} {
		e.do("PUT", orgDefT, token(t, org, caller.OrgAdmin), orgDefaultsBody).ok()
	}
	noDefaults, neverSet, toSet, toReset := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()

	// protected is the local stack's demo protected API over the same
	// table; protectedBroken, over a database that fails every call.
	protected := localProtected(e, e.store)
	protectedBroken := localProtected(e, dynamostore.New(unavailableDB{}, e.table))
	// broken is the same API over a database that fails every call;
	// racing, over one where every write to an identity loses a race.
	broken := e.newHandler(dynamostore.New(unavailableDB{}, e.table))
	racing := e.newHandler(dynamostore.New(racingDB{e.db}, e.table))
	throttled := e.newHandler(dynamostore.New(throttlingDB{e.db}, e.table))
	// The well-known documents read nothing that can fail, so their only 500
	// is the recovery of a panic, which every route shares: here, from a
	// handler whose signer is missing and whose BaseURL panics.
	panicking := httpapi.New(httpapi.Options{
		Tokens:  &accesstoken.Service{},
		BaseURL: func(*http.Request) string { panic("injected") },
		Logger:  slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})

	tooBig := `{"x":"` + strings.Repeat("a", 20<<10) + `"}`
	formType := []string{"Content-Type", "application/x-www-form-urlencoded"}
	cfg := func(id string) string { return "/api/v1/auth/universal-auth/identities/" + id }
	secrets := func(id string) string { return cfg(id) + "/client-secrets" }
	fullBody := `{"identityId": "` + fresh + `",
		"clientSecretTrustedIps": [{"ipAddress": "10.1.2.3/8"}, {"ipAddress": "192.168.1.5"}],
		"accessTokenTrustedIps": [{"ipAddress": "2001:db8::/32"}, {"ipAddress": "::1"}],
		"accessTokenTTL": 3600, "accessTokenMaxTTL": 7200, "accessTokenNumUsesLimit": 10, "accessTokenPeriod": 0,
		"lockoutEnabled": false, "lockoutThreshold": 5, "lockoutDurationSeconds": 600, "lockoutCounterResetSeconds": 60}`
	form := url.Values{"clientId": {loginClient}, "clientSecret": {loginSecret}, "organizationSlug": {"acme"}}.Encode()
	// Identities holding more than the permitted tokens do (the permission
	// boundary), and one holding nothing, which any caller may act on.
	privileged := e.identityWith(orgA, caller.OrgAdmin)
	privilegedCfg, _ := e.attached(orgA, `{}`, caller.OrgAdmin)
	_, privilegedSec := e.newSecret(orgA, privilegedCfg, `{}`)
	privilegedSecret := secrets(privilegedCfg) + "/" + privilegedSec["id"].(string)
	contested, _ := e.attached(orgA, `{}`)
	contestedBare := e.identity(orgA)

	const (
		attach   = "POST " + configT
		read     = "GET " + configT
		update   = "PATCH " + configT
		remove   = "DELETE " + configT
		create   = "POST " + secretsT
		list     = "GET " + secretsT
		get      = "GET " + secretT
		revoke   = "POST " + revokeT
		clear    = "POST " + lockoutsT
		login    = "POST " + loginT
		renew    = "POST " + renewT
		revokeTk = "POST " + revokeTkT
		intro    = "POST " + introspectT
		jwks     = "GET " + jwksT
		disc     = "GET " + discT
		getDef   = "GET " + orgDefT
		putDef   = "PUT " + orgDefT
		delDef   = "DELETE " + orgDefT
	)
	return []apiCase{
		// Attach.
		{name: "every field", op: attach, status: 200, method: "POST", target: cfg(fresh), token: permitted(attach), body: fullBody},
		{name: "hostname as IP", op: attach, status: 400, method: "POST", target: cfg(bare), token: admin, body: `{"clientSecretTrustedIps":[{"ipAddress":"example.com"}]}`},
		{name: "already configured", op: attach, status: 400, method: "POST", target: cfg(target), token: admin, body: `{}`},
		{name: "no token", op: attach, status: 401, method: "POST", target: cfg(bare), body: `{}`, schema: schemaRejects},
		{name: "permission denied", op: attach, status: 403, method: "POST", target: cfg(bare), token: denied(attach), body: `{}`},
		{name: "beyond the permission boundary", op: attach, status: 403, method: "POST", target: cfg(privileged), token: permitted(attach), body: `{}`},
		{name: "permissions changed meanwhile", op: attach, status: 409, method: "POST", target: cfg(contestedBare), token: permitted(attach), body: `{}`, handler: racing},
		{name: "invalid token", op: attach, status: 403, method: "POST", target: cfg(bare), token: "not.a.token", body: `{}`, schema: schemaUnchecked},
		{name: "unknown identity", op: attach, status: 404, method: "POST", target: cfg(unknown), token: admin, body: `{}`},
		{name: "body too large", op: attach, status: 413, method: "POST", target: cfg(bare), token: admin, body: tooBig, schema: schemaUnchecked},
		{name: "out of range", op: attach, status: 422, method: "POST", target: cfg(bare), token: admin, body: `{"lockoutThreshold": 31}`, schema: schemaRejects},
		{name: "path id not a UUID", op: attach, status: 422, method: "POST", target: cfg("not-a-uuid"), token: admin, body: `{}`, schema: schemaRejects},
		{name: "database down", op: attach, status: 500, method: "POST", target: cfg(bare), token: admin, body: `{}`, handler: broken},
		{name: "throttled", op: attach, status: 503, method: "POST", target: cfg(bare), token: admin, body: `{}`, handler: throttled},

		// Read.
		{name: "platform token, trailing slash", op: read, status: 200, method: "GET", target: cfg(target) + "/", token: permitted(read)},
		{name: "identity access token", op: read, status: 200, method: "GET", target: cfg(strings.ToUpper(target)), token: reader.token},
		{name: "revoked identity access token", op: read, status: 401, method: "GET", target: cfg(target), token: revoked.token},
		{name: "permission denied", op: read, status: 403, method: "GET", target: cfg(target), token: denied(read)},
		{name: "no configuration", op: read, status: 404, method: "GET", target: cfg(bare), token: admin},
		{name: "path id not a UUID", op: read, status: 422, method: "GET", target: cfg("{" + target + "}"), token: admin, schema: schemaRejects},
		{name: "database down", op: read, status: 500, method: "GET", target: cfg(target), token: admin, handler: broken},
		{name: "throttled", op: read, status: 503, method: "GET", target: cfg(target), token: admin, handler: throttled},

		// Update.
		{name: "JavaScript numbers and null", op: update, status: 200, method: "PATCH", target: cfg(target), token: permitted(update),
			body: `{"accessTokenTTL": 3600.0, "lockoutThreshold": 4e0, "lockoutEnabled": null, "accessTokenTrustedIps": [{"ipAddress": "0.0.0.0/0"}, {"ipAddress": "::/0"}]}`},
		{name: "TTL above the stored max", op: update, status: 400, method: "PATCH", target: cfg(target), token: admin, body: `{"accessTokenTTL": 2592001}`},
		{name: "no token", op: update, status: 401, method: "PATCH", target: cfg(target), body: `{}`, schema: schemaRejects},
		{name: "identity token from an untrusted address", op: update, status: 403, method: "PATCH", target: cfg(target), token: fenced.token, body: `{}`},
		{name: "permission denied", op: update, status: 403, method: "PATCH", target: cfg(target), token: denied(update), body: `{}`},
		{name: "beyond the permission boundary", op: update, status: 403, method: "PATCH", target: cfg(privilegedCfg), token: permitted(update), body: `{}`},
		{name: "concurrent updates kept winning", op: update, status: 409, method: "PATCH", target: cfg(contested), token: admin, body: `{}`, handler: racing},
		{name: "another org's identity", op: update, status: 404, method: "PATCH", target: cfg(foreign), token: admin, body: `{}`},
		{name: "body too large", op: update, status: 413, method: "PATCH", target: cfg(target), token: admin, body: tooBig, schema: schemaUnchecked},
		{name: "wrong type", op: update, status: 422, method: "PATCH", target: cfg(target), token: admin, body: `{"accessTokenTTL": "3600"}`, schema: schemaRejects},
		{name: "empty IP list", op: update, status: 422, method: "PATCH", target: cfg(target), token: admin, body: `{"clientSecretTrustedIps": []}`, schema: schemaRejects},
		{name: "database down", op: update, status: 500, method: "PATCH", target: cfg(target), token: admin, body: `{}`, handler: broken},
		{name: "throttled", op: update, status: 503, method: "PATCH", target: cfg(target), token: admin, body: `{}`, handler: throttled},

		// Revoke the configuration.
		{name: "with the Terraform provider's body", op: remove, status: 200, method: "DELETE", target: cfg(gone), token: permitted(remove), body: `{"identityId": "` + gone + `"}`},
		{name: "no configuration", op: remove, status: 400, method: "DELETE", target: cfg(bare), token: admin},
		{name: "no token", op: remove, status: 401, method: "DELETE", target: cfg(target), schema: schemaRejects},
		{name: "permission denied", op: remove, status: 403, method: "DELETE", target: cfg(spare), token: denied(remove)},
		{name: "beyond the permission boundary", op: remove, status: 403, method: "DELETE", target: cfg(privilegedCfg), token: permitted(remove)},
		{name: "permissions changed meanwhile", op: remove, status: 409, method: "DELETE", target: cfg(contested), token: permitted(remove), handler: racing},
		{name: "unknown identity", op: remove, status: 404, method: "DELETE", target: cfg(unknown), token: admin},
		{name: "body too large", op: remove, status: 413, method: "DELETE", target: cfg(target), token: admin, body: tooBig, schema: schemaUnchecked},
		{name: "identityId differs from the path", op: remove, status: 422, method: "DELETE", target: cfg(target), token: admin, body: `{"identityId": "` + bare + `"}`},
		{name: "database down", op: remove, status: 500, method: "DELETE", target: cfg(target), token: admin, handler: broken},
		{name: "throttled", op: remove, status: 503, method: "DELETE", target: cfg(target), token: admin, handler: throttled},

		// Create a client secret.
		{name: "every field", op: create, status: 200, method: "POST", target: secrets(target), token: permitted(create),
			body: `{"identityId": "` + target + `", "description": "ci", "numUsesLimit": 5, "ttl": 3600}`},
		{name: "no configuration", op: create, status: 400, method: "POST", target: secrets(bare), token: admin, body: `{}`},
		{name: "no token", op: create, status: 401, method: "POST", target: secrets(target), body: `{}`, schema: schemaRejects},
		{name: "permission denied", op: create, status: 403, method: "POST", target: secrets(target), token: denied(create), body: `{}`},
		{name: "beyond the permission boundary", op: create, status: 403, method: "POST", target: secrets(privilegedCfg), token: permitted(create), body: `{}`},
		{name: "permissions changed meanwhile", op: create, status: 409, method: "POST", target: secrets(contested), token: permitted(create), body: `{}`, handler: racing},
		{name: "another org's identity", op: create, status: 404, method: "POST", target: secrets(foreign), token: admin, body: `{}`},
		{name: "body too large", op: create, status: 413, method: "POST", target: secrets(target), token: admin, body: tooBig, schema: schemaUnchecked},
		{name: "negative use limit", op: create, status: 422, method: "POST", target: secrets(target), token: admin, body: `{"numUsesLimit": -1}`, schema: schemaRejects},
		{name: "TTL too long", op: create, status: 422, method: "POST", target: secrets(target), token: admin, body: `{"ttl": 315360001}`, schema: schemaRejects},
		{name: "database down", op: create, status: 500, method: "POST", target: secrets(target), token: admin, body: `{}`, handler: broken},
		{name: "throttled", op: create, status: 503, method: "POST", target: secrets(target), token: admin, body: `{}`, handler: throttled},

		// List client secrets.
		{name: "ok", op: list, status: 200, method: "GET", target: secrets(target), token: permitted(list)},
		{name: "no configuration", op: list, status: 400, method: "GET", target: secrets(bare), token: admin},
		{name: "no token", op: list, status: 401, method: "GET", target: secrets(target), schema: schemaRejects},
		{name: "permission denied", op: list, status: 403, method: "GET", target: secrets(target), token: denied(list)},
		{name: "beyond the permission boundary", op: list, status: 403, method: "GET", target: secrets(privilegedCfg), token: permitted(list)},
		{name: "another org's identity", op: list, status: 404, method: "GET", target: secrets(foreign), token: admin},
		{name: "path id not a UUID", op: list, status: 422, method: "GET", target: secrets("nope"), token: admin, schema: schemaRejects},
		{name: "database down", op: list, status: 500, method: "GET", target: secrets(target), token: admin, handler: broken},
		{name: "throttled", op: list, status: 503, method: "GET", target: secrets(target), token: admin, handler: throttled},

		// Read a client secret.
		{name: "ok", op: get, status: 200, method: "GET", target: secrets(target) + "/" + secretID, token: permitted(get)},
		{name: "no configuration", op: get, status: 400, method: "GET", target: secrets(bare) + "/" + secretID, token: admin},
		{name: "no token", op: get, status: 401, method: "GET", target: secrets(target) + "/" + secretID, schema: schemaRejects},
		{name: "permission denied", op: get, status: 403, method: "GET", target: secrets(target) + "/" + secretID, token: denied(get)},
		{name: "beyond the permission boundary", op: get, status: 403, method: "GET", target: privilegedSecret, token: permitted(get)},
		{name: "unknown secret", op: get, status: 404, method: "GET", target: secrets(target) + "/" + unknown, token: admin},
		{name: "secret id not a UUID", op: get, status: 422, method: "GET", target: secrets(target) + "/nope", token: admin, schema: schemaRejects},
		{name: "database down", op: get, status: 500, method: "GET", target: secrets(target) + "/" + secretID, token: admin, handler: broken},
		{name: "throttled", op: get, status: 503, method: "GET", target: secrets(target) + "/" + secretID, token: admin, handler: throttled},

		// Revoke a client secret.
		{name: "with the Terraform provider's body", op: revoke, status: 200, method: "POST", target: secrets(target) + "/" + toRevoke["id"].(string) + "/revoke",
			token: permitted(revoke), body: `{"identityId": "` + target + `", "clientSecretId": "` + toRevoke["id"].(string) + `"}`},
		{name: "no configuration", op: revoke, status: 400, method: "POST", target: secrets(bare) + "/" + secretID + "/revoke", token: admin},
		{name: "no token", op: revoke, status: 401, method: "POST", target: secrets(target) + "/" + secretID + "/revoke", schema: schemaRejects},
		{name: "permission denied", op: revoke, status: 403, method: "POST", target: secrets(target) + "/" + secretID + "/revoke", token: denied(revoke)},
		{name: "beyond the permission boundary", op: revoke, status: 403, method: "POST", target: privilegedSecret + "/revoke", token: permitted(revoke)},
		{name: "unknown secret", op: revoke, status: 404, method: "POST", target: secrets(target) + "/" + unknown + "/revoke", token: admin},
		{name: "body too large", op: revoke, status: 413, method: "POST", target: secrets(target) + "/" + secretID + "/revoke", token: admin, body: tooBig, schema: schemaUnchecked},
		{name: "clientSecretId differs from the path", op: revoke, status: 422, method: "POST", target: secrets(target) + "/" + secretID + "/revoke", token: admin,
			body: `{"clientSecretId": "` + unknown + `"}`},
		{name: "database down", op: revoke, status: 500, method: "POST", target: secrets(target) + "/" + secretID + "/revoke", token: admin, handler: broken},
		{name: "throttled", op: revoke, status: 503, method: "POST", target: secrets(target) + "/" + secretID + "/revoke", token: admin, handler: throttled},

		// Clear lockouts.
		{name: "ok", op: clear, status: 200, method: "POST", target: cfg(target) + "/clear-lockouts", token: permitted(clear)},
		{name: "no configuration", op: clear, status: 400, method: "POST", target: cfg(bare) + "/clear-lockouts", token: admin},
		{name: "no token", op: clear, status: 401, method: "POST", target: cfg(target) + "/clear-lockouts", schema: schemaRejects},
		{name: "permission denied", op: clear, status: 403, method: "POST", target: cfg(target) + "/clear-lockouts", token: denied(clear)},
		{name: "beyond the permission boundary", op: clear, status: 403, method: "POST", target: cfg(privilegedCfg) + "/clear-lockouts", token: permitted(clear)},
		{name: "another org's identity", op: clear, status: 404, method: "POST", target: cfg(foreign) + "/clear-lockouts", token: admin},
		{name: "body too large", op: clear, status: 413, method: "POST", target: cfg(target) + "/clear-lockouts", token: admin, body: tooBig, schema: schemaUnchecked},
		{name: "path id not a UUID", op: clear, status: 422, method: "POST", target: cfg("nope") + "/clear-lockouts", token: admin, schema: schemaRejects},
		{name: "identityId differs from the path", op: clear, status: 422, method: "POST", target: cfg(target) + "/clear-lockouts", token: admin, body: `{"identityId": "` + bare + `"}`},
		{name: "database down", op: clear, status: 500, method: "POST", target: cfg(target) + "/clear-lockouts", token: admin, handler: broken},
		{name: "throttled", op: clear, status: 503, method: "POST", target: cfg(target) + "/clear-lockouts", token: admin, handler: throttled},

		// Login.
		{name: "JSON", op: login, status: 200, method: "POST", target: loginT,
			body: `{"clientId": "` + loginClient + `", "clientSecret": "` + loginSecret + `", "organizationSlug": "acme"}`},
		{name: "form, trailing slash", op: login, status: 200, method: "POST", target: loginT + "/", body: form,
			header: []string{"Content-Type", "application/x-www-form-urlencoded"}},
		{name: "wrong secret", op: login, status: 401, method: "POST", target: loginT, from: addrB,
			body: `{"clientId": "` + loginClient + `", "clientSecret": "` + strings.Repeat("0", 64) + `"}`},
		{name: "untrusted address", op: login, status: 403, method: "POST", target: loginT, from: "198.51.100.7:1",
			body: `{"clientId": "` + loginClient + `", "clientSecret": "` + loginSecret + `"}`},
		{name: "body too large", op: login, status: 413, method: "POST", target: loginT, body: tooBig, schema: schemaUnchecked},
		{name: "no secret", op: login, status: 422, method: "POST", target: loginT, body: `{"clientId": "` + loginClient + `"}`, schema: schemaRejects},
		{name: "empty secret", op: login, status: 422, method: "POST", target: loginT, body: `{"clientId": "` + loginClient + `", "clientSecret": ""}`, schema: schemaRejects},
		{name: "database down", op: login, status: 500, method: "POST", target: loginT, handler: broken,
			body: `{"clientId": "` + loginClient + `", "clientSecret": "` + loginSecret + `"}`},
		{name: "throttled", op: login, status: 503, method: "POST", target: loginT, handler: throttled,
			body: `{"clientId": "` + loginClient + `", "clientSecret": "` + loginSecret + `"}`},

		// Renew.
		{name: "ok", op: renew, status: 200, method: "POST", target: renewT, body: `{"accessToken": "` + renewable.token + `"}`},
		{name: "a platform token", op: renew, status: 400, method: "POST", target: renewT, body: `{"accessToken": "` + admin + `"}`},
		{name: "revoked", op: renew, status: 401, method: "POST", target: renewT, body: `{"accessToken": "` + revoked.token + `"}`},
		{name: "not a token", op: renew, status: 403, method: "POST", target: renewT, body: `{"accessToken": "garbage"}`},
		{name: "body too large", op: renew, status: 413, method: "POST", target: renewT, body: tooBig, schema: schemaUnchecked},
		{name: "no token", op: renew, status: 422, method: "POST", target: renewT, body: `{}`, schema: schemaRejects},
		{name: "database down", op: renew, status: 500, method: "POST", target: renewT, body: `{"accessToken": "` + renewable.token + `"}`, handler: broken},
		{name: "throttled", op: renew, status: 503, method: "POST", target: renewT, body: `{"accessToken": "` + renewable.token + `"}`, handler: throttled},

		// Revoke an access token.
		{name: "ok", op: revokeTk, status: 200, method: "POST", target: revokeTkT, body: `{"accessToken": "` + dropped.token + `"}`},
		{name: "a platform token", op: revokeTk, status: 400, method: "POST", target: revokeTkT, body: `{"accessToken": "` + admin + `"}`},
		{name: "not a token", op: revokeTk, status: 403, method: "POST", target: revokeTkT, body: `{"accessToken": "garbage"}`},
		{name: "body too large", op: revokeTk, status: 413, method: "POST", target: revokeTkT, body: tooBig, schema: schemaUnchecked},
		{name: "token not a string", op: revokeTk, status: 422, method: "POST", target: revokeTkT, body: `{"accessToken": 5}`, schema: schemaRejects},
		{name: "database down", op: revokeTk, status: 500, method: "POST", target: revokeTkT, body: `{"accessToken": "` + renewable.token + `"}`, handler: broken},
		{name: "throttled", op: revokeTk, status: 503, method: "POST", target: revokeTkT, body: `{"accessToken": "` + renewable.token + `"}`, handler: throttled},

		// Introspect a token.
		{name: "active, a form", op: intro, status: 200, method: "POST", target: introspectT, token: permitted(intro),
			body: url.Values{"token": {reader.token}, "token_type_hint": {"access_token"}}.Encode(), header: formType},
		{name: "active, JSON, trailing slash", op: intro, status: 200, method: "POST", target: introspectT + "/", token: permitted(intro),
			body: `{"token": "` + reader.token + `", "client_ip": "192.0.2.1"}`},
		{name: "revoked: inactive", op: intro, status: 200, method: "POST", target: introspectT, token: permitted(intro),
			body: url.Values{"token": {revoked.token}}.Encode(), header: formType},
		{name: "no token", op: intro, status: 401, method: "POST", target: introspectT, body: url.Values{"token": {reader.token}}.Encode(),
			header: formType, schema: schemaRejects},
		{name: "permission denied", op: intro, status: 403, method: "POST", target: introspectT, token: denied(intro),
			body: url.Values{"token": {reader.token}}.Encode(), header: formType},
		{name: "body too large", op: intro, status: 413, method: "POST", target: introspectT, token: admin, body: tooBig, schema: schemaUnchecked},
		{name: "no token to introspect", op: intro, status: 422, method: "POST", target: introspectT, token: admin, body: "", header: formType, schema: schemaUnchecked},
		{name: "client_ip not an address", op: intro, status: 422, method: "POST", target: introspectT, token: admin,
			body: url.Values{"token": {reader.token}, "client_ip": {"nope"}}.Encode(), header: formType},
		{name: "database down", op: intro, status: 500, method: "POST", target: introspectT, token: admin,
			body: url.Values{"token": {reader.token}}.Encode(), header: formType, handler: broken},
		{name: "throttled", op: intro, status: 503, method: "POST", target: introspectT, token: admin,
			body: url.Values{"token": {reader.token}}.Encode(), header: formType, handler: throttled},

		// Read the organization's defaults.
		{name: "none set: the deployment's, trailing slash", op: getDef, status: 200, method: "GET", target: orgDefT + "/", token: permittedIn(noDefaults, getDef)},
		{name: "set by an admin", op: getDef, status: 200, method: "GET", target: orgDefT, token: permittedIn(withDefaults, getDef)},
		{name: "identity access token", op: getDef, status: 200, method: "GET", target: orgDefT, token: reader.token},
		{name: "no token", op: getDef, status: 401, method: "GET", target: orgDefT, schema: schemaRejects},
		{name: "revoked identity access token", op: getDef, status: 401, method: "GET", target: orgDefT, token: revoked.token},
		{name: "permission denied", op: getDef, status: 403, method: "GET", target: orgDefT, token: denied(getDef)},
		{name: "invalid token", op: getDef, status: 403, method: "GET", target: orgDefT, token: "not.a.token", schema: schemaUnchecked},
		{name: "database down", op: getDef, status: 500, method: "GET", target: orgDefT, token: admin, handler: broken},
		{name: "throttled", op: getDef, status: 503, method: "GET", target: orgDefT, token: admin, handler: throttled},

		// Set the organization's defaults.
		{name: "every field, and fields it ignores", op: putDef, status: 200, method: "PUT", target: orgDefT, token: permittedIn(toSet, putDef),
			body: strings.Replace(fullBody, `"identityId": "`+fresh+`"`, `"identityId": 5, "autoAttach": false, "organizationSlug": "acme"`, 1)},
		{name: "empty body: the deployment's fields", op: putDef, status: 200, method: "PUT", target: orgDefT, token: permittedIn(toReset, putDef)},
		{name: "hostname as IP", op: putDef, status: 400, method: "PUT", target: orgDefT, token: admin, body: `{"accessTokenTrustedIps": [{"ipAddress": "example.com"}]}`},
		{name: "max TTL below the deployment's TTL", op: putDef, status: 400, method: "PUT", target: orgDefT, token: admin, body: `{"accessTokenMaxTTL": 3600}`},
		{name: "no token", op: putDef, status: 401, method: "PUT", target: orgDefT, body: `{}`, schema: schemaRejects},
		{name: "every identity permission, not org:admin", op: putDef, status: 403, method: "PUT", target: orgDefT, token: denied(putDef), body: `{}`},
		{name: "identity token from an untrusted address", op: putDef, status: 403, method: "PUT", target: orgDefT, token: fenced.token, body: `{}`},
		{name: "body too large", op: putDef, status: 413, method: "PUT", target: orgDefT, token: admin, body: tooBig, schema: schemaUnchecked},
		{name: "autoAttach not a boolean", op: putDef, status: 422, method: "PUT", target: orgDefT, token: admin, body: `{"autoAttach": "false"}`, schema: schemaRejects},
		{name: "out of range", op: putDef, status: 422, method: "PUT", target: orgDefT, token: admin, body: `{"lockoutCounterResetSeconds": 4}`, schema: schemaRejects},
		{name: "body not an object", op: putDef, status: 422, method: "PUT", target: orgDefT, token: admin, body: `[]`, schema: schemaRejects},
		{name: "database down", op: putDef, status: 500, method: "PUT", target: orgDefT, token: admin, body: `{}`, handler: broken},
		{name: "throttled", op: putDef, status: 503, method: "PUT", target: orgDefT, token: admin, body: `{}`, handler: throttled},

		// Remove the organization's defaults.
		{name: "set by an admin", op: delDef, status: 200, method: "DELETE", target: orgDefT, token: permittedIn(toClear, delDef)},
		{name: "none set, a body ignored", op: delDef, status: 200, method: "DELETE", target: orgDefT, token: permittedIn(neverSet, delDef), body: `[1, 2]`},
		{name: "no token", op: delDef, status: 401, method: "DELETE", target: orgDefT, schema: schemaRejects},
		{name: "every identity permission, not org:admin", op: delDef, status: 403, method: "DELETE", target: orgDefT, token: denied(delDef)},
		{name: "database down", op: delDef, status: 500, method: "DELETE", target: orgDefT, token: admin, handler: broken},
		{name: "throttled", op: delDef, status: 503, method: "DELETE", target: orgDefT, token: admin, handler: throttled},

		// The well-known documents.
		{name: "ok", op: jwks, status: 200, method: "GET", target: jwksT},
		{name: "panic", op: jwks, status: 500, method: "GET", target: jwksT, handler: panicking},
		{name: "ok, trailing slash", op: disc, status: 200, method: "GET", target: discT + "/"},
		{name: "panic", op: disc, status: 500, method: "GET", target: discT, handler: panicking},

		// Every path answers the methods it does not list with a 405.
		{name: "method not allowed", op: "PUT " + configT, status: 405, method: "PUT", target: cfg(target), token: admin, body: `{}`},
		{name: "method not allowed", op: "DELETE " + secretsT, status: 405, method: "DELETE", target: secrets(target), token: admin},
		{name: "method not allowed", op: "DELETE " + secretT, status: 405, method: "DELETE", target: secrets(target) + "/" + secretID, token: admin},
		{name: "method not allowed", op: "GET " + revokeT, status: 405, method: "GET", target: secrets(target) + "/" + secretID + "/revoke", token: admin},
		{name: "method not allowed", op: "GET " + lockoutsT, status: 405, method: "GET", target: cfg(target) + "/clear-lockouts", token: admin},
		{name: "method not allowed", op: "GET " + loginT, status: 405, method: "GET", target: loginT},
		{name: "method not allowed", op: "GET " + renewT, status: 405, method: "GET", target: renewT},
		{name: "method not allowed", op: "DELETE " + revokeTkT, status: 405, method: "DELETE", target: revokeTkT},
		{name: "method not allowed", op: "GET " + introspectT, status: 405, method: "GET", target: introspectT, token: admin},
		{name: "method not allowed", op: "POST " + jwksT, status: 405, method: "POST", target: jwksT, body: `{}`},
		{name: "method not allowed", op: "PATCH " + discT, status: 405, method: "PATCH", target: discT},
		{name: "method not allowed", op: "POST " + orgDefT, status: 405, method: "POST", target: orgDefT, token: admin, body: `{}`},

		// The local stack's demo protected API (authorizer.LocalHandler).
		{name: "allowed", op: localT, status: 200, method: "GET", target: "/_local/protected/orders", token: reader.token, handler: protected},
		{name: "no token", op: localT, status: 401, method: "GET", target: "/_local/protected/orders", handler: protected, schema: schemaRejects},
		{name: "revoked token", op: localT, status: 403, method: "GET", target: "/_local/protected/orders", token: revoked.token, handler: protected},
		{name: "database down", op: localT, status: 500, method: "GET", target: "/_local/protected/orders", token: reader.token, handler: protectedBroken},

		// A path the document does not list.
		{name: "unknown path", op: "", status: 404, method: "GET", target: "/api/v1/auth/universal-auth/nope", token: admin},
	}
}

// TestOpenAPIThrottlingIsDocumented: API Gateway answers 429 before uauth
// runs, on every route, so every operation must document it, and API
// Gateway's fixed answer must match.
func TestOpenAPIThrottlingIsDocumented(t *testing.T) {
	doc, _ := loadOpenAPI(t)
	for p, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.Responses.Status(http.StatusTooManyRequests) == nil {
				t.Errorf("%s %s does not document API Gateway's 429", method, p)
				continue
			}
			route := &routers.Route{Spec: doc, Path: p, PathItem: item, Method: method, Operation: op}
			in := &openapi3filter.RequestValidationInput{Request: httptest.NewRequest(method, p, nil), Route: route}
			out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: http.StatusTooManyRequests,
				Header: http.Header{"Content-Type": {"application/json"}}, Options: &openapi3filter.Options{IncludeResponseStatus: true}}
			out.SetBodyBytes([]byte(`{"message":"Too Many Requests"}`))
			if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
				t.Errorf("%s %s: API Gateway's 429 does not match the document: %v", method, p, err)
			}
		}
	}
}

// TestOpenAPIDocumentsEveryRoute: every route the handler registers is in
// the document, so that a new route cannot go undocumented, and so
// untested by TestOpenAPIDocumentMatchesTheHandler, whose table covers only
// the document's operations. The handler records each ServeMux pattern it
// registers (handle, allow and direct registrations alike); each becomes a
// path template of the document, and a pattern with a method an operation.
// The other way, each documented operation is routed, and each documented
// path has its method-less route, the 405.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	doc, _ := loadOpenAPI(t)
	patterns := httpapi.RoutePatterns(httpapi.New(httpapi.Options{}))
	if !slices.Contains(patterns, "/") || !slices.Contains(patterns, "GET "+discT) {
		t.Fatalf("the handler's recorded patterns look incomplete: %q", patterns)
	}
	for _, problem := range undocumentedRoutes(doc, patterns) {
		t.Error(problem)
	}

	routed := map[string]bool{}
	for _, pattern := range patterns {
		method, p, err := docPath(pattern)
		if err != nil {
			t.Fatal(err)
		}
		routed[strings.TrimSpace(method+" "+p)] = true
	}
	documented := doc.Paths.Keys()
	slices.Sort(documented)
	for _, p := range documented {
		if isLocal(doc.Paths.Value(p)) {
			continue // served by the local stack beside the handler
		}
		if !routed[p] {
			t.Errorf("documented path %s has no route for the methods it does not serve (allow)", p)
		}
		for method := range doc.Paths.Value(p).Operations() {
			if !routed[method+" "+p] {
				t.Errorf("documented but not routed: %s %s", method, p)
			}
		}
	}

	// The guard bites: without any one of its paths, the document leaves
	// that path's routes undocumented.
	for _, p := range doc.Paths.Keys() {
		item := doc.Paths.Value(p)
		if isLocal(item) {
			continue
		}
		doc.Paths.Delete(p)
		if problems := undocumentedRoutes(doc, patterns); len(problems) == 0 {
			t.Errorf("a document without %s passes the check", p)
		}
		doc.Paths.Set(p, item)
	}
}

// isLocal reports a path the local stack serves beside the handler
// (x-uauth-local), such as the demo protected API.
func isLocal(item *openapi3.PathItem) bool {
	local, _ := item.Extensions["x-uauth-local"].(bool)
	return local
}

// undocumentedRoutes returns a problem for each pattern, but the catch-all
// "/", that is not a path of doc, or whose method is not an operation of it.
func undocumentedRoutes(doc *openapi3.T, patterns []string) []string {
	var problems []string
	for _, pattern := range patterns {
		if pattern == "/" {
			continue // every other path: 404 Route not found
		}
		method, p, err := docPath(pattern)
		switch item := doc.Paths.Value(p); {
		case err != nil:
			problems = append(problems, err.Error())
		case item == nil:
			problems = append(problems, fmt.Sprintf("the handler routes %q, but %s is not a path of the document", pattern, p))
		case method != "" && item.GetOperation(method) == nil:
			problems = append(problems, fmt.Sprintf("the handler routes %q, but the document has no %s operation on %s", pattern, method, p))
		}
	}
	return problems
}

// docPath turns a ServeMux pattern, "[METHOD ]/path/{name}", into its
// method and the document's path template: {name...} becomes {name}, and
// {$} goes. A pattern naming a host has no such template.
func docPath(pattern string) (method, p string, err error) {
	p = pattern
	if m, rest, ok := strings.Cut(pattern, " "); ok {
		method, p = m, strings.TrimLeft(rest, " \t")
	}
	if !strings.HasPrefix(p, "/") {
		return "", "", fmt.Errorf("pattern %q names a host", pattern)
	}
	segments := strings.Split(p, "/")
	for i, seg := range segments {
		switch {
		case seg == "{$}":
			segments[i] = ""
		case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "...}"):
			segments[i] = strings.TrimSuffix(seg, "...}") + "}"
		}
	}
	return method, strings.Join(segments, "/"), nil
}

// TestOpenAPICatchesDrift: the document is strict enough to notice an
// answer that drifts from it. Real answers, altered one way each, must fail
// validation.
func TestOpenAPICatchesDrift(t *testing.T) {
	_, router := loadOpenAPI(t)
	e := newEnv(t)
	admin := token(t, orgA, caller.OrgAdmin)
	id, _ := e.attached(orgA, `{"clientSecretTrustedIps":[{"ipAddress":"10.0.0.0/8"}]}`)
	e.newSecret(orgA, id, `{}`)

	validate := func(method, target string, status int, header http.Header, body string) error {
		req := httptest.NewRequest(method, target, nil)
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Fatal(err)
		}
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route}
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: header,
			Options: &openapi3filter.Options{IncludeResponseStatus: true}}
		out.SetBodyBytes([]byte(body))
		return openapi3filter.ValidateResponse(context.Background(), out)
	}
	for _, tc := range []struct {
		target, old, new string
	}{
		{path(id), `"lockoutEnabled":true,`, ``},                                              // a field missing
		{path(id), `"lockoutEnabled":true`, `"lockoutEnabled":true,"extra":1`},                // a field added
		{path(id), `"accessTokenTTL":2592000`, `"accessTokenTTL":"2592000"`},                  // a type changed
		{path(id), `"accessTokenTTL":2592000`, `"accessTokenTTL":315360001`},                  // out of range
		{path(id), `"type":"ipv4"`, `"type":"IPv4"`},                                          // an enum
		{path(id), `"type":"ipv4","prefix":8`, `"type":"ipv4","prefix":64`},                   // an IPv4 prefix above 32
		{path(id), `"identityId":"` + id + `"`, `"identityId":"` + strings.ToUpper(id) + `"`}, // ids in lower case
		{path(id), `.123Z"`, `Z"`},                                                            // timestamps with milliseconds
		{path(id) + "/client-secrets", `"isClientSecretRevoked":false`, `"isClientSecretRevoked":false,"clientSecret":"x"`},
		{path(uuid.NewString()), `"error":"NotFound"`, `"error":"BadRequest"`},  // the error name of another status
		{path(uuid.NewString()), `"statusCode":404`, `"statusCode":400`},        // statusCode is the status
		{path(uuid.NewString()), `"reqId":`, `"requestId":`},                    // the error shape
		{path("nope"), `"message":[`, `"message":"x","issues":[`},               // a 422's message is its issues
		{orgDefT, `"autoAttach":true,`, ``},                                     // org defaults: a field missing
		{orgDefT, `"updatedAt":null`, `"updatedAt":"2036-11-07T05:31:56.123Z"`}, // the deployment's have no updatedAt
		{orgDefT, `"source":"deployment"`, `"source":"org"`},                    // an org's have one
		{orgDefT, `"source":"deployment"`, `"source":"default"`},                // source is an enum
	} {
		r := e.do("GET", tc.target, admin, "")
		body := r.rec.Body.String()
		if err := validate("GET", tc.target, r.status(), r.rec.Header(), body); err != nil {
			t.Fatalf("GET %s: the real answer fails: %v\n%s", tc.target, err, body)
		}
		drifted := strings.Replace(body, tc.old, tc.new, 1)
		if drifted == body {
			t.Fatalf("GET %s: %q is not in the answer %s", tc.target, tc.old, body)
		}
		if validate("GET", tc.target, r.status(), r.rec.Header(), drifted) == nil {
			t.Errorf("GET %s: the document accepts a drifted answer: %s", tc.target, drifted)
		}
	}
	// A status the document does not list, and a header it requires.
	r := e.do("GET", path(id), admin, "")
	if validate("GET", path(id), http.StatusCreated, r.rec.Header(), r.rec.Body.String()) == nil {
		t.Error("the document accepts an undocumented status")
	}
	noID := r.rec.Header().Clone()
	noID.Del("X-Request-Id")
	if validate("GET", path(id), r.status(), noID, r.rec.Body.String()) == nil {
		t.Error("the document accepts an answer without X-Request-Id")
	}
	text := r.rec.Header().Clone()
	text.Set("Content-Type", "text/plain")
	if validate("GET", path(id), r.status(), text, r.rec.Body.String()) == nil {
		t.Error("the document accepts an answer that is not JSON")
	}
}

// unavailableDB is a database whose every call fails.
type unavailableDB struct{}

var errDBUnavailable = errors.New("injected: DynamoDB is unavailable")

func (unavailableDB) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return nil, errDBUnavailable
}

func (unavailableDB) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, errDBUnavailable
}

func (unavailableDB) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return nil, errDBUnavailable
}

func (unavailableDB) DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return nil, errDBUnavailable
}

func (unavailableDB) BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return nil, errDBUnavailable
}

func (unavailableDB) BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	return nil, errDBUnavailable
}

func (unavailableDB) TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return nil, errDBUnavailable
}

func (unavailableDB) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return nil, errDBUnavailable
}

func openapiSortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// localProtected is the local stack's demo protected API, as make run
// serves it, over store.
func localProtected(e *env, store *dynamostore.Store) http.Handler {
	a := &authorizer.Authorizer{Tokens: &accesstoken.Service{Store: store, Signer: e.signer, Now: e.clock.now},
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	return authorizer.LocalHandler(a, func(*http.Request) string { return issuer })
}
