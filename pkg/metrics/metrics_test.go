package metrics

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

var at = time.Date(2026, 11, 7, 5, 31, 56, 123e6, time.UTC)

// emf is a decoded EMF line.
type emf struct {
	AWS struct {
		Timestamp         int64
		CloudWatchMetrics []struct {
			Namespace  string
			Dimensions [][]string
			Metrics    []struct{ Name, Unit string }
		}
	} `json:"_aws"`
	root map[string]any
}

// flush flushes r and decodes its lines, checking each against the
// specification: every dimension named is a string member, every metric
// named is a number or an array of numbers, within the limits.
func flush(t *testing.T, r *Recorder) []emf {
	t.Helper()
	var buf bytes.Buffer
	if err := r.Flush(&buf, at); err != nil {
		t.Fatal(err)
	}
	var out []emf
	for _, line := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		if line == "" {
			continue
		}
		var e emf
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, line)
		}
		_ = json.Unmarshal([]byte(line), &e.root)
		if e.AWS.Timestamp != at.UnixMilli() {
			t.Fatalf("Timestamp = %d", e.AWS.Timestamp)
		}
		for _, d := range e.AWS.CloudWatchMetrics {
			if d.Namespace != Namespace || len(d.Metrics) == 0 || len(d.Metrics) > 100 {
				t.Fatalf("directive %+v", d)
			}
			for _, set := range d.Dimensions {
				if len(set) > 30 || set[0] != FunctionDimension {
					t.Fatalf("dimension set %v", set)
				}
				for _, dim := range set {
					if _, ok := e.root[dim].(string); !ok {
						t.Fatalf("dimension %s is not a string member: %s", dim, line)
					}
				}
			}
			for _, m := range d.Metrics {
				switch v := e.root[m.Name].(type) {
				case float64:
				case []any:
					if len(v) == 0 || len(v) > 100 {
						t.Fatalf("%s has %d values", m.Name, len(v))
					}
				default:
					t.Fatalf("metric %s is %T: %s", m.Name, v, line)
				}
			}
		}
		out = append(out, e)
	}
	return out
}

func TestOneInvocationIsOneLine(t *testing.T) {
	r := Get("api")
	defer Put(r)
	r.Count(TokenChecks, "allowed")
	r.Count(ConfigChanges, "attached")
	r.Observe(TokenCheckLatency, 1.5)
	r.Observe(TokenCheckLatency, 2.25)
	r.Count(DynamoDBRetries, "")
	r.Add(DynamoDBRetries, "", 2)
	r.Property("identityId", "8c1f4b8e-5d2a-4b7e-9f3c-2a6d1e0b7c45")
	lines := flush(t, r)
	if len(lines) != 1 {
		t.Fatalf("%d lines, want 1", len(lines))
	}
	root := lines[0].root
	want := map[string]any{
		"Function": "api", "TokenOutcome": "allowed", "TokenChecks": 1.0, "ConfigChange": "attached", "ConfigChanges": 1.0,
		"TokenCheckLatency": []any{1.5, 2.25}, "DynamoDBRetries": 3.0, "identityId": "8c1f4b8e-5d2a-4b7e-9f3c-2a6d1e0b7c45",
	}
	for k, v := range want {
		if got, _ := json.Marshal(root[k]); string(got) != mustJSON(v) {
			t.Errorf("%s = %s, want %s", k, got, mustJSON(v))
		}
	}
	sets := map[string][]string{}
	for _, d := range lines[0].AWS.CloudWatchMetrics {
		for _, m := range d.Metrics {
			sets[m.Name] = d.Dimensions[0]
		}
	}
	if !slices.Equal(sets["TokenChecks"], []string{"Function", "TokenOutcome"}) || !slices.Equal(sets["DynamoDBRetries"], []string{"Function"}) ||
		!slices.Equal(sets["TokenCheckLatency"], []string{"Function"}) || len(sets) != 4 {
		t.Fatalf("dimension sets = %v", sets)
	}
	// The recorder is empty again.
	if lines := flush(t, r); len(lines) != 0 {
		t.Fatalf("a second flush wrote %d lines", len(lines))
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestMixedOutcomesTakeAsFewLinesAsTheyCan: a line holds one value per
// dimension, so a metric with three outcomes needs three lines; the other
// metrics go in the first.
func TestMixedOutcomesTakeAsFewLinesAsTheyCan(t *testing.T) {
	r := Get("provisioner")
	defer Put(r)
	r.Add(ProvisionerRecords, "recorded", 7)
	r.Add(ProvisionerRecords, "known", 2)
	r.Count(ProvisionerRecords, "poison")
	r.Count(DynamoDBThrottles, "")
	lines := flush(t, r)
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3", len(lines))
	}
	got := map[string]float64{}
	for _, l := range lines {
		got[l.root["RecordOutcome"].(string)] += l.root["ProvisionerRecords"].(float64)
	}
	if got["recorded"] != 7 || got["known"] != 2 || got["poison"] != 1 {
		t.Fatalf("counts = %v", got)
	}
	if lines[0].root["DynamoDBThrottles"] != 1.0 || lines[1].root["DynamoDBThrottles"] != nil {
		t.Fatalf("the throttles are not in the first line only")
	}
}

// TestNoIdIsADimension: dimension keys are Function and the outcome keys;
// a value outside a metric's vocabulary, an id say, is recorded as other;
// properties are in no dimension set.
func TestNoIdIsADimension(t *testing.T) {
	allowed := map[string]bool{FunctionDimension: true}
	for _, m := range All {
		if m.Dimension != "" {
			allowed[m.Dimension] = true
		}
	}
	r := Get("api")
	defer Put(r)
	id := uuid.NewString()
	r.Count(Logins, id)
	r.Property("clientId", id)
	for _, l := range flush(t, r) {
		for _, d := range l.AWS.CloudWatchMetrics {
			for _, set := range d.Dimensions {
				for _, dim := range set {
					if !allowed[dim] {
						t.Errorf("dimension %s", dim)
					}
					if v := l.root[dim]; v == id {
						t.Errorf("an id is the value of dimension %s", dim)
					}
				}
			}
		}
		if l.root["LoginOutcome"] != Other || l.root["clientId"] != id {
			t.Errorf("line = %v", l.root)
		}
	}
	for _, m := range All {
		if strings.Contains(strings.ToLower(m.Dimension), "id") {
			t.Errorf("%s's dimension %s looks like an id", m.Name, m.Dimension)
		}
	}
}

func TestTheCatalogueKeepsTheLimits(t *testing.T) {
	if len(All) > 100 {
		t.Fatalf("%d metrics: one directive may name at most 100", len(All))
	}
	names := map[string]bool{}
	for _, m := range All {
		if names[m.Name] || names[m.Dimension] && m.Dimension != "" {
			t.Fatalf("%s repeats a name", m.Name)
		}
		names[m.Name] = true
		if m.Dimension != "" {
			names[m.Dimension] = true
		}
	}
	// Every metric at once, with every outcome: still valid lines.
	r := Get("api")
	defer Put(r)
	for _, m := range All {
		if m.Unit == Milliseconds {
			for i := range 150 {
				r.Observe(m, float64(i))
			}
			continue
		}
		r.Count(m, "")
		for _, o := range m.Outcomes {
			r.Count(m, o)
		}
	}
	lines := flush(t, r)
	if len(lines) != maxOutcomes {
		t.Fatalf("%d lines, want %d", len(lines), maxOutcomes)
	}
	if v := lines[0].root["LoginLatency"].([]any); len(v) != 100 {
		t.Fatalf("LoginLatency has %d values, want the first 100", len(v))
	}
}

func TestNilRecorderAndEmptyFlush(t *testing.T) {
	var r *Recorder
	r.Count(Logins, "success")
	r.Observe(LoginLatency, 1)
	r.Property("k", "v")
	if err := r.Flush(io.Discard, at); err != nil {
		t.Fatal(err)
	}
	if FromContext(context.Background()) != nil {
		t.Fatal("a context without a recorder has one")
	}
	real := Get("api")
	defer Put(real)
	if FromContext(NewContext(context.Background(), real)) != real {
		t.Fatal("NewContext/FromContext")
	}
	var buf bytes.Buffer
	if err := real.Flush(&buf, at); err != nil || buf.Len() != 0 {
		t.Fatalf("an empty recorder wrote %q", buf.String())
	}
}

func TestConcurrentCountsSum(t *testing.T) {
	r := Get("authorizer")
	defer Put(r)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				r.Count(AuthorizerDecisions, "allow")
				r.Observe(TokenCheckLatency, 1)
			}
		})
	}
	wg.Wait()
	if got := flush(t, r)[0].root["AuthorizerDecisions"]; got != 8000.0 {
		t.Fatalf("sum = %v", got)
	}
}

func TestPropertiesAreEscaped(t *testing.T) {
	r := Get("api")
	defer Put(r)
	r.Count(Logins, "success")
	weird := "a\"b\\c\nd\te\x01f\xffg☃"
	r.Property("userAgent", weird)
	r.Property("userAgent", "second") // the first wins
	l := flush(t, r)[0]
	if l.root["userAgent"] != "a\"b\\c\nd\te\x01f\ufffdg☃" {
		t.Fatalf("userAgent = %q", l.root["userAgent"])
	}
}

// BenchmarkLoginInvocation is what metrics cost a login: a pooled recorder,
// a count, a latency, three properties, and the line.
func BenchmarkLoginInvocation(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		r := Get("api")
		r.Count(Logins, "success")
		r.Observe(LoginLatency, 3.2)
		r.Property("identityId", "8c1f4b8e-5d2a-4b7e-9f3c-2a6d1e0b7c45")
		r.Property("orgId", "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa")
		r.Property("clientId", "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb")
		_ = r.Flush(io.Discard, at)
		Put(r)
	}
}
