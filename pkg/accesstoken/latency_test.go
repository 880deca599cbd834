package accesstoken_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/metrics"
)

// TestCheckLatencyIsInMilliseconds: TokenCheckLatency is the check's own
// duration in milliseconds, so it is never more than the wall time around
// the call, measured in milliseconds.
func TestCheckLatencyIsInMilliseconds(t *testing.T) {
	f := newFixture(t)
	raw, _ := f.token(`{}`)
	tok, err := caller.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.Get("api")
	defer metrics.Put(m)
	ctx := metrics.NewContext(context.Background(), m)
	start := time.Now()
	// A signature check alone takes microseconds: the latency is not zero.
	if _, _, err := f.svc.Check(ctx, tok, caller.Origin{IP: inside, Issuer: issuer}, ""); err != nil {
		t.Fatal(err)
	}
	wall := float64(time.Since(start).Nanoseconds()) / 1e6
	var line bytes.Buffer
	if err := m.Flush(&line, t0); err != nil {
		t.Fatal(err)
	}
	var rec struct{ TokenCheckLatency []float64 }
	if err := json.Unmarshal(line.Bytes(), &rec); err != nil || len(rec.TokenCheckLatency) != 1 {
		t.Fatalf("metrics: %s (%v)", line.String(), err)
	}
	if got := rec.TokenCheckLatency[0]; got < 0 || got > wall {
		t.Fatalf("TokenCheckLatency %v ms, but the call took %v ms", got, wall)
	}
}
