// Package httpapi serves the Universal Auth API as an ordinary http.Handler:
// routing, JSON, authentication and the error mapping. The same handler
// runs behind API Gateway (package apigw) and on a local port.
package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path"
	"runtime/debug"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uauth/uauth/pkg/auth"
	"github.com/uauth/uauth/pkg/universalauth"
)

// DefaultMaxBodyBytes caps request bodies. The largest sensible body, two
// trusted-IP lists of a few dozen CIDRs each, is well under it.
const DefaultMaxBodyBytes = 16 << 10

const configPath = "/api/v1/auth/universal-auth/identities/{identityId}"

// Options wires a handler.
type Options struct {
	Service  *universalauth.Service
	Verifier *auth.Verifier
	// Logger receives one JSON line per request; nil means slog.Default().
	Logger *slog.Logger
	// MaxBodyBytes caps request bodies (413 above it); 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// RequestID returns the platform's id for r (API Gateway's request id),
	// or "" to have one generated.
	RequestID func(*http.Request) string
}

type handler struct {
	Options
	mux *http.ServeMux
}

// New returns the API handler.
func New(o Options) http.Handler {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	h := &handler{Options: o, mux: http.NewServeMux()}
	h.mux.HandleFunc(configPath, h.config)
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { h.writeError(w, r, errRouteNotFound) })
	return h
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
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, reqInfo{id: id, log: log}))
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
		log.InfoContext(r.Context(), "request",
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

// configPermissions is the permission each method of the configuration
// resource requires.
var configPermissions = map[string]string{
	http.MethodPost:   auth.IdentityEditAuth,
	http.MethodGet:    auth.IdentityRead,
	http.MethodPatch:  auth.IdentityEditAuth,
	http.MethodDelete: auth.IdentityRevokeAuth,
}

// config serves the configuration resource. Checks run in the contract's
// order, cheapest first, so that a refused request never reaches the
// database: token, permission, schema, semantics, then the write.
func (h *handler) config(w http.ResponseWriter, r *http.Request) {
	perm, ok := configPermissions[r.Method]
	if !ok {
		w.Header().Set("Allow", "GET, POST, PATCH, DELETE")
		h.writeError(w, r, errMethodNotAllowed)
		return
	}
	actor, err := h.Verifier.Authenticate(r)
	if err == nil {
		err = actor.Require(perm)
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	identityID, ok := universalauth.CanonicalID(r.PathValue("identityId"))
	if !ok {
		h.writeError(w, r, universalauth.Invalid("identityId", "must be a UUID"))
		return
	}
	var body []byte
	if r.Method != http.MethodGet {
		if body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, h.MaxBodyBytes)); err != nil {
			h.writeError(w, r, err)
			return
		}
	}

	ctx, svc, org := r.Context(), h.Service, actor.OrgID
	var c universalauth.Config
	switch r.Method {
	case http.MethodGet:
		c, err = svc.Get(ctx, org, identityID)
	case http.MethodDelete:
		if err = universalauth.CheckBodyIdentity(body, identityID); err == nil {
			c, err = svc.Revoke(ctx, org, identityID)
		}
	default:
		var s universalauth.Settings
		if s, err = universalauth.DecodeSettings(body, identityID); err != nil {
			break
		}
		if r.Method == http.MethodPost {
			c, err = svc.Attach(ctx, org, identityID, s)
		} else {
			c, err = svc.Update(ctx, org, identityID, s)
		}
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toWire(c))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // only reachable by a programming error
		status, b = http.StatusInternalServerError, []byte(`{"statusCode":500,"message":"Something went wrong","error":"InternalServerError"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
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
