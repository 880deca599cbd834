// Package httpapi serves the Universal Auth API as an ordinary http.Handler:
// routing, JSON, authentication and the error mapping. The same handler
// runs behind API Gateway (package apigw) and on a local port. Each
// resource has a file of its own; errors.go maps every error to its status.
package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path"
	"runtime/debug"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/uauth/uauth/pkg/accesstoken"
	"github.com/uauth/uauth/pkg/audit"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/clientsecret"
	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/login"
	"github.com/uauth/uauth/pkg/metrics"
	"github.com/uauth/uauth/pkg/orgdefaults"
	"github.com/uauth/uauth/pkg/uaconfig"
	"github.com/uauth/uauth/pkg/validation"
)

// DefaultMaxBodyBytes caps request bodies. The largest sensible body, two
// trusted-IP lists of a few dozen CIDRs each, is well under it.
const DefaultMaxBodyBytes = 16 << 10

// Options wires a handler.
type Options struct {
	Config      *uaconfig.Service
	Secrets     *clientsecret.Service
	Login       *login.Service
	Tokens      *accesstoken.Service
	OrgDefaults *orgdefaults.Service
	Auth        *caller.Authenticator
	// Logger receives one JSON line per request; nil means slog.Default().
	Logger *slog.Logger
	// MaxBodyBytes caps request bodies (413 above it); 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// RequestID returns the platform's id for r (API Gateway's request id),
	// or "" to have one generated.
	RequestID func(*http.Request) string
	// ClientIP returns the platform's view of the caller's address (API
	// Gateway's sourceIp); nil means the TCP peer. Headers such as
	// X-Forwarded-For are never consulted: any client can set them.
	ClientIP func(*http.Request) netip.Addr
	// Issuer is the deployment's URL, the iss of uauth's tokens; empty
	// means the URL each request came in on (BaseURL).
	Issuer string
	// BaseURL returns the URL r came in on (https://<API Gateway domain>
	// in Lambda); nil means the Host header.
	BaseURL func(*http.Request) string
	// Metrics receives each request's metrics as one EMF line (stdout in
	// Lambda); nil writes none.
	Metrics io.Writer
	// Audit receives the audit trail (stdout in Lambda); nil writes none.
	Audit *audit.Writer
}

type handler struct {
	Options
	mux routeMux
}

// routeMux is a ServeMux that records the patterns registered on it, so
// that a test can hold every route to the API reference (docs/openapi.yaml).
type routeMux struct {
	*http.ServeMux
	patterns []string
}

func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

func (m *routeMux) HandleFunc(pattern string, fn func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(fn))
}

// New returns the API handler.
func New(o Options) http.Handler {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.ClientIP == nil {
		o.ClientIP = PeerIP
	}
	h := &handler{Options: o, mux: routeMux{ServeMux: http.NewServeMux()}}
	h.routeConfig()
	h.routeClientSecrets()
	h.routeLogin()
	h.routeIntrospect()
	h.routeWellKnown()
	h.routeOrgDefaults()
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { h.writeError(w, r, errRouteNotFound) })
	return h
}

// authed is a handler that runs once the caller is authenticated.
type authed func(w http.ResponseWriter, r *http.Request, actor caller.Actor)

// handle routes pattern ("METHOD /path") to fn for callers who hold perm.
// Authentication and the permission come first, before anything about the
// request is looked at, so that a caller without permission learns nothing.
func (h *handler) handle(pattern string, perm caller.Permission, fn authed) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		actor, err := h.Auth.Authenticate(r, h.origin(r), perm)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		if req := audit.FromContext(r.Context()); req != nil {
			req.Actor = actor.ID
		}
		fn(w, r, actor)
	})
}

// onIdentity is a handler that acts on a target identity's auth method,
// bounded by guard: the actor may act only on identities whose permissions
// are a subset of its own (see caller.Actor.Guard). The store applies it
// once the identity is found.
type onIdentity func(w http.ResponseWriter, r *http.Request, actor caller.Actor, guard identity.Guard)

// handleOnIdentity routes pattern to fn for callers who hold perm, within
// their permission boundary for action.
func (h *handler) handleOnIdentity(pattern string, perm caller.Permission, action string, fn onIdentity) {
	h.handle(pattern, perm, func(w http.ResponseWriter, r *http.Request, actor caller.Actor) {
		fn(w, r, actor, h.Auth.Guard(r.Context(), actor, action))
	})
}

// allow answers the methods a path does not serve with a JSON 405.
func (h *handler) allow(path, methods string) {
	h.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", methods)
		h.writeError(w, r, errMethodNotAllowed)
	})
}

// ServeHTTP gives each request an id and a logger, recovers panics into a
// 500, logs one access line, and accepts a trailing slash on every route
// (the Infisical CLI sends one).
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := ""
	if h.RequestID != nil {
		id = h.RequestID(r)
	}
	if id == "" {
		id = uuid.NewString()
	}
	log := h.Logger.With(slog.String("reqId", id))
	// One metrics line per request (see package metrics), and the audit
	// context of its decisions.
	m := metrics.Get("api")
	defer func() {
		if h.Metrics != nil {
			_ = m.Flush(h.Metrics, time.Now())
		}
		metrics.Put(m)
	}()
	ctx := context.WithValue(r.Context(), ctxKey{}, reqInfo{id: id, log: log})
	ctx = metrics.NewContext(ctx, m)
	if h.Audit != nil {
		ctx = audit.NewContext(ctx, &audit.Request{Writer: h.Audit, ReqID: id, SourceIP: addrString(h.ClientIP(r)), UserAgent: r.UserAgent()})
	}
	r = r.WithContext(ctx)
	if p := r.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") {
		r.URL.Path = strings.TrimSuffix(p, "/")
		r.URL.RawPath = ""
	}
	rec := &statusRecorder{ResponseWriter: w}
	rec.Header().Set("X-Request-Id", id)
	defer func() {
		if v := recover(); v != nil {
			log.ErrorContext(r.Context(), "panic", slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
			if rec.status == 0 {
				h.writeError(rec, r, errInternal)
			}
		}
		log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Float64("durationMs", float64(time.Since(start).Microseconds())/1000))
	}()
	// ServeMux answers a path that is not in clean form ("//x", "/a/../b")
	// with a redirect page; none of ours is, so it is simply not found.
	if r.URL.Path == "" || path.Clean(r.URL.Path) != r.URL.Path {
		h.writeError(rec, r, errRouteNotFound)
		return
	}
	h.mux.ServeHTTP(rec, r)
}

// pathID returns the canonical form of the UUID in path segment name, or a
// 422 naming it.
func pathID(r *http.Request, name string) (string, error) {
	id, ok := identity.CanonicalID(r.PathValue(name))
	if !ok {
		return "", validation.Invalid(name, "must be a UUID")
	}
	return id, nil
}

// body reads the request body under the size cap.
func (h *handler) body(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return io.ReadAll(http.MaxBytesReader(w, r.Body, h.MaxBodyBytes))
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// PeerIP is the TCP peer's address, as the local stack sees it; in Lambda
// the API Gateway adapter puts the sourceIp there too. IPv4-mapped
// addresses are unmapped. An unparsable address is the zero Addr, which no
// trusted-IP list admits.
func PeerIP(r *http.Request) netip.Addr {
	host := r.RemoteAddr
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return addr.Unmap().WithZone("")
}

type ctxKey struct{}

type reqInfo struct {
	id  string
	log *slog.Logger
}

func requestID(r *http.Request) string {
	info, _ := r.Context().Value(ctxKey{}).(reqInfo)
	return info.id
}

func logger(r *http.Request) *slog.Logger {
	if info, ok := r.Context().Value(ctxKey{}).(reqInfo); ok {
		return info.log
	}
	return slog.Default()
}

// statusRecorder remembers the status for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}
