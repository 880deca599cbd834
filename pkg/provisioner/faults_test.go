package provisioner_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/uauth/uauth/pkg/dynamostore"
	"github.com/uauth/uauth/pkg/dynamotest"
	"github.com/uauth/uauth/pkg/orgdefaults"
	"github.com/uauth/uauth/pkg/provisioner"
	"github.com/uauth/uauth/pkg/uaconfig"
)

// faults injects DynamoDB failures through SDK middleware, on the wire
// side of the SDK's retries, so that the SDK's own backoff handles them:
// every third attempt is throttled, and every attempt that touches one
// chosen identity fails with a 500 while broken is set.
type faults struct {
	mu       sync.Mutex
	attempts int
	victim   string
	broken   bool
	injected map[string]int
}

func (f *faults) option(o *dynamodb.Options) {
	// The SDK's retries, with backoff capped low to keep the test quick.
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) { so.MaxBackoff = 20 * time.Millisecond })
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("injectFaults",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				if err := f.fault(in); err != nil {
					return middleware.FinalizeOutput{}, middleware.Metadata{}, err
				}
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	})
}

func (f *faults) fault(in middleware.FinalizeInput) error {
	body := ""
	if req, ok := in.Request.(*smithyhttp.Request); ok && req.IsStreamSeekable() {
		b, _ := io.ReadAll(req.GetStream())
		body = string(b)
		if err := req.RewindStream(); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts++
	switch {
	case f.broken && strings.Contains(body, f.victim):
		f.injected["500"]++
		return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 500, Header: http.Header{}}},
			Err:      errors.New("injected: InternalServerError")}}
	case f.attempts%3 == 0:
		f.injected["throttle"]++
		return &types.ProvisionedThroughputExceededException{Message: aws.String("injected")}
	}
	return nil
}

// workload is a burst of events for many identities in three orgs with
// different policies: creates, duplicates, permission updates and deletes,
// in an order where some arrive before what they depend on.
func workload() []string {
	base := time.Date(2026, 11, 7, 5, 0, 0, 0, time.UTC)
	orgs := []string{"aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb", "cccccccc-cccc-4ccc-8ccc-cccccccccccc"}
	var evs []string
	for i := range 40 {
		id := fmt.Sprintf("%08d-0000-4000-8000-000000000000", i)
		org := orgs[i%3]
		created := eventWith(provisioner.IdentityCreated, id, org, map[string]any{"permissions": []string{"identity:read"}}, base)
		switch i % 5 {
		case 0:
			evs = append(evs, created, created) // duplicate delivery
		case 1:
			evs = append(evs, created, eventWith(provisioner.IdentityUpdated, id, org, map[string]any{"permissions": []string{"org:admin"}}, base.Add(time.Minute)))
		case 2:
			evs = append(evs, eventWith(provisioner.IdentityDeleted, id, org, nil, base.Add(time.Hour)), created) // delete first
		case 3: // a create that overrides the defaults, delivered twice
			override := eventWith(provisioner.IdentityCreated, id, org, map[string]any{"universalAuth": map[string]any{"accessTokenTTL": 60}}, base)
			evs = append(evs, override, override)
		default:
			evs = append(evs, created)
		}
	}
	return evs
}

// run delivers events in SQS batches of 10 until none fails, redelivering
// the failed records as SQS would, and returns the final table, normalized.
func run(t *testing.T, evs []string, f *faults) (string, int) {
	t.Helper()
	var opts []func(*dynamodb.Options)
	if f != nil {
		opts = append(opts, f.option)
	}
	store := dynamostore.New(dynamotest.Client(t, opts...), dynamotest.NewTable(t))
	// Ahead of the real clock: DynamoDB Local's TTL sweeper deletes items
	// (tombstones here) whose expiry is past by the real clock.
	clock := func() time.Time { return time.Date(2036, 11, 7, 6, 0, 0, 0, time.UTC) }
	defaults := &orgdefaults.Service{Store: store, Now: clock, Deployment: orgdefaults.Deployment(uaconfig.InfisicalDefaults(), true)}
	for org, body := range map[string]string{
		"aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa": `{"accessTokenTTL": 3600}`,
		"bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb": `{"autoAttach": false}`,
	} {
		s, autoAttach, err := orgdefaults.Decode([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := defaults.Put(context.Background(), org, s, autoAttach, "admin"); err == nil {
				break
			}
		}
	}
	h := &provisioner.Handler{Store: store, Defaults: defaults, TombstoneTTL: 24 * time.Hour, Now: clock,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	pending, rounds, reported := evs, 0, 0
	for ; len(pending) > 0; rounds++ {
		if rounds > 10 {
			t.Fatalf("%d records still failing after %d rounds", len(pending), rounds)
		}
		if f != nil && rounds == 1 {
			f.mu.Lock()
			f.broken = false // the item's outage ends; its records are redelivered
			f.mu.Unlock()
		}
		var failed []string
		for start := 0; start < len(pending); start += 10 {
			batch := events.SQSEvent{}
			for i, body := range pending[start:min(start+10, len(pending))] {
				batch.Records = append(batch.Records, events.SQSMessage{MessageId: fmt.Sprint(start + i), Body: body})
			}
			resp, err := h.Handle(context.Background(), batch)
			if err != nil {
				t.Fatal(err)
			}
			for _, fl := range resp.BatchItemFailures {
				var i int
				fmt.Sscan(fl.ItemIdentifier, &i)
				failed = append(failed, pending[i])
			}
		}
		reported += len(failed)
		pending = failed
	}
	return normalizedTable(t, store), reported
}

var randomIDs = regexp.MustCompile(`"(id|clientId)":\{"Value":"[0-9a-f-]{36}"\}|CLIENT#[0-9a-f-]{36}`)

// normalizedTable renders the table with the configurations' random ids
// blanked: everything else must be equal.
func normalizedTable(t *testing.T, store *dynamostore.Store) string {
	t.Helper()
	out, err := dynamotest.Client(t).Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(store.Table), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, it := range out.Items {
		b, _ := json.Marshal(it)
		lines = append(lines, randomIDs.ReplaceAllString(string(b), "<random>"))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// TestFaultsLoseNothingAndApplyNothingTwice runs the same burst with and
// without injected throttling and an item's outage, redelivering whatever
// is reported failed, and holds the final tables equal.
func TestFaultsLoseNothingAndApplyNothingTwice(t *testing.T) {
	evs := workload()
	want, reported := run(t, evs, nil)
	if reported == 0 {
		t.Fatal("the workload has no update that arrives before its create: it tests less than it should")
	}
	f := &faults{victim: "00000007-0000-4000-8000-000000000000", broken: true, injected: map[string]int{}}
	got, _ := run(t, evs, f)
	if f.injected["throttle"] == 0 || f.injected["500"] == 0 {
		t.Fatalf("faults injected: %v, want both kinds", f.injected)
	}
	if got != want {
		t.Fatalf("the tables differ.\nonly without faults:\n%s\nonly with faults:\n%s", minus(want, got), minus(got, want))
	}
	views, configs := 0, 0
	for _, line := range strings.Split(want, "\n") {
		switch {
		case strings.Contains(line, `"sk":{"Value":"CLIENT"}`):
			views++
		case strings.Contains(line, `"sk":{"Value":"IDENTITY"}`) && strings.Contains(line, `"ua":`):
			configs++
		}
	}
	if views != configs {
		t.Fatalf("%d login views for %d configurations: one was written twice or lost", views, configs)
	}
	t.Logf("injected %v over %d attempts", f.injected, f.attempts)
}

// minus is the lines of a that b lacks.
func minus(a, b string) string {
	have := map[string]bool{}
	for _, l := range strings.Split(b, "\n") {
		have[l] = true
	}
	var out []string
	for _, l := range strings.Split(a, "\n") {
		if !have[l] {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
