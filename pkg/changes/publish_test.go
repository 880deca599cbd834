package changes_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/uauth/uauth/pkg/changes"
	"github.com/uauth/uauth/pkg/envconfig"
)

// fakeBus is EventBridge's PutEvents over HTTP, for the real SDK client:
// it keeps what it is sent, and fails the entries it is told to.
type fakeBus struct {
	mu       sync.Mutex
	received []map[string]any
	failAt   int // 0-based index across all entries; -1 for none
}

func (f *fakeBus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var in struct{ Entries []map[string]any }
	_ = json.NewDecoder(r.Body).Decode(&in)
	var out []map[string]any
	failed := 0
	for _, e := range in.Entries {
		if len(f.received) == f.failAt {
			f.failAt = -1
			out = append(out, map[string]any{"ErrorCode": "InternalFailure", "ErrorMessage": "injected"})
			failed++
			continue
		}
		f.received = append(f.received, e)
		out = append(out, map[string]any{"EventId": "e"})
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(map[string]any{"FailedEntryCount": failed, "Entries": out})
}

func record(seq, sk, event string, oldIm, newIm map[string]events.DynamoDBAttributeValue) events.DynamoDBEventRecord {
	return events.DynamoDBEventRecord{EventName: event, Change: events.DynamoDBStreamRecord{
		SequenceNumber: seq, Keys: map[string]events.DynamoDBAttributeValue{"sk": events.NewStringAttribute(sk)},
		OldImage: oldIm, NewImage: newIm, ApproximateCreationDateTime: events.SecondsEpochTime{Time: time.Unix(1794000000, 0)},
	}}
}

func TestPublisherReportsFromTheFirstFailure(t *testing.T) {
	bus := &fakeBus{failAt: 12}
	srv := httptest.NewServer(bus)
	defer srv.Close()
	cfg := envconfig.LocalAWS()
	cfg.BaseEndpoint = aws.String(srv.URL)
	cfg.RetryMaxAttempts = 1
	p := &changes.Publisher{EB: eventbridge.NewFromConfig(cfg), Bus: "uauth-bus", Source: "uauth", Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}

	secret := func(i int) map[string]events.DynamoDBAttributeValue {
		return map[string]events.DynamoDBAttributeValue{"identityId": events.NewStringAttribute("id"), "orgId": events.NewStringAttribute("org"),
			"actor": events.NewStringAttribute("alice"), "createdAt": events.NewStringAttribute("2036-11-07T05:31:56Z"),
			"mac": events.NewBinaryAttribute([]byte("never published"))}
	}
	var batch events.DynamoDBEvent
	for i := range 15 {
		batch.Records = append(batch.Records, record(string(rune('a'+i)), "SECRET#x", "INSERT", nil, secret(i)))
		// Lockouts and use counts are no changes.
		batch.Records = append(batch.Records, record(string(rune('a'+i))+"-", "LOCKOUT#1.2.3.4", "INSERT", nil, secret(i)))
	}
	resp, err := p.Handle(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	// The second call's third entry (the 13th change) failed; EventBridge
	// still took the two after it. Lambda retries from the 13th record, so
	// those two go out again: publication is at least once.
	if !reflect.DeepEqual(resp.BatchItemFailures, []events.DynamoDBBatchItemFailure{{ItemIdentifier: "m"}}) {
		t.Fatalf("failures = %+v, want the 13th change's record", resp.BatchItemFailures)
	}
	if len(bus.received) != 14 {
		t.Fatalf("%d events published, want 14", len(bus.received))
	}
	e := bus.received[0]
	if e["Source"] != "uauth" || e["DetailType"] != "Identity Auth Method Changed" || e["EventBusName"] != "uauth-bus" {
		t.Fatalf("entry = %v", e)
	}
	var detail map[string]any
	if err := json.Unmarshal([]byte(e["Detail"].(string)), &detail); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"identityId": "id", "orgId": "org", "authMethod": "universal-auth", "change": "credential-added", "actor": "alice", "at": "2036-11-07T05:31:56.000Z"}
	if !reflect.DeepEqual(detail, want) {
		t.Fatalf("detail = %v\nwant %v", detail, want)
	}
}
