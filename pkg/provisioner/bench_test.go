package provisioner_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	"github.com/uauth/uauth/pkg/dynamostore"
	"github.com/uauth/uauth/pkg/dynamotest"
	"github.com/uauth/uauth/pkg/orgdefaults"
	"github.com/uauth/uauth/pkg/provisioner"
	"github.com/uauth/uauth/pkg/uaconfig"
)

// The benchmark's shape: benchEvents Identity Created events per
// iteration, in SQS batches of benchBatch, alternating with the floor every
// benchRound events; benchWarm events of each side first, untimed.
const (
	benchEvents = 10_000
	benchBatch  = 10
	benchRound  = 1_000
	benchWarm   = 500
	benchOrgs   = 4
	batchWrite  = 25 // BatchWriteItem's limit
)

// BenchmarkProvisionerThroughput feeds Identity Created events through
// Handle, one SQS batch of 10 at a time as one Lambda instance sees them,
// and compares it with the floor DynamoDB Local sets: the very items the
// handler wrote (captured from its requests, under fresh ids), loaded bare
// with BatchWriteItem, 25 at a time, at most as many requests in flight as
// the handler allows records: the best of several such loads.
// handler/floor is the figure to watch (goal: at least 0.8); absolute
// rates depend on the machine.
//
// A second floor is fair in the other sense: the handler's own requests
// (captured, under fresh ids), sent bare one after another as the handler
// sent them. handler/same-requests is what the handler's code adds to its
// DynamoDB work; handler/floor, what its choice of requests costs against
// the cheapest load of the same items.
//
// Fairness: the two alternate every 1,000 events, in turn going first, so
// that both see the same machine; only the handler's rounds are on the
// benchmark's timer. Both write one table, template.yaml's without its
// stream (see dynamotest.NewTable).
//
// Nothing here fails on speed; it fails only if an event or a floor write
// is not applied.
//
//	go test -run '^$' -bench ProvisionerThroughput -benchtime 1x ./pkg/provisioner
func BenchmarkProvisionerThroughput(b *testing.B) {
	ctx := context.Background()

	// The handler, as app.Provisioner builds it (AUTO_ATTACH on, Infisical's
	// defaults), logging JSON to nowhere; its client counts, captures and
	// asks for consumed capacity.
	table := dynamotest.NewTable(b)
	hc := &dynamotest.Counter{Capacity: true, Capture: true}
	hdb := dynamotest.Client(b, hc.Option)
	store := dynamostore.New(hdb, table)
	h := &provisioner.Handler{
		Store:        store,
		Defaults:     &orgdefaults.Service{Store: store, Deployment: orgdefaults.Deployment(uaconfig.InfisicalDefaults(), true)},
		TombstoneTTL: time.Hour,
		Logger:       slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}
	bound := h.Concurrency
	if bound <= 0 {
		bound = provisioner.DefaultConcurrency
	}
	// The floor's concurrency: the handler's bound, and fewer, which can be
	// faster on a small machine. The rounds take turns at each; the floor
	// is the best.
	levels := []int{bound}
	for c := 1; c < bound; c *= 2 {
		levels = append(levels, c)
	}
	// The floor's client: one of its own, asking for capacity too.
	fc := &dynamotest.Counter{Capacity: true}
	fdb := dynamotest.Client(b, fc.Option)

	// The orgs keep their ids when the floors rename the handler's items.
	orgs := make([]string, benchOrgs)
	for i := range orgs {
		orgs[i] = uuid.NewString()
	}
	renamer := func() dynamotest.Renamer {
		r := dynamotest.Renamer{}
		for _, org := range orgs {
			r[org] = org
		}
		return r
	}
	// The same-requests floor's client, asking for capacity as the
	// handler's does (DynamoDB Local does that work too).
	rdb := dynamotest.Client(b, (&dynamotest.Counter{Capacity: true}).Option)
	// Every identity each side created, warm-up included.
	var handlerIDs, floorIDs, replayIDs []string
	// The handler's requests of the last round, for the same-requests floor.
	var sent []any

	// handle feeds batches through the handler, one at a time, and returns
	// the time and the allocations that took, and the items written.
	handle := func(batches []events.SQSEvent) (time.Duration, uint64, []map[string]types.AttributeValue) {
		hc.Reset()
		runtime.GC()
		b.StartTimer()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		t0 := time.Now()
		for _, batch := range batches {
			resp, err := h.Handle(ctx, batch)
			if err != nil {
				b.Fatalf("the batch failed as a whole: %v", err)
			}
			if len(resp.BatchItemFailures) != 0 {
				b.Fatalf("%d records of a batch failed: %v", len(resp.BatchItemFailures), resp.BatchItemFailures)
			}
		}
		d := time.Since(t0)
		runtime.ReadMemStats(&after)
		b.StopTimer()
		sent = hc.Requests()
		return d, after.Mallocs - before.Mallocs, writtenItems(b, sent, countRecords(batches))
	}
	// replay issues the handler's requests again, one after another as the
	// handler sent them, under fresh ids, and returns the time that took:
	// DynamoDB's own cost of exactly the handler's work.
	replay := func(requests []any) time.Duration {
		names := renamer()
		fresh := make([]any, len(requests))
		for i, r := range requests {
			fresh[i] = names.Request(r)
			replayIDs = append(replayIDs, identitiesIn(fresh[i])...)
		}
		runtime.GC()
		t0 := time.Now()
		for _, r := range fresh {
			if err := dynamotest.Replay(ctx, rdb, r); err != nil {
				b.Fatalf("same-requests floor: %v", err)
			}
		}
		return time.Since(t0)
	}
	// floor loads items bare, under fresh ids, concurrency requests in
	// flight, and returns the time that took.
	floor := func(items []map[string]types.AttributeValue, concurrency int) time.Duration {
		fresh := make([]map[string]types.AttributeValue, len(items))
		names := renamer()
		for i, it := range items {
			fresh[i] = names.Item(it)
			if id := identityOf(fresh[i]); id != "" {
				floorIDs = append(floorIDs, id)
			}
		}
		requests := writeRequests(fresh)
		fc.Reset()
		runtime.GC()
		t0 := time.Now()
		if err := bareLoad(ctx, fdb, table, requests, concurrency); err != nil {
			b.Fatalf("floor: %v", err)
		}
		return time.Since(t0)
	}

	// Warm up both sides (the JVM's JIT, connections, the table).
	b.StopTimer()
	warm, warmIDs := benchBatches(benchWarm, orgs)
	handlerIDs = append(handlerIDs, warmIDs...)
	_, _, written := handle(warm)
	replay(sent)
	for _, c := range levels {
		floor(written, c)
	}

	var handlerTime, replayTime time.Duration
	var mallocs uint64
	var handled, calls, items, floorCalls, floorItems int
	var rcu, wcu, floorRU float64
	floorTime := map[int]time.Duration{}
	loaded := map[int]int{}
	loadFloor := func(round int) {
		replayTime += replay(sent)
		c := levels[round/2%len(levels)] // each level goes both first and second
		floorTime[c] += floor(written, c)
		loaded[c] += len(written)
		floorItems += len(written)
		floorCalls += fc.Total()
		r, w := fc.Consumed()
		floorRU += r + w
	}
	b.ResetTimer()
	b.StopTimer()
	for range b.N {
		batches, ids := benchBatches(benchEvents, orgs) // fresh ids each iteration
		handlerIDs = append(handlerIDs, ids...)
		for i, start := 0, 0; start < len(batches); i, start = i+1, start+benchRound/benchBatch {
			round := batches[start:min(start+benchRound/benchBatch, len(batches))]
			// Odd rounds load the previous round's items before the
			// handler's round; even rounds, this round's after it.
			if i%2 == 1 {
				loadFloor(i)
			}
			var d time.Duration
			var m uint64
			d, m, written = handle(round)
			handlerTime += d
			mallocs += m
			handled += countRecords(round)
			items += len(written)
			calls += hc.Total()
			r, w := hc.Consumed()
			rcu, wcu = rcu+r, wcu+w
			if i%2 == 0 {
				loadFloor(i)
			}
		}
	}

	checkRecorded(b, hdb, table, floorIDs, false)
	checkRecorded(b, hdb, table, replayIDs, true)
	checkRecorded(b, hdb, table, handlerIDs, true)
	if floorItems != items {
		b.Fatalf("the floor wrote %d items, the handler %d", floorItems, items)
	}

	// The floor's events: its items at the handler's items per event.
	n, perEvent := float64(handled), float64(items)/float64(handled)
	floorEvents := float64(floorItems) / perEvent
	handlerRate := n / handlerTime.Seconds()
	floorRate, floorBest := 0.0, 0
	for c, d := range floorTime {
		if r := float64(loaded[c]) / perEvent / d.Seconds(); r > floorRate {
			floorRate, floorBest = r, c
		}
	}
	b.ReportMetric(handlerRate, "handler-events/s")
	b.ReportMetric(floorRate, "floor-events/s")
	b.ReportMetric(handlerRate/floorRate, "handler/floor")
	// The same DynamoDB requests, bare: what the handler adds to its own
	// database work (issue: a fair floor), where handler/floor above is
	// against the cheapest way to load the same items.
	b.ReportMetric(n/replayTime.Seconds(), "same-requests-events/s")
	b.ReportMetric(replayTime.Seconds()/handlerTime.Seconds(), "handler/same-requests")
	b.ReportMetric(float64(floorBest), "floor-concurrency")
	b.ReportMetric(float64(calls)/n, "handler-ddb-calls/event")
	b.ReportMetric((rcu+wcu)/n, "handler-RU/event")
	b.ReportMetric(float64(floorCalls)/floorEvents, "floor-ddb-calls/event")
	b.ReportMetric(floorRU/floorEvents, "floor-RU/event")
	b.ReportMetric(float64(items)/n, "items/event")
	b.ReportMetric(float64(mallocs)/n, "handler-allocs/event")
}

// benchBatches builds n Identity Created events for new identities, spread
// over orgs, as SQS batches of benchBatch records, and returns their ids.
func benchBatches(n int, orgs []string) ([]events.SQSEvent, []string) {
	at := time.Now().UTC().Format(time.RFC3339)
	ids := make([]string, n)
	batches := make([]events.SQSEvent, 0, (n+benchBatch-1)/benchBatch)
	for i := range n {
		if i%benchBatch == 0 {
			batches = append(batches, events.SQSEvent{Records: make([]events.SQSMessage, 0, benchBatch)})
		}
		ids[i] = uuid.NewString()
		body, err := json.Marshal(map[string]any{
			"version": "0", "id": uuid.NewString(), "detail-type": provisioner.IdentityCreated, "source": "com.example.identities",
			"account": "123456789012", "time": at, "region": "us-east-1", "resources": []string{},
			"detail": map[string]string{"identityId": ids[i], "orgId": orgs[i%len(orgs)], "name": fmt.Sprintf("ci-runner-%d", i)},
		})
		if err != nil {
			panic(err)
		}
		last := &batches[len(batches)-1]
		last.Records = append(last.Records, events.SQSMessage{
			MessageId: uuid.NewString(), Body: string(body), EventSource: "aws:sqs",
			EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:uauth-IdentityQueue", AWSRegion: "us-east-1",
		})
	}
	return batches, ids
}

func countRecords(batches []events.SQSEvent) int {
	n := 0
	for _, b := range batches {
		n += len(b.Records)
	}
	return n
}

// writtenItems returns the items the captured requests wrote, once each:
// the Puts of transactions and PutItems. Fewer identity items than
// events, or a write of another kind, fails the benchmark: the floor
// would not be the same work.
func writtenItems(b *testing.B, requests []any, records int) []map[string]types.AttributeValue {
	b.Helper()
	seen := map[string]bool{}
	var items []map[string]types.AttributeValue
	add := func(it map[string]types.AttributeValue) {
		k := keyString(it)
		if !seen[k] {
			seen[k] = true
			items = append(items, it)
		}
	}
	for _, r := range requests {
		switch in := r.(type) {
		case *dynamodb.GetItemInput, *dynamodb.BatchGetItemInput: // the orgs' defaults
		case *dynamodb.PutItemInput:
			add(in.Item)
		case *dynamodb.TransactWriteItemsInput:
			for _, ti := range in.TransactItems {
				if ti.Put == nil {
					b.Fatalf("the handler wrote something other than a Put in a transaction: %+v", ti)
				}
				add(ti.Put.Item)
			}
		default:
			b.Fatalf("the handler made a request the floor does not replay: %T", r)
		}
	}
	identities := 0
	for _, it := range items {
		if identityOf(it) != "" {
			identities++
		}
	}
	if identities != records {
		b.Fatalf("the handler wrote %d identity items for %d events", identities, records)
	}
	return items
}

func keyString(it map[string]types.AttributeValue) string {
	pk, _ := it[dynamostore.AttrPK].(*types.AttributeValueMemberS)
	sk, _ := it[dynamostore.AttrSK].(*types.AttributeValueMemberS)
	if pk == nil || sk == nil {
		panic("item without a string key")
	}
	return pk.Value + "\x00" + sk.Value
}

// identityOf returns the id of an identity item, "" for another item.
func identityOf(it map[string]types.AttributeValue) string {
	sk, _ := it[dynamostore.AttrSK].(*types.AttributeValueMemberS)
	id, _ := it["identityId"].(*types.AttributeValueMemberS)
	if sk == nil || sk.Value != "IDENTITY" || id == nil {
		return ""
	}
	return id.Value
}

// identitiesIn returns the identities a renamed request writes.
func identitiesIn(r any) []string {
	var ids []string
	switch in := r.(type) {
	case *dynamodb.TransactWriteItemsInput:
		for _, ti := range in.TransactItems {
			if id := identityOf(ti.Put.Item); id != "" {
				ids = append(ids, id)
			}
		}
	case *dynamodb.PutItemInput:
		if id := identityOf(in.Item); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// writeRequests splits items into BatchWriteItem requests' worth.
func writeRequests(items []map[string]types.AttributeValue) [][]types.WriteRequest {
	var out [][]types.WriteRequest
	for i := 0; i < len(items); i += batchWrite {
		reqs := make([]types.WriteRequest, 0, batchWrite)
		for _, it := range items[i:min(i+batchWrite, len(items))] {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
		}
		out = append(out, reqs)
	}
	return out
}

// bareLoad issues the BatchWriteItem requests into table, concurrency in
// flight, asking again (after a short jittered pause) for unprocessed
// items.
func bareLoad(ctx context.Context, db *dynamodb.Client, table string, requests [][]types.WriteRequest, concurrency int) error {
	chunks := make(chan []types.WriteRequest, len(requests))
	for _, reqs := range requests {
		chunks <- reqs
	}
	close(chunks)
	errs := make(chan error, concurrency)
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for reqs := range chunks {
				pending := map[string][]types.WriteRequest{table: reqs}
				for attempt := 0; len(pending) > 0; attempt++ {
					if attempt > 0 {
						time.Sleep(time.Duration(rand.Int64N(int64(time.Millisecond) << min(attempt, 6))))
					}
					out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
					if err != nil {
						errs <- err
						return
					}
					pending = out.UnprocessedItems
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// checkRecorded fails unless every one of ids is an identity item of the
// table. With attached, it also reads a sample back through the store,
// which must find each in its org with a configuration attached.
func checkRecorded(b *testing.B, db *dynamodb.Client, table string, ids []string, attached bool) {
	b.Helper()
	ctx := context.Background()
	orgOf := make(map[string]string, len(ids))
	for i := 0; i < len(ids); i += 100 {
		keys := make([]map[string]types.AttributeValue, 0, 100)
		for _, id := range ids[i:min(i+100, len(ids))] {
			keys = append(keys, map[string]types.AttributeValue{
				dynamostore.AttrPK: &types.AttributeValueMemberS{Value: "IDENTITY#" + id},
				dynamostore.AttrSK: &types.AttributeValueMemberS{Value: "IDENTITY"},
			})
		}
		pending := map[string]types.KeysAndAttributes{table: {Keys: keys, ProjectionExpression: aws.String("identityId, orgId")}}
		for len(pending) > 0 {
			out, err := db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
			if err != nil {
				b.Fatal(err)
			}
			for _, it := range out.Responses[table] {
				id, _ := it["identityId"].(*types.AttributeValueMemberS)
				org, _ := it["orgId"].(*types.AttributeValueMemberS)
				if id != nil && org != nil {
					orgOf[id.Value] = org.Value
				}
			}
			pending = out.UnprocessedKeys
		}
	}
	for _, id := range ids {
		if orgOf[id] == "" {
			b.Fatalf("identity %s is not in the table (%d of %d are)", id, len(orgOf), len(ids))
		}
	}
	if !attached {
		return
	}
	store := dynamostore.New(db, table)
	for i := 0; i < len(ids); i += len(ids)/100 + 1 {
		c, err := store.GetConfig(ctx, orgOf[ids[i]], ids[i])
		if err != nil {
			b.Fatalf("identity %s: %v", ids[i], err)
		}
		if c.IdentityID != ids[i] || c.ClientID == "" {
			b.Fatalf("identity %s: attached %+v", ids[i], c)
		}
	}
}
