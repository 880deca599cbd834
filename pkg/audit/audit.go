// Package audit writes uauth's audit trail: one JSON line per security
// decision, on stdout beside the logs, so that CloudWatch Logs keeps it
// with them and Logs Insights answers "who logged in as this identity, from
// where, and when was it revoked, and by whom".
//
// The schema, member by member (always present: audit, event, outcome,
// at; the others when they apply):
//
//	audit       true: the line is an audit record (filter audit = 1)
//	event       what was decided: one of the Event constants
//	outcome     success or failure
//	reason      why a failure failed (invalid_credentials, revoked, ...)
//	identityId  the identity acted on, or logging in
//	orgId       its organization
//	clientId    the configuration's client id
//	actor       who acted: a token's subject, "provisioner", or for a login
//	            the identity itself
//	sourceIp    the caller's address, as the platform saw it
//	userAgent   the caller's User-Agent
//	jti         the access token concerned
//	secretId    the client secret concerned (its id, never the secret)
//	reqId       the request id, as in the logs and the error bodies
//	at          when, RFC 3339 in UTC with milliseconds
//
// There is no member for secret material: no client secret, no token, no
// HMAC can be written. An Event carries ids only.
package audit

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/uauth/uauth/pkg/jsonline"
)

// The decisions audited.
const (
	Login              = "login"                 // a login, success or failure
	TokenRefused       = "token.refused"         // an access token refused on use
	TokenRenewed       = "token.renewed"         // an access token renewed
	TokenRevoked       = "token.revoked"         // an access token revoked
	SecretCreated      = "client_secret.created" // a client secret created
	SecretRevoked      = "client_secret.revoked" // a client secret revoked
	LockoutStarted     = "lockout.started"       // a login lockout began
	LockoutsCleared    = "lockouts.cleared"      // an identity's lockouts cleared
	ConfigAttached     = "config.attached"       // Universal Auth attached
	ConfigUpdated      = "config.updated"        // Universal Auth updated
	ConfigRevoked      = "config.revoked"        // Universal Auth revoked
	OrgDefaultsChanged = "org_defaults.changed"  // an org's defaults set or removed
)

// Outcomes.
const (
	Success = "success"
	Failure = "failure"
)

// Event is one decision. Fields left empty are left out.
type Event struct {
	Event, Outcome, Reason             string
	IdentityID, OrgID, ClientID, Actor string
	SourceIP, UserAgent, JTI, SecretID string
	ReqID                              string
	At                                 time.Time
}

// Writer writes events as lines, each with a single Write, so that
// concurrent events never interleave.
type Writer struct {
	w   io.Writer
	mu  sync.Mutex
	buf []byte
	// Now is the clock for events without At; nil means time.Now.
	Now func() time.Time
}

// NewWriter writes to w (stdout in Lambda).
func NewWriter(w io.Writer) *Writer { return &Writer{w: w, buf: make([]byte, 0, 512)} }

// Record writes e. A nil Writer records nothing.
func (w *Writer) Record(e *Event) {
	if w == nil {
		return
	}
	at := e.At
	if at.IsZero() {
		if w.Now != nil {
			at = w.Now()
		} else {
			at = time.Now()
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	b := append(w.buf[:0], `{"audit":true`...)
	b = member(b, "event", e.Event) // always present, as queries filter on them
	b = member(b, "outcome", e.Outcome)
	b = field(b, "reason", e.Reason)
	b = field(b, "identityId", e.IdentityID)
	b = field(b, "orgId", e.OrgID)
	b = field(b, "clientId", e.ClientID)
	b = field(b, "actor", e.Actor)
	b = field(b, "sourceIp", e.SourceIP)
	b = field(b, "userAgent", e.UserAgent)
	b = field(b, "jti", e.JTI)
	b = field(b, "secretId", e.SecretID)
	b = field(b, "reqId", e.ReqID)
	b = append(b, `,"at":"`...)
	b = at.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
	b = append(b, "\"}\n"...)
	w.buf = b
	_, _ = w.w.Write(b)
}

// field appends a member that is left out when empty.
func field(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	return member(b, name, value)
}

func member(b []byte, name, value string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return jsonline.AppendString(b, value)
}

// Request is what a request's events share: who asks, from where.
type Request struct {
	Writer                            *Writer
	ReqID, SourceIP, UserAgent, Actor string
}

type ctxKey struct{}

// NewContext returns ctx carrying the request's audit context.
func NewContext(ctx context.Context, r *Request) context.Context {
	return context.WithValue(ctx, ctxKey{}, r)
}

// FromContext returns the request's audit context, or nil.
func FromContext(ctx context.Context) *Request {
	r, _ := ctx.Value(ctxKey{}).(*Request)
	return r
}

// Record writes e with the request's shared fields filled in where e
// leaves them empty. Without an audit context it records nothing.
func Record(ctx context.Context, e Event) {
	r := FromContext(ctx)
	if r == nil || r.Writer == nil {
		return
	}
	if e.ReqID == "" {
		e.ReqID = r.ReqID
	}
	if e.SourceIP == "" {
		e.SourceIP = r.SourceIP
	}
	if e.UserAgent == "" {
		e.UserAgent = r.UserAgent
	}
	if e.Actor == "" {
		e.Actor = r.Actor
	}
	r.Writer.Record(&e)
}
