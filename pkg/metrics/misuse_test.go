package metrics

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// A property never takes a key the line itself uses: a parser keeping the
// last copy of a key would otherwise read an id as a dimension or a value.
func TestAPropertyCannotTakeTheLinesOwnKeys(t *testing.T) {
	r := Get("api")
	defer Put(r)
	id := uuid.NewString()
	r.Count(Logins, "success")
	r.Observe(LoginLatency, 12)
	for _, key := range []string{"_aws", FunctionDimension, "LoginOutcome", "Logins", "LoginLatency", "TokenOutcome"} {
		r.Property(key, id)
	}
	var buf bytes.Buffer
	if err := r.Flush(&buf, at); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"LoginOutcome":"success"`) || strings.Contains(buf.String(), id) {
		t.Fatalf("a property took a reserved key:\n%s", buf.String())
	}
}

// NaN and ±Inf are not JSON: they are dropped, and the line stays valid.
func TestNonFiniteValuesAreDropped(t *testing.T) {
	r := Get("api")
	defer Put(r)
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), 7} {
		r.Observe(LoginLatency, v)
	}
	lines := flush(t, r)
	if len(lines) != 1 || !reflect.DeepEqual(lines[0].root["LoginLatency"], []any{7.0}) {
		t.Fatalf("LoginLatency = %v, want 7 alone", lines[0].root["LoginLatency"])
	}
}

// A Metric outside the catalogue, or used with the other unit, records
// nothing; in particular it is not counted as the catalogue's first metric.
func TestMetricsOutsideTheCatalogueAreIgnored(t *testing.T) {
	r := Get("api")
	defer Put(r)
	stray := &Metric{Name: "Stray", Unit: Count, Dimension: "LoginOutcome", Outcomes: Logins.Outcomes}
	r.Count(stray, "success")
	r.Observe(stray, 1)
	r.Count(LoginLatency, "")
	r.Observe(Logins, 3)
	if lines := flush(t, r); len(lines) != 0 {
		t.Fatalf("lines = %+v, want none", lines)
	}
}
