package changes

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/uauth/uauth/pkg/metrics"
)

// EventBridge is the part of the EventBridge client publishing uses.
type EventBridge interface {
	PutEvents(context.Context, *eventbridge.PutEventsInput, ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// maxEntries is PutEvents' limit per call.
const maxEntries = 10

// Publisher publishes the changes of stream batches to an event bus.
type Publisher struct {
	EB     EventBridge
	Bus    string
	Source string
	Logger *slog.Logger
	// Metrics receives each batch's ChangeEvents (published, failed) as
	// EMF (stdout in Lambda); nil writes none.
	Metrics io.Writer
}

// Handle publishes a batch's changes, in order. A record whose change
// could not be published is reported, with every record after it, so that
// Lambda retries from there (ReportBatchItemFailures on a stream retries
// from the first reported record).
func (p *Publisher) Handle(ctx context.Context, batch events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	m := metrics.Get("changes")
	defer func() {
		if p.Metrics != nil {
			_ = m.Flush(p.Metrics, time.Now())
		}
		metrics.Put(m)
	}()
	resp := events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{}}
	type pending struct {
		seq   string
		entry ebtypes.PutEventsRequestEntry
	}
	var queue []pending
	for _, rec := range batch.Records {
		c, ok := FromRecord(rec)
		if !ok {
			continue
		}
		detail, _ := json.Marshal(c)
		queue = append(queue, pending{rec.Change.SequenceNumber, ebtypes.PutEventsRequestEntry{
			EventBusName: aws.String(p.Bus), Source: aws.String(p.Source), DetailType: aws.String(DetailType),
			Detail: aws.String(string(detail)), Resources: []string{},
		}})
	}
	for start := 0; start < len(queue); start += maxEntries {
		chunk := queue[start:min(start+maxEntries, len(queue))]
		entries := make([]ebtypes.PutEventsRequestEntry, len(chunk))
		for i, q := range chunk {
			entries[i] = q.entry
		}
		out, err := p.EB.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries})
		first := -1
		switch {
		case err != nil:
			first = 0
			p.Logger.ErrorContext(ctx, "publishing changes failed", slog.String("error", err.Error()))
		case out.FailedEntryCount > 0:
			for i, e := range out.Entries {
				if e.ErrorCode != nil {
					first = i
					p.Logger.ErrorContext(ctx, "publishing a change failed", slog.String("error", fmt.Sprintf("%s: %s", aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage))))
					break
				}
			}
		}
		if first >= 0 {
			m.Add(metrics.ChangeEvents, "published", first)
			m.Add(metrics.ChangeEvents, "failed", len(queue)-start-first)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: chunk[first].seq})
			return resp, nil
		}
		m.Add(metrics.ChangeEvents, "published", len(chunk))
		p.Logger.InfoContext(ctx, "changes published", slog.Int("events", len(chunk)))
	}
	return resp, nil
}
