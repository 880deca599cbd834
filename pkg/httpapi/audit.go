package httpapi

import (
	"net/http"

	"github.com/uauth/uauth/pkg/audit"
	"github.com/uauth/uauth/pkg/metrics"
)

// decided records one decision of a request: the audit record ev, a
// failure if err is not nil (its reason is the error's name, as the
// answer gives it), and a count of m (nil: no metric) with outcome on
// success, "refused" for a 4xx, "error" for a 5xx.
func decided(r *http.Request, ev audit.Event, err error, m *metrics.Metric, outcome string) {
	ev.Outcome = audit.Success
	if err != nil {
		var status int
		status, ev.Reason = statusOf(err)
		ev.Outcome = audit.Failure
		outcome = "refused"
		if status >= http.StatusInternalServerError {
			outcome = "error"
		}
	}
	if m != nil {
		metrics.FromContext(r.Context()).Count(m, outcome)
	}
	audit.Record(r.Context(), ev)
}
