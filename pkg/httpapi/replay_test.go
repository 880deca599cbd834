package httpapi_test

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/uauth/uauth/pkg/dynamotest"
)

// The benchmarks' floors are the handler's own DynamoDB requests, captured
// and replayed bare (dynamotest.Renamer, dynamotest.Replay). A replay runs
// on a twin of the handler's state, made by replaying the requests that
// built that state with every id renamed, so that the twin holds the same
// items under new keys.

// twin replays the requests that built some state, renamed, and returns
// the Renamer that maps the state's ids to the twin's.
func twin(ctx context.Context, db *dynamodb.Client, built []any) (dynamotest.Renamer, error) {
	r := dynamotest.Renamer{}
	for _, in := range built {
		if err := dynamotest.Replay(ctx, db, r.Request(in)); err != nil {
			return nil, err
		}
	}
	return r, nil
}
