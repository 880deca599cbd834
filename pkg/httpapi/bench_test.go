package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/dynamotest"
)

// Public on-demand prices in us-east-1 used for the cost column, as last
// published: DynamoDB since its price cut of 2024-11-01, Lambda arm64 and
// HTTP API unchanged since 2021. This machine has no internet: they were
// checked against copies of the pricing pages on 2026-11-27.
const (
	usdPerMillionWRU     = 0.625
	usdPerMillionRRU     = 0.125
	usdPerGBSecondARM    = 0.0000133334
	usdPerMillionInvokes = 0.20
	usdPerMillionHTTPAPI = 1.00
	lambdaMemoryMB       = 256 // template.yaml's Globals.Function.MemorySize
	authorizerMemoryMB   = 128 // what an authorizer needs: it holds no more than a key ring
	benchAttachBody      = `{"clientSecretTrustedIps":[{"ipAddress":"0.0.0.0/0"}],"accessTokenTrustedIps":[{"ipAddress":"0.0.0.0/0"}],"accessTokenTTL":3600}`
)

// benchState is what an operation's setup made for it.
type benchState struct{ id, client, secret, token string }

// operation is one request of the API, measured on state its setup makes.
type operation struct {
	name    string
	setup   func(e *env) benchState
	request func(s benchState) *http.Request
	// authorizer: the request goes to the local stack's demo protected API,
	// through the Lambda authorizer's code, instead of to the API; it is
	// priced as an authorizer invocation (128 MB, no HTTP API request of
	// its own: the protected API's is paid either way).
	authorizer bool
}

func operations(b *testing.B) []operation {
	admin := token(b, orgA, caller.OrgAdmin)
	const peer = "192.0.2.1:1234" // e.do's address
	fresh := func(e *env) benchState { return benchState{id: e.identity(orgA)} }
	attached := func(e *env) benchState {
		id, client := e.attached(orgA, benchAttachBody, caller.IdentityRead)
		return benchState{id: id, client: client}
	}
	withSecret := func(e *env) benchState {
		s := attached(e)
		s.secret, _ = e.newSecret(orgA, s.id, `{"description":"ci"}`)
		return s
	}
	withToken := func(e *env) benchState {
		s := withSecret(e)
		s.token = e.accessToken(s.client, s.secret, addrA)
		return s
	}
	withLimitedToken := func(e *env) benchState {
		id, client := e.attached(orgA, `{"accessTokenNumUsesLimit":1000}`, caller.IdentityRead)
		s := benchState{id: id, client: client}
		s.secret, _ = e.newSecret(orgA, s.id, `{"description":"ci"}`)
		s.token = e.accessToken(s.client, s.secret, addrA)
		return s
	}
	return []operation{
		{name: "attach", setup: fresh, request: func(s benchState) *http.Request { return request(peer, "POST", path(s.id), admin, benchAttachBody) }},
		{name: "get", setup: attached, request: func(s benchState) *http.Request { return request(peer, "GET", path(s.id), admin, "") }},
		{name: "update", setup: attached, request: func(s benchState) *http.Request {
			return request(peer, "PATCH", path(s.id), admin, `{"accessTokenTTL":1800,"lockoutEnabled":false}`)
		}},
		{name: "revoke", setup: attached, request: func(s benchState) *http.Request { return request(peer, "DELETE", path(s.id), admin, "") }},
		{name: "create secret", setup: attached, request: func(s benchState) *http.Request {
			return request(peer, "POST", path(s.id)+"/client-secrets", admin, `{"description":"ci"}`)
		}},
		// A secret's first login on an instance writes its use count; the
		// next ones, within login.DefaultFlushInterval, write nothing.
		{name: "login, first", setup: withSecret, request: func(s benchState) *http.Request {
			return request(addrA, "POST", "/api/v1/auth/universal-auth/login", "", `{"clientId":"`+s.client+`","clientSecret":"`+s.secret+`"}`)
		}},
		{name: "login, again", setup: withToken, request: func(s benchState) *http.Request {
			return request(addrA, "POST", "/api/v1/auth/universal-auth/login", "", `{"clientId":"`+s.client+`","clientSecret":"`+s.secret+`"}`)
		}},
		{name: "token use (GET with it)", setup: withToken, request: func(s benchState) *http.Request {
			return request(addrA, "GET", path(s.id), s.token, "")
		}},
		{name: "renew", setup: withToken, request: func(s benchState) *http.Request {
			return request(addrA, "POST", "/api/v1/auth/token/renew", "", `{"accessToken":"`+s.token+`"}`)
		}},
		{name: "authorizer decision", setup: withToken, authorizer: true, request: func(s benchState) *http.Request {
			return request(addrA, "GET", "/_local/protected/orders", s.token, "")
		}},
		{name: "authorizer decision, limited token", setup: withLimitedToken, authorizer: true, request: func(s benchState) *http.Request {
			return request(addrA, "GET", "/_local/protected/orders", s.token, "")
		}},
	}
}

// row is one operation's figures.
type row struct {
	name                         string
	authorizer                   bool
	p50, p99, floor50            time.Duration
	allocs, floorAllocs          float64
	trips, rru, wru, usdPerMilln float64
}

// BenchmarkOperations measures every operation through the http.Handler
// against DynamoDB Local, next to its floor: the same DynamoDB requests,
// captured from the handler and replayed bare on a twin of its state,
// interleaved with it so that both see the same machine. Requests and
// state are built outside the timed regions. It prints docs/benchmarks.md's table.
func BenchmarkOperations(b *testing.B) {
	var rows []row
	for _, op := range operations(b) {
		b.Run(op.name, func(b *testing.B) {
			r := measure(b, op)
			if b.N > 1 { // the warm-up run with b.N == 1 does not count
				rows = append(rows, r)
			}
		})
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(os.Stdout, "\n| operation | handler p50 | handler p99 | floor p50 | ratio | allocs (floor) | round trips | RRU | WRU | $ per million |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(os.Stdout, "| %s | %s | %s | %s | %.2f | %.0f (%.0f) | %.0f | %.1f | %.1f | %.2f |\n", r.name, ms(r.p50), ms(r.p99), ms(r.floor50),
			float64(r.p50)/float64(r.floor50), r.allocs, r.floorAllocs, r.trips, r.rru, r.wru, r.usdPerMilln)
	}
	fmt.Fprintf(os.Stdout, "\n$ per million: DynamoDB on demand $%.3f/M WRU and $%.3f/M RRU, Lambda arm64 at %d MB (the authorizer at %d MB) ($%.10f per GB-s, duration = handler p50 rounded up to 1 ms) plus $%.2f/M requests, HTTP API $%.2f/M requests (us-east-1; none for the authorizer, whose API's request is paid either way).\n",
		usdPerMillionWRU, usdPerMillionRRU, lambdaMemoryMB, authorizerMemoryMB, usdPerGBSecondARM, usdPerMillionInvokes, usdPerMillionHTTPAPI)
}

func measure(b *testing.B, op operation) row {
	e := newEnv(b)
	e.calls.Capacity, e.calls.Capture = true, true
	handler := e.handler
	if op.authorizer {
		handler = localProtected(e, e.store)
	}
	ctx := context.Background()
	var times, floor []time.Duration
	var allocs, floorAllocs, trips uint64
	var rru, wru float64
	var before, after runtime.MemStats
	for range b.N {
		e.calls.Reset()
		s := op.setup(e)
		built := e.calls.Requests()
		e.calls.Reset()
		runtime.ReadMemStats(&before)

		req, rec := op.request(s), httptest.NewRecorder()
		t0 := time.Now()
		handler.ServeHTTP(rec, req)
		times = append(times, time.Since(t0))

		runtime.ReadMemStats(&after)
		allocs += after.Mallocs - before.Mallocs
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: %d %s", op.name, rec.Code, rec.Body)
		}
		sent := e.calls.Requests()
		trips += uint64(e.calls.Total())
		r, w := e.calls.Consumed()
		rru, wru = rru+r, wru+w

		// The floor: the same requests, renamed onto a twin of the state.
		names, err := twin(ctx, e.db, built)
		if err != nil {
			b.Fatalf("%s: building the twin: %v", op.name, err)
		}
		bare := make([]any, len(sent))
		for i, in := range sent {
			bare[i] = names.Request(in)
		}
		runtime.ReadMemStats(&before)
		t0 = time.Now()
		for _, in := range bare {
			if err := dynamotest.Replay(ctx, e.db, in); err != nil {
				b.Fatalf("%s: replaying %T: %v", op.name, in, err)
			}
		}
		floor = append(floor, time.Since(t0))
		runtime.ReadMemStats(&after)
		floorAllocs += after.Mallocs - before.Mallocs
	}
	n := float64(b.N)
	res := row{name: op.name, authorizer: op.authorizer, p50: percentile(times, 50), p99: percentile(times, 99), floor50: percentile(floor, 50),
		allocs: float64(allocs) / n, floorAllocs: float64(floorAllocs) / n, trips: float64(trips) / n, rru: rru / n, wru: wru / n}
	res.usdPerMilln = costPerMillion(res)
	b.ReportMetric(micros(res.p50), "p50-µs")
	b.ReportMetric(micros(res.p99), "p99-µs")
	b.ReportMetric(micros(res.floor50), "floor-p50-µs")
	b.ReportMetric(float64(res.p50)/float64(res.floor50), "ratio")
	b.ReportMetric(res.allocs, "allocs")
	b.ReportMetric(res.floorAllocs, "floor-allocs")
	b.ReportMetric(res.trips, "round-trips")
	b.ReportMetric(res.rru, "RRU")
	b.ReportMetric(res.wru, "WRU")
	b.ReportMetric(res.usdPerMilln, "usd/M")
	return res
}

// costPerMillion prices a million operations (see the constants): the
// API's behind HTTP API at its memory size, an authorizer's at 128 MB with
// no HTTP API request of its own.
func costPerMillion(r row) float64 {
	memoryMB, gateway := float64(lambdaMemoryMB), usdPerMillionHTTPAPI
	if r.authorizer {
		memoryMB, gateway = authorizerMemoryMB, 0
	}
	billedMS := math.Ceil(float64(r.p50) / float64(time.Millisecond))
	gbSeconds := billedMS / 1000 * memoryMB / 1024
	return r.rru*usdPerMillionRRU + r.wru*usdPerMillionWRU + gbSeconds*usdPerGBSecondARM*1e6 + usdPerMillionInvokes + gateway
}

// BenchmarkAttachThroughput runs attaches from 16 concurrent clients
// through the API served over loopback HTTP, against the same DynamoDB
// Local, next to the same attach transaction sent bare by 16 workers.
// Goal: the API's throughput is at least 0.9 of the bare one.
//
// A third side, the control, sends the bare transaction too, on twins of
// its own: control/bare is the harness's own spread (an A/A test), the
// margin within which api/bare is not a difference. Each side does b.N
// attaches in six interleaved rounds, each side in each position twice.
func BenchmarkAttachThroughput(b *testing.B) {
	const workers = 16
	e := newEnv(b)
	ctx := context.Background()
	srv := httptest.NewServer(e.handler)
	b.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	admin := "Bearer " + token(b, orgA, caller.IdentityEditAuth)

	// One attach captured, as the template of the bare side's requests.
	e.calls.Capture = true
	e.calls.Reset()
	seed := e.identity(orgA)
	built := e.calls.Requests()
	e.calls.Reset()
	e.do("POST", path(seed), token(b, orgA, caller.IdentityEditAuth), benchAttachBody).config()
	// With identity:edit-auth and not org:admin, the permission boundary
	// reads the target before the conditional write: the bare side sends
	// both too.
	attach := e.calls.Requests()
	if len(attach) != 2 {
		b.Fatalf("attach sent %d requests, want the boundary's read and the write", len(attach))
	}
	e.calls.Capture = false

	// The first warm attaches of each side are untimed: they warm the
	// JVM's JIT and both sides' connections, which would otherwise land on
	// whichever side goes first.
	warm := max(b.N/5, 32)
	n := warm + b.N
	ids := make([]string, n)
	bare, control := make([][]any, n), make([][]any, n)
	for i := range n {
		ids[i] = e.identity(orgA)
		for _, reqs := range [][][]any{bare, control} {
			names, err := twin(ctx, e.db, built)
			if err != nil {
				b.Fatal(err)
			}
			for _, req := range attach {
				reqs[i] = append(reqs[i], names.Request(req))
			}
		}
	}
	replay := func(reqs []any) error {
		for _, req := range reqs {
			if err := dynamotest.Replay(ctx, e.db, req); err != nil {
				return err
			}
		}
		return nil
	}

	api := func(i int) error {
		req, _ := http.NewRequest("POST", srv.URL+path(ids[i]), strings.NewReader(benchAttachBody))
		req.Header.Set("Authorization", admin)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("attach: %d %s; the API's log says:\n%s", resp.StatusCode, body, errorLines(e.logs))
		}
		return nil
	}
	sides := []struct {
		do   func(int) error
		time time.Duration
	}{
		{do: api},
		{do: func(i int) error { return replay(bare[i]) }},
		{do: func(i int) error { return replay(control[i]) }},
	}
	for k := range sides {
		concurrently(b, workers, 0, warm, sides[k].do)
	}
	const rounds = 6
	b.ResetTimer()
	for r := range rounds {
		lo, hi := warm+b.N*r/rounds, warm+b.N*(r+1)/rounds
		// The order rotates, so that whatever the JVM's collector leaves
		// from one side lands on each in turn.
		for k := range sides {
			side := &sides[(r+k)%len(sides)]
			side.time += concurrently(b, workers, lo, hi, side.do)
		}
	}
	b.StopTimer()
	rate := func(k int) float64 { return float64(b.N) / sides[k].time.Seconds() }
	b.ReportMetric(rate(0), "api-attaches/s")
	b.ReportMetric(rate(1), "bare-attaches/s")
	b.ReportMetric(rate(0)/rate(1), "api/bare")
	b.ReportMetric(rate(2)/rate(1), "control/bare")

	// Every attach landed: a throughput that skipped work would not count.
	for _, id := range []string{ids[warm], ids[warm+b.N/2], ids[n-1]} {
		var item map[string]any
		if err := json.Unmarshal([]byte(e.item(id)), &item); err != nil || item["ua"] == nil {
			b.Fatalf("identity %s has no configuration: %s", id, e.item(id))
		}
	}
}

// concurrently runs do(i) for i in [lo, hi) on n workers and returns the
// wall time it took.
func concurrently(b *testing.B, n, lo, hi int, do func(int) error) time.Duration {
	next := atomic.Int64{}
	next.Store(int64(lo))
	var wg sync.WaitGroup
	var failed atomic.Value
	t0 := time.Now()
	for range n {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= hi {
					return
				}
				if err := do(i); err != nil {
					failed.CompareAndSwap(nil, err)
					return
				}
			}
		})
	}
	wg.Wait()
	d := time.Since(t0)
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	return d
}

func percentile(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[(len(s)-1)*p/100]
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// errorLines are the log's error-level lines, to explain a failure.
func errorLines(l *logBuffer) string {
	var out []string
	for _, line := range l.lines() {
		if line["level"] == "ERROR" {
			b, _ := json.Marshal(line)
			out = append(out, string(b))
		}
	}
	return strings.Join(out, "\n")
}

// BenchmarkAuthorizerThroughput runs authorizations from 16 concurrent
// clients through the local stack's demo protected API (the Lambda
// authorizer's code, over loopback HTTP, as make run serves it), next to
// the same DynamoDB reads sent bare by 16 workers, and a control side that
// sends them bare too (control/bare: the harness's own spread). Tokens have
// no use limit, so each authorization is one strongly consistent
// BatchGetItem, the same on every side; the sides rotate over six rounds.
func BenchmarkAuthorizerThroughput(b *testing.B) {
	const workers, tokens = 16, 32
	e := newEnv(b)
	ctx := context.Background()
	srv := httptest.NewServer(localProtected(e, e.store))
	b.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}

	// Each token's authorization, and the one read it makes, captured.
	toks := make([]string, tokens)
	reads := make([]any, tokens)
	for i := range toks {
		id, cid := e.attached(orgA, `{}`, caller.IdentityRead)
		secret, _ := e.newSecret(orgA, id, `{}`)
		toks[i] = e.accessToken(cid, secret, addrA)
		e.calls.Capture = true
		e.calls.Reset()
		rec := httptest.NewRecorder()
		localProtected(e, e.store).ServeHTTP(rec, request(addrA, "GET", "/_local/protected/orders", toks[i], ""))
		if rec.Code != http.StatusOK || len(e.calls.Requests()) != 1 {
			b.Fatalf("authorization: %d %s, %d requests", rec.Code, rec.Body, len(e.calls.Requests()))
		}
		reads[i] = e.calls.Requests()[0]
		e.calls.Capture = false
	}
	authorize := func(i int) error {
		req, _ := http.NewRequest("GET", srv.URL+"/_local/protected/orders", nil)
		req.Header.Set("Authorization", "Bearer "+toks[i%tokens])
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("authorization: %d %s", resp.StatusCode, body)
		}
		return nil
	}
	bare := func(i int) error { return dynamotest.Replay(ctx, e.db, reads[i%tokens]) }
	sides := []struct {
		do   func(int) error
		time time.Duration
	}{{do: authorize}, {do: bare}, {do: bare}}
	warm := max(b.N/5, 64)
	for k := range sides {
		concurrently(b, workers, 0, warm, sides[k].do)
	}
	const rounds = 6
	b.ResetTimer()
	for r := range rounds {
		lo, hi := b.N*r/rounds, b.N*(r+1)/rounds
		for k := range sides {
			side := &sides[(r+k)%len(sides)]
			side.time += concurrently(b, workers, lo, hi, side.do)
		}
	}
	b.StopTimer()
	rate := func(k int) float64 { return float64(b.N) / sides[k].time.Seconds() }
	b.ReportMetric(rate(0), "authorizations/s")
	b.ReportMetric(rate(1), "bare-reads/s")
	b.ReportMetric(rate(0)/rate(1), "authorizer/bare")
	b.ReportMetric(rate(2)/rate(1), "control/bare")
}
