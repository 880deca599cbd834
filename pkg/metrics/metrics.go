// Package metrics writes uauth's metrics in CloudWatch's embedded metric
// format (EMF): JSON lines on stdout, which Lambda sends to CloudWatch Logs,
// which extracts the metrics. That costs no API call and adds no latency.
// No Go EMF library is maintained, so this one is small and ours; it
// follows the published specification:
//
//	{"_aws": {"Timestamp": <epoch ms>, "CloudWatchMetrics": [
//	    {"Namespace": "uauth", "Dimensions": [["Function", "LoginOutcome"]],
//	     "Metrics": [{"Name": "Logins", "Unit": "Count"}]}]},
//	 "Function": "api", "LoginOutcome": "success", "Logins": 1,
//	 "identityId": "...", "orgId": "...", "clientId": "..."}
//
// Dimension values and metric values are members of the same object; any
// other member is a property, searchable in Logs Insights but not a
// dimension. A directive may name at most 100 metrics and a dimension set
// at most 30 dimensions: uauth's catalogue has 13 metrics and sets of two.
//
// Dimensions stay low-cardinality by construction: every metric has the
// Function dimension, and at most one outcome dimension whose values are a
// closed vocabulary (Metric.Outcomes); anything else is recorded as
// "other". Identity, org and client ids are properties, never dimensions.
//
// Each family has its own outcome dimension (LoginOutcome, TokenOutcome...)
// so that one invocation, which may record a token check and a
// configuration change with different outcomes, writes ONE line: a
// Recorder collects an invocation's metrics and Flush writes them at its
// end. Only when one metric got several outcomes in one invocation (a
// provisioner batch of 10 records: 7 recorded, 2 known, 1 poison) does it
// write more lines, as few as it can: line k carries the k-th outcome of
// each metric, since a line holds one value per dimension.
package metrics

import (
	"context"
	"io"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/uauth/uauth/pkg/jsonline"
)

// Namespace is where uauth's metrics are.
const Namespace = "uauth"

// FunctionDimension names the function that recorded a metric: api,
// authorizer, provisioner or changes.
const FunctionDimension = "Function"

// Unit is a CloudWatch unit.
type Unit string

// Units uauth uses.
const (
	Count        Unit = "Count"
	Milliseconds Unit = "Milliseconds"
)

// Metric is one metric of the catalogue.
type Metric struct {
	Name string
	Unit Unit
	// Dimension is the metric's outcome dimension, beside Function; "" for
	// none.
	Dimension string
	// Outcomes are the values Dimension may take; any other is "other".
	Outcomes []string
	// id is 1 + the index in All; 0 marks a Metric outside the catalogue,
	// which a Recorder ignores.
	id int
}

// Other is the outcome recorded for a value outside a metric's vocabulary.
const Other = "other"

// The catalogue: every metric uauth emits. The template's alarms and
// dashboard name only these, with these dimensions (a test holds them).
var (
	Logins = &Metric{Name: "Logins", Unit: Count, Dimension: "LoginOutcome", Outcomes: []string{
		"success", "invalid_credentials", "locked", "ip_refused", "secret_expired", "secret_exhausted", "error"}}
	LockoutsStarted = &Metric{Name: "LockoutsStarted", Unit: Count}
	TokenChecks     = &Metric{Name: "TokenChecks", Unit: Count, Dimension: "TokenOutcome", Outcomes: []string{
		"allowed", "invalid", "revoked", "identity_gone", "method_revoked", "secret_revoked", "ip_refused",
		"usage_limit", "permission_denied", "not_identity_token", "error"}}
	AuthorizerDecisions = &Metric{Name: "AuthorizerDecisions", Unit: Count, Dimension: "AuthorizerOutcome", Outcomes: []string{
		"allow", "deny", "unauthorized", "error"}}
	Introspections = &Metric{Name: "Introspections", Unit: Count, Dimension: "IntrospectionOutcome", Outcomes: []string{
		"active", "inactive", "error"}}
	ConfigChanges = &Metric{Name: "ConfigChanges", Unit: Count, Dimension: "ConfigChange", Outcomes: []string{
		"attached", "updated", "revoked", "refused", "error"}}
	ClientSecretChanges = &Metric{Name: "ClientSecretChanges", Unit: Count, Dimension: "SecretChange", Outcomes: []string{
		"created", "revoked", "refused", "error"}}
	ProvisionerRecords = &Metric{Name: "ProvisionerRecords", Unit: Count, Dimension: "RecordOutcome", Outcomes: []string{
		"recorded", "known", "poison", "retried"}}
	ChangeEvents = &Metric{Name: "ChangeEvents", Unit: Count, Dimension: "PublishOutcome", Outcomes: []string{
		"published", "failed"}}
	DynamoDBThrottles = &Metric{Name: "DynamoDBThrottles", Unit: Count}
	DynamoDBRetries   = &Metric{Name: "DynamoDBRetries", Unit: Count}
	LoginLatency      = &Metric{Name: "LoginLatency", Unit: Milliseconds}
	TokenCheckLatency = &Metric{Name: "TokenCheckLatency", Unit: Milliseconds}
)

// All is the catalogue, in order.
var All = []*Metric{Logins, LockoutsStarted, TokenChecks, AuthorizerDecisions, Introspections, ConfigChanges,
	ClientSecretChanges, ProvisionerRecords, ChangeEvents, DynamoDBThrottles, DynamoDBRetries, LoginLatency, TokenCheckLatency}

const (
	numMetrics  = 13
	maxOutcomes = 12 // the longest vocabulary, plus "other"
	// maxValues is the most values one metric may carry in a line.
	maxValues = 100
)

func init() {
	if len(All) != numMetrics {
		panic("metrics: numMetrics is out of date")
	}
	reserved = map[string]bool{"_aws": true, FunctionDimension: true}
	for i, m := range All {
		m.id = i + 1
		if len(m.Outcomes) >= maxOutcomes {
			panic("metrics: " + m.Name + " has too many outcomes")
		}
		reserved[m.Name] = true
		if m.Dimension != "" {
			reserved[m.Dimension] = true
		}
	}
}

// reserved are the members of a line that a Property may not take: a
// second copy of a key would let a parser that keeps the last one read an
// identity's id as a dimension or a value.
var reserved map[string]bool

// slot is m's index in a Recorder, and whether a Recorder keeps m of unit.
func (m *Metric) slot(unit Unit) (int, bool) {
	return m.id - 1, m.id > 0 && m.Unit == unit
}

// outcome is the index of value in m's vocabulary, or that of Other.
func (m *Metric) outcome(value string) int {
	for i, o := range m.Outcomes {
		if o == value {
			return i
		}
	}
	return len(m.Outcomes)
}

func (m *Metric) outcomeName(i int) string {
	if i < len(m.Outcomes) {
		return m.Outcomes[i]
	}
	return Other
}

// Recorder collects one invocation's metrics. Its methods are safe for
// concurrent use, and do nothing on a nil Recorder, so that code records
// without knowing whether anyone collects.
type Recorder struct {
	mu       sync.Mutex
	function string
	counts   [numMetrics][maxOutcomes]int64
	values   [numMetrics][]float64
	props    []prop
	buf      []byte
}

type prop struct{ key, value string }

var pool = sync.Pool{New: func() any { return &Recorder{buf: make([]byte, 0, 1024)} }}

// Get returns an empty Recorder for function, from a pool: Put it back
// after Flush.
func Get(function string) *Recorder {
	r := pool.Get().(*Recorder)
	r.function = function
	return r
}

// Put returns r to the pool; r must not be used after.
func Put(r *Recorder) {
	if r != nil {
		r.reset()
		pool.Put(r)
	}
}

func (r *Recorder) reset() {
	r.counts = [numMetrics][maxOutcomes]int64{}
	for i := range r.values {
		r.values[i] = r.values[i][:0]
	}
	r.props = r.props[:0]
}

// Count adds one to m with outcome ("" for a metric without one).
func (r *Recorder) Count(m *Metric, outcome string) { r.Add(m, outcome, 1) }

// Add adds n to m with outcome.
func (r *Recorder) Add(m *Metric, outcome string, n int) {
	if r == nil {
		return
	}
	id, ok := m.slot(Count)
	if !ok {
		return
	}
	i := 0
	if m.Dimension != "" {
		i = m.outcome(outcome)
	}
	r.mu.Lock()
	r.counts[id][i] += int64(n)
	r.mu.Unlock()
}

// Observe records a value of m, such as a latency in milliseconds; a line
// keeps the first 100 of an invocation. NaN and ±Inf, which JSON cannot
// carry, are dropped.
func (r *Recorder) Observe(m *Metric, v float64) {
	id, ok := m.slot(Milliseconds)
	if r == nil || !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	r.mu.Lock()
	if len(r.values[id]) < maxValues {
		r.values[id] = append(r.values[id], v)
	}
	r.mu.Unlock()
}

// Property adds a member that is not a dimension: an identity's id, say.
// The first value of a key wins; the line's own keys (_aws, Function, a
// metric's name or dimension) are not taken.
func (r *Recorder) Property(key, value string) {
	if r == nil || value == "" || reserved[key] {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.props {
		if p.key == key {
			return
		}
	}
	r.props = append(r.props, prop{key, value})
}

// Flush writes what was recorded as EMF lines, each with one Write, and
// resets the recorder. Nothing recorded, nothing written.
func (r *Recorder) Flush(w io.Writer, now time.Time) error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	defer r.reset()
	// The k-th line carries the k-th outcome of each metric that has one.
	var next [numMetrics]int
	for {
		b, any := r.line(r.buf[:0], &next, now)
		r.buf = b
		if !any {
			return nil
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
}

// line appends the next line, advancing next past the outcomes it takes;
// any is false when nothing was left.
func (r *Recorder) line(b []byte, next *[numMetrics]int, now time.Time) ([]byte, bool) {
	// taken[i] is the outcome metric i contributes to this line, or -1.
	var taken [numMetrics]int
	any := false
	for i, m := range All {
		taken[i] = -1
		if m.Unit == Milliseconds {
			if next[i] == 0 && len(r.values[i]) > 0 {
				taken[i], next[i], any = 0, 1, true
			}
			continue
		}
		for o := next[i]; o < maxOutcomes; o++ {
			if r.counts[i][o] != 0 {
				taken[i], next[i], any = o, o+1, true
				break
			}
		}
		if taken[i] < 0 {
			next[i] = maxOutcomes
		}
	}
	if !any {
		return b, false
	}
	b = append(b, `{"_aws":{"Timestamp":`...)
	b = strconv.AppendInt(b, now.UnixMilli(), 10)
	b = append(b, `,"CloudWatchMetrics":[`...)
	// One directive per dimension set: [Function] for the metrics without
	// an outcome, [Function, D] for each family with one.
	first := true
	plain := false
	for i, m := range All {
		if taken[i] < 0 {
			continue
		}
		if m.Dimension == "" {
			plain = true
			continue
		}
		b = directive(b, &first, m.Dimension)
		b = metricDef(b, m)
		b = append(b, "]}"...)
	}
	if plain {
		b = directive(b, &first, "")
		sep := false
		for i, m := range All {
			if taken[i] < 0 || m.Dimension != "" {
				continue
			}
			if sep {
				b = append(b, ',')
			}
			sep = true
			b = metricDef(b, m)
		}
		b = append(b, "]}"...)
	}
	b = append(b, "]},"...)
	b = member(b, FunctionDimension)
	b = jsonline.AppendString(b, r.function)
	for i, m := range All {
		o := taken[i]
		if o < 0 {
			continue
		}
		if m.Dimension != "" {
			b = append(b, ',')
			b = member(b, m.Dimension)
			b = jsonline.AppendString(b, m.outcomeName(o))
		}
		b = append(b, ',')
		b = member(b, m.Name)
		if m.Unit == Milliseconds {
			b = append(b, '[')
			for j, v := range r.values[i] {
				if j > 0 {
					b = append(b, ',')
				}
				b = strconv.AppendFloat(b, v, 'f', -1, 64)
			}
			b = append(b, ']')
		} else {
			b = strconv.AppendInt(b, r.counts[i][o], 10)
		}
	}
	for _, p := range r.props {
		b = append(b, ',')
		b = member(b, p.key)
		b = jsonline.AppendString(b, p.value)
	}
	b = append(b, "}\n"...)
	return b, true
}

func directive(b []byte, first *bool, dimension string) []byte {
	if !*first {
		b = append(b, ',')
	}
	*first = false
	b = append(b, `{"Namespace":"`+Namespace+`","Dimensions":[["`+FunctionDimension+`"`...)
	if dimension != "" {
		b = append(b, ',')
		b = jsonline.AppendString(b, dimension)
	}
	return append(b, `]],"Metrics":[`...)
}

func metricDef(b []byte, m *Metric) []byte {
	b = append(b, `{"Name":`...)
	b = jsonline.AppendString(b, m.Name)
	b = append(b, `,"Unit":`...)
	b = jsonline.AppendString(b, string(m.Unit))
	return append(b, '}')
}

func member(b []byte, name string) []byte {
	b = jsonline.AppendString(b, name)
	return append(b, ':')
}

type ctxKey struct{}

// NewContext returns ctx carrying r, for code deep in a call to record.
func NewContext(ctx context.Context, r *Recorder) context.Context {
	return context.WithValue(ctx, ctxKey{}, r)
}

// FromContext returns the Recorder of ctx, or nil (on which every method
// does nothing).
func FromContext(ctx context.Context) *Recorder {
	r, _ := ctx.Value(ctxKey{}).(*Recorder)
	return r
}
