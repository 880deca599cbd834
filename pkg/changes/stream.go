package changes

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// Tail reads a table's stream, as Lambda's event source mapping does in AWS,
// and calls handle with each batch of records, until ctx ends. It serves
// the local stack and the tests. fromStart reads what the stream holds
// already; otherwise only what comes after ready is called (if not nil),
// once Tail has its place in the stream.
func Tail(ctx context.Context, db *dynamodb.Client, streams *dynamodbstreams.Client, table string, fromStart bool, ready func(), handle func([]events.DynamoDBEventRecord)) error {
	desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
	if err != nil {
		return err
	}
	arn := desc.Table.LatestStreamArn
	if arn == nil {
		return fmt.Errorf("table %s has no stream", table)
	}
	start := types.ShardIteratorTypeLatest
	if fromStart {
		start = types.ShardIteratorTypeTrimHorizon
	}
	iterators := map[string]*string{} // by shard id; nil once the shard is closed and read
	for {
		if err := openShards(ctx, streams, arn, start, iterators); err != nil {
			return err
		}
		start = types.ShardIteratorTypeTrimHorizon // shards that open later are read from their start
		if ready != nil {
			ready()
			ready = nil
		}
		idle := true
		for shard, it := range iterators {
			if it == nil {
				continue
			}
			out, err := streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it})
			var trimmed *types.TrimmedDataAccessException
			var expired *types.ExpiredIteratorException
			if errors.As(err, &trimmed) || errors.As(err, &expired) {
				delete(iterators, shard) // opened again, from its oldest record
				continue
			}
			if err != nil {
				return err
			}
			iterators[shard] = out.NextShardIterator
			if len(out.Records) > 0 {
				idle = false
				handle(convertRecords(out.Records, *arn))
			}
		}
		if idle {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

// NewStreamsClient returns a DynamoDB Streams client, on endpoint if it is
// not empty. Only the local stack and the tests read the stream this way;
// the Lambda functions never link it.
func NewStreamsClient(cfg aws.Config, endpoint string) *dynamodbstreams.Client {
	return dynamodbstreams.NewFromConfig(cfg, func(o *dynamodbstreams.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
}

func openShards(ctx context.Context, streams *dynamodbstreams.Client, arn *string, start types.ShardIteratorType, iterators map[string]*string) error {
	desc, err := streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: arn})
	if err != nil {
		return err
	}
	for _, s := range desc.StreamDescription.Shards {
		id := aws.ToString(s.ShardId)
		if _, known := iterators[id]; known {
			continue
		}
		out, err := streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: arn, ShardId: s.ShardId, ShardIteratorType: start})
		if err != nil {
			var trimmed *types.TrimmedDataAccessException
			if errors.As(err, &trimmed) {
				continue
			}
			return err
		}
		iterators[id] = out.ShardIterator
	}
	return nil
}

func convertRecords(in []types.Record, arn string) []events.DynamoDBEventRecord {
	out := make([]events.DynamoDBEventRecord, len(in))
	for i, r := range in {
		rec := events.DynamoDBEventRecord{
			EventID: aws.ToString(r.EventID), EventName: string(r.EventName), EventSource: "aws:dynamodb", EventSourceArn: arn,
			AWSRegion: aws.ToString(r.AwsRegion),
		}
		if d := r.Dynamodb; d != nil {
			rec.Change = events.DynamoDBStreamRecord{
				Keys: convertMap(d.Keys), OldImage: convertMap(d.OldImage), NewImage: convertMap(d.NewImage),
				SequenceNumber: aws.ToString(d.SequenceNumber), StreamViewType: string(d.StreamViewType),
			}
			if d.ApproximateCreationDateTime != nil {
				rec.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: *d.ApproximateCreationDateTime}
			}
		}
		out[i] = rec
	}
	return out
}

func convertMap(m map[string]types.AttributeValue) map[string]events.DynamoDBAttributeValue {
	if m == nil {
		return nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(m))
	for k, v := range m {
		out[k] = convert(v)
	}
	return out
}

func convert(v types.AttributeValue) events.DynamoDBAttributeValue {
	switch t := v.(type) {
	case *types.AttributeValueMemberS:
		return events.NewStringAttribute(t.Value)
	case *types.AttributeValueMemberN:
		return events.NewNumberAttribute(t.Value)
	case *types.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(t.Value)
	case *types.AttributeValueMemberB:
		return events.NewBinaryAttribute(t.Value)
	case *types.AttributeValueMemberSS:
		return events.NewStringSetAttribute(t.Value)
	case *types.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(t.Value)
	case *types.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(t.Value)
	case *types.AttributeValueMemberM:
		return events.NewMapAttribute(convertMap(t.Value))
	case *types.AttributeValueMemberL:
		l := make([]events.DynamoDBAttributeValue, len(t.Value))
		for i, e := range t.Value {
			l[i] = convert(e)
		}
		return events.NewListAttribute(l)
	default:
		return events.NewNullAttribute()
	}
}
