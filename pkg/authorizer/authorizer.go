// Package authorizer is an API Gateway Lambda authorizer that enforces
// uauth's identity tokens in front of other APIs, with every rule of a
// token's use: signature, issuer, audience and expiry; revocation of the
// token, its secret and its configuration; the identity's existence; the
// use limit, counted atomically; and the trusted IPs, against the address
// API Gateway saw. An API Gateway JWT authorizer checks only the first
// four, so a revoked token keeps working behind it until it expires.
//
// The rules are accesstoken.Service.Check's, the same code uauth's own
// routes use, in one DynamoDB round trip. One function serves both kinds
// of API, told apart by the event:
//   - HTTP APIs, payload format 2.0 with simple responses: isAuthorized
//     and a context;
//   - REST APIs (and HTTP APIs with payload 1.0), REQUEST authorizers: an
//     IAM policy for the method, and a context.
//
// A missing or malformed token is the platform's 401 (the error
// "Unauthorized"); a token that fails a rule is denied (403); a database
// failure is an error (500), never an allow.
package authorizer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/uauth/uauth/pkg/accesstoken"
	"github.com/uauth/uauth/pkg/audit"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/metrics"
)

// ErrUnauthorized is the error API Gateway answers with its 401: the
// request carries no token, or none that parses.
var ErrUnauthorized = errors.New("Unauthorized")

// Authorizer decides requests to other APIs.
type Authorizer struct {
	// Tokens checks identity tokens.
	Tokens *accesstoken.Service
	// Issuer is the iss uauth's tokens carry: the deployment's URL.
	Issuer string
	// Platform, if set, accepts platform tokens (HS256) too. Off by
	// default: a platform token carries no use limit, trusted IPs or
	// revocation that uauth could check.
	Platform *caller.Platform
	// Routes maps route keys ("GET /orders/{id}") to the permission they
	// need; a route not in it needs only a valid token.
	Routes map[string]caller.Permission
	Logger *slog.Logger
	// Metrics receives each invocation's metrics as one EMF line (stdout
	// in Lambda); nil writes none.
	Metrics io.Writer
	// Audit receives the audit records of refused tokens; nil writes none.
	Audit *audit.Writer
}

// Request is what a decision is made on, from either kind of event.
type Request struct {
	// Authorization is the request's Authorization header.
	Authorization string
	// SourceIP is the caller's address as API Gateway saw it.
	SourceIP string
	// RouteKey is "METHOD /resource/{param}".
	RouteKey string
	// RequestID is API Gateway's, for the log.
	RequestID string
}

// Decision is an allow with the context for the integration, or a deny
// with its reason (for the log only).
type Decision struct {
	Allow       bool
	Reason      string
	PrincipalID string
	// Context is what the integration receives: identityId, orgId,
	// clientId, jti, exp and permissions (space-separated: API Gateway's
	// context values are scalars).
	Context map[string]any
}

// Reasons of a deny, beside accesstoken.Reason's.
const (
	ReasonPermissionDenied = "permission_denied"
	ReasonPlatformToken    = "platform_token"
	ReasonNoSourceIP       = "no_source_ip"
)

// Decide applies the rules to r, and logs the decision: every deny with
// its reason and the token's jti if it has one, never the token. The error
// is ErrUnauthorized, or a failure to decide (the database's), which must
// never become an allow.
func (a *Authorizer) Decide(ctx context.Context, r Request) (Decision, error) {
	if a.Audit != nil {
		ctx = audit.NewContext(ctx, &audit.Request{Writer: a.Audit, ReqID: r.RequestID, SourceIP: r.SourceIP})
	}
	d, err := a.decide(ctx, r)
	a.log(ctx, r, d, err)
	outcome := "allow"
	switch {
	case errors.Is(err, ErrUnauthorized):
		outcome = "unauthorized"
	case err != nil:
		outcome = "error"
	case !d.Allow:
		outcome = "deny"
	}
	metrics.FromContext(ctx).Count(metrics.AuthorizerDecisions, outcome)
	return d, err
}

// invocation gives an invocation its metrics recorder, and returns what
// writes them, one line, when it ends.
func (a *Authorizer) invocation(ctx context.Context) (context.Context, func()) {
	m := metrics.Get("authorizer")
	return metrics.NewContext(ctx, m), func() {
		if a.Metrics != nil {
			_ = m.Flush(a.Metrics, time.Now())
		}
		metrics.Put(m)
	}
}

func (a *Authorizer) decide(ctx context.Context, r Request) (Decision, error) {
	raw, ok := bearer(r.Authorization)
	if !ok {
		return Decision{}, ErrUnauthorized
	}
	tok, err := caller.Parse(raw)
	if err != nil {
		return Decision{}, ErrUnauthorized
	}
	perm := a.Routes[r.RouteKey]
	if tok.Header.Alg == caller.AlgPlatform {
		return a.platform(ctx, tok, perm), nil
	}
	ip, err := netip.ParseAddr(r.SourceIP)
	if err != nil {
		return deny(ReasonNoSourceIP), nil
	}
	from := caller.Origin{IP: ip.Unmap().WithZone(""), Issuer: a.Issuer}
	if from.Issuer == "" {
		return Decision{}, errors.New("authorizer: no issuer configured (ISSUER)")
	}
	actor, claims, err := a.Tokens.Check(ctx, tok, from, perm)
	if err != nil {
		if reason := refusal(err); reason != "" {
			return deny(reason), nil
		}
		return Decision{}, err
	}
	return Decision{Allow: true, PrincipalID: actor.ID, Context: map[string]any{
		"identityId":  actor.ID,
		"orgId":       actor.OrgID,
		"clientId":    claims.ClientID,
		"jti":         claims.ID,
		"exp":         claims.ExpiresAt.Unix(),
		"permissions": permissions(actor),
	}}, nil
}

// permissions is the actor's permissions for the context. A limited token's
// use proves only the route's permission, in the transaction that counts it,
// and reads nothing more (see accesstoken.Service.Check): its context lists
// that one, or none.
func permissions(a caller.Actor) string {
	return strings.Join(a.Permissions, " ")
}

func (a *Authorizer) platform(ctx context.Context, tok *caller.Token, perm caller.Permission) Decision {
	if a.Platform == nil {
		return deny(ReasonPlatformToken)
	}
	actor, err := a.Platform.Verify(ctx, tok)
	if err != nil {
		return deny(accesstoken.InactiveInvalid)
	}
	if perm != "" && !actor.Can(perm) {
		return deny(ReasonPermissionDenied)
	}
	ctxt := map[string]any{"identityId": actor.ID, "orgId": actor.OrgID, "permissions": strings.Join(actor.Permissions, " ")}
	if tok.Claims.ExpiresAt != nil {
		ctxt["exp"] = tok.Claims.ExpiresAt.Unix()
	}
	return Decision{Allow: true, PrincipalID: actor.ID, Context: ctxt}
}

// refusal names a token refusal, or "" for an error that is not one.
func refusal(err error) string {
	if errors.Is(err, caller.ErrPermissionDenied) {
		return ReasonPermissionDenied
	}
	return accesstoken.Reason(err)
}

func deny(reason string) Decision { return Decision{Reason: reason} }

func bearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	token = strings.TrimSpace(token)
	return token, ok && strings.EqualFold(scheme, "Bearer") && token != ""
}

// Handle is the Lambda handler: it tells an HTTP API payload 2.0 event
// from a REST REQUEST event and answers each in its own shape.
func (a *Authorizer) Handle(ctx context.Context, event json.RawMessage) (any, error) {
	var probe struct {
		Version   string `json:"version"`
		Type      string `json:"type"`
		MethodArn string `json:"methodArn"`
	}
	if err := json.Unmarshal(event, &probe); err != nil {
		return nil, fmt.Errorf("authorizer: event: %w", err)
	}
	switch {
	case probe.Version == "2.0":
		var e events.APIGatewayV2CustomAuthorizerV2Request
		if err := json.Unmarshal(event, &e); err != nil {
			return nil, fmt.Errorf("authorizer: HTTP API event: %w", err)
		}
		return a.HTTP(ctx, e)
	case probe.Type == "REQUEST" && probe.MethodArn != "":
		var e events.APIGatewayCustomAuthorizerRequestTypeRequest
		if err := json.Unmarshal(event, &e); err != nil {
			return nil, fmt.Errorf("authorizer: REST API event: %w", err)
		}
		return a.REST(ctx, e)
	default:
		// A TOKEN authorizer's event has no source address to check the
		// trusted IPs against.
		return nil, fmt.Errorf("authorizer: unsupported event (version %q, type %q): use a REQUEST authorizer", probe.Version, probe.Type)
	}
}

// HTTP decides an HTTP API request (payload 2.0, simple responses).
func (a *Authorizer) HTTP(ctx context.Context, e events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
	ctx, done := a.invocation(ctx)
	defer done()
	d, err := a.Decide(ctx, Request{
		Authorization: header(e.Headers, "authorization"), SourceIP: e.RequestContext.HTTP.SourceIP,
		RouteKey: e.RouteKey, RequestID: e.RequestContext.RequestID,
	})
	if err != nil {
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{}, err
	}
	return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: d.Allow, Context: d.Context}, nil
}

// REST decides a REST API request (a REQUEST authorizer) with an IAM
// policy for the method it was called for.
func (a *Authorizer) REST(ctx context.Context, e events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	ctx, done := a.invocation(ctx)
	defer done()
	d, err := a.Decide(ctx, Request{
		Authorization: header(e.Headers, "authorization"), SourceIP: e.RequestContext.Identity.SourceIP,
		RouteKey: e.HTTPMethod + " " + e.Resource, RequestID: e.RequestContext.RequestID,
	})
	if err != nil {
		return events.APIGatewayCustomAuthorizerResponse{}, err
	}
	effect, principal := "Deny", d.PrincipalID
	if d.Allow {
		effect = "Allow"
	}
	if principal == "" {
		principal = "anonymous"
	}
	return events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: principal,
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{Version: "2012-10-17", Statement: []events.IAMPolicyStatement{
			{Action: []string{"execute-api:Invoke"}, Effect: effect, Resource: []string{e.MethodArn}},
		}},
		Context: d.Context,
	}, nil
}

// log writes a decision's line.
func (a *Authorizer) log(ctx context.Context, r Request, d Decision, err error) {
	log := a.Logger
	if log == nil {
		log = slog.Default()
	}
	attrs := []slog.Attr{slog.String("reqId", r.RequestID), slog.String("routeKey", r.RouteKey), slog.String("sourceIp", r.SourceIP)}
	switch {
	case errors.Is(err, ErrUnauthorized):
		log.LogAttrs(ctx, slog.LevelInfo, "authorizer: unauthorized", attrs...)
	case err != nil:
		log.LogAttrs(ctx, slog.LevelError, "authorizer: failed", append(attrs, slog.String("error", err.Error()))...)
	case !d.Allow:
		log.LogAttrs(ctx, slog.LevelInfo, "authorizer: deny", append(attrs, slog.String("reason", d.Reason), slog.String("jti", jti(r.Authorization)))...)
	default:
		log.LogAttrs(ctx, slog.LevelInfo, "authorizer: allow", append(attrs, slog.Any("jti", d.Context["jti"]), slog.Any("identityId", d.Context["identityId"]))...)
	}
}

// jti is the token's claimed jti, for the log of a deny: the claim only,
// whether or not the token verified.
func jti(authorization string) string {
	raw, _ := bearer(authorization)
	tok, err := caller.Parse(raw)
	if err != nil {
		return ""
	}
	return tok.Claims.ID
}

// header finds a header case-insensitively: HTTP APIs lower-case names,
// REST APIs keep the client's case.
func header(h map[string]string, name string) string {
	if v, ok := h[name]; ok {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// ParseRoutes reads the route permissions setting: entries separated by
// newlines or ";", each "ROUTE KEY=permission", e.g.
// "GET /orders/{id}=orders:read; POST /orders=orders:write".
func ParseRoutes(s string) (map[string]caller.Permission, error) {
	routes := map[string]caller.Permission{}
	for _, entry := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '\n' }) {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		key, perm, ok := strings.Cut(entry, "=")
		key, perm = strings.Join(strings.Fields(key), " "), strings.TrimSpace(perm)
		method, path, hasPath := strings.Cut(key, " ")
		if !ok || perm == "" || !hasPath || method == "" || !strings.HasPrefix(path, "/") || strings.ContainsAny(perm, " \t") {
			return nil, fmt.Errorf("route permission %q: want \"METHOD /path=permission\"", entry)
		}
		if _, dup := routes[key]; dup {
			return nil, fmt.Errorf("route permission %q: route given twice", entry)
		}
		routes[key] = caller.Permission(perm)
	}
	return routes, nil
}
