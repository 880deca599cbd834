package envconfig

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/uauth/uauth/pkg/dynamostore"
	"github.com/uauth/uauth/pkg/metrics"
)

// TestRetriesAndThrottlesAreCounted: a DynamoDB that throttles twice, then
// answers, costs the invocation two retries and two throttles; one that
// throttles past the SDK's retries is a ThrottledError for the store.
func TestRetriesAndThrottlesAreCounted(t *testing.T) {
	var calls, throttleFirst atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		if n <= throttleFirst.Load() {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate exceeded"}`))
			return
		}
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	db := NewDynamoDB(LocalAWS(), srv.URL)
	store := dynamostore.New(db, "t")

	run := func(throttles int32) (error, map[string]any) {
		calls.Store(0)
		throttleFirst.Store(throttles)
		m := metrics.Get("api")
		defer metrics.Put(m)
		ctx := metrics.NewContext(context.Background(), m)
		_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "x"}}})
		if err == nil {
			_, err = store.GetConfig(ctx, "o", "i") // an empty item: not found, or throttled
		}
		var buf bytes.Buffer
		_ = m.Flush(&buf, time.Now())
		var line map[string]any
		_ = json.Unmarshal(buf.Bytes(), &line)
		return err, line
	}

	_, line := run(2)
	if line["DynamoDBRetries"] != 2.0 || line["DynamoDBThrottles"] != 2.0 {
		t.Fatalf("two throttles then an answer: %v", line)
	}
	err, line := run(100)
	var te *dynamostore.ThrottledError
	if !errors.As(err, &te) && !dynamostore.IsThrottle(err) {
		t.Fatalf("throttled past the retries: %v", err)
	}
	if line["DynamoDBThrottles"] == nil || line["DynamoDBThrottles"].(float64) < 3 {
		t.Fatalf("throttles = %v", line["DynamoDBThrottles"])
	}
	if _, err := store.GetConfig(context.Background(), "o", "i"); !errors.As(err, &te) || !te.Throttled() {
		t.Fatalf("the store's error = %v, want a ThrottledError", err)
	}
}
