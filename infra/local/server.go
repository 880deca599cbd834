package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"

	"github.com/uauth/uauth/pkg/authorizer"
	"github.com/uauth/uauth/pkg/provisioner"
)

// eventsPath is the local stand-in for EventBridge -> SQS -> provisioner.
// It exists only in the local stack.
const eventsPath = "/_local/events"

// maxEventsBody caps an injected batch; SQS caps a message at 256 KiB.
const maxEventsBody = 1 << 20

// metricsPath serves the local stack's metrics, summed.
const metricsPath = "/_local/metrics"

// localRoutes is what the local stack serves beside the API.
type localRoutes struct {
	api       http.Handler
	prov      *provisioner.Handler
	protected http.Handler // the demo protected API (authorizer.LocalHandler)
	metrics   http.Handler // GET /_local/metrics
	log       *slog.Logger // the local routes' request lines; nil: none
}

// newLocalHandler serves the API and, beside it, event injection, the demo
// protected API and the metrics. It dispatches by hand: a ServeMux in
// front would answer unclean paths with redirects before the API's own
// JSON errors could. The local routes log a request line each, as the API
// does.
func newLocalHandler(l localRoutes) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var h http.Handler
		switch p := r.URL.Path; {
		case p == authorizer.LocalPrefix || strings.HasPrefix(p, authorizer.LocalPrefix+"/"):
			h = l.protected
		case strings.TrimSuffix(p, "/") == metricsPath && l.metrics != nil:
			h = l.metrics
		case strings.TrimSuffix(p, "/") == eventsPath:
			h = http.HandlerFunc(l.events)
		default:
			l.api.ServeHTTP(w, r)
			return
		}
		start, rec := time.Now(), &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		if l.log != nil {
			l.log.LogAttrs(r.Context(), slog.LevelInfo, "request", slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", rec.status), slog.Float64("durationMs", float64(time.Since(start).Microseconds())/1000))
		}
	})
}

// statusWriter remembers the status for the request line.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) { s.status = code; s.ResponseWriter.WriteHeader(code) }

// events serves POST /_local/events: the local stand-in for EventBridge ->
// SQS -> provisioner.
func (l localRoutes) events(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		localError(w, http.StatusMethodNotAllowed, "POST one EventBridge event or a JSON array of them")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEventsBody))
	if err != nil {
		localError(w, http.StatusRequestEntityTooLarge, "event batch is larger than 1 MiB")
		return
	}
	resp, err := l.prov.Handle(r.Context(), sqsBatch(body))
	if err != nil {
		localError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

// sqsBatch wraps one EventBridge event, or each element of a JSON array of
// them, in an SQS record as the EventBridge-to-SQS target delivers it. A
// body that is neither is delivered as it is, so that poison handling can
// be tried locally too.
func sqsBatch(body []byte) events.SQSEvent {
	var list []json.RawMessage
	if json.Unmarshal(body, &list) != nil {
		list = []json.RawMessage{body}
	}
	batch := events.SQSEvent{Records: make([]events.SQSMessage, len(list))}
	for i, ev := range list {
		batch.Records[i] = events.SQSMessage{
			MessageId:      uuid.NewString(),
			Body:           string(ev),
			EventSource:    "aws:sqs",
			EventSourceARN: "arn:aws:sqs:us-east-1:000000000000:uauth-local-identity-events",
			AWSRegion:      "us-east-1",
		}
	}
	return batch
}

func localError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"statusCode": status, "message": msg, "error": http.StatusText(status)})
}
