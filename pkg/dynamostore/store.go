package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// DynamoDB is the part of *dynamodb.Client the store uses; tests put a
// fault-injecting wrapper here.
type DynamoDB interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// DefaultCallTimeout bounds each DynamoDB call, the SDK's retries
// included. It is well under the functions' timeouts, so that a stalled
// database gets uauth's own error answer rather than a platform timeout.
const DefaultCallTimeout = 3 * time.Second

// Store implements the stores of packages uaconfig, clientsecret, login,
// accesstoken, orgdefaults and provisioner on one table. Failed conditions
// are explained from the item DynamoDB returns with the failure, never by
// a second read.
type Store struct {
	DB    DynamoDB
	Table string
	// CallTimeout bounds each call; 0 means DefaultCallTimeout.
	CallTimeout time.Duration
}

// New returns a Store on table.
func New(db DynamoDB, table string) *Store {
	return &Store{DB: db, Table: table}
}

// call runs one DynamoDB request under the store's deadline. A request
// DynamoDB still throttled after the SDK's retries comes back as a
// ThrottledError.
func call[In, Out any](s *Store, ctx context.Context, op func(context.Context, In, ...func(*dynamodb.Options)) (Out, error), in In) (Out, error) {
	timeout := s.CallTimeout
	if timeout <= 0 {
		timeout = DefaultCallTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out, err := op(ctx, in)
	if err != nil && IsThrottle(err) {
		err = &ThrottledError{Err: err}
	}
	return out, err
}

// ThrottledError is a request DynamoDB throttled beyond the SDK's retries:
// the table is over its capacity for the moment. Trying again later will
// do (the API answers 503 with Retry-After).
type ThrottledError struct{ Err error }

func (e *ThrottledError) Error() string { return "dynamostore: throttled: " + e.Err.Error() }
func (e *ThrottledError) Unwrap() error { return e.Err }

// Throttled marks the error for callers that do not import this package.
func (e *ThrottledError) Throttled() bool { return true }

// throttleCodes are the error codes, and transaction cancellation codes,
// of a throttled request.
var throttleCodes = map[string]bool{
	"ThrottlingException": true, "ProvisionedThroughputExceededException": true, "RequestLimitExceeded": true,
	"ThrottlingError": true, "ProvisionedThroughputExceeded": true,
}

// IsThrottle reports whether err is DynamoDB throttling a request.
func IsThrottle(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && throttleCodes[api.ErrorCode()]
}

// conditionFailed reports whether err is a failed condition, and returns
// the item as it was then (nil if there was none).
func conditionFailed(err error) (map[string]types.AttributeValue, bool) {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ccf.Item, true
	}
	return nil, false
}

// canceled is a transaction that DynamoDB cancelled: reasons has one entry
// per item, in order, with the item as it was when its condition failed.
type canceled struct {
	reasons []types.CancellationReason
}

// failed reports whether item i's condition failed, and the item as it was.
func (c canceled) failed(i int) (map[string]types.AttributeValue, bool) {
	if i >= len(c.reasons) || aws.ToString(c.reasons[i].Code) != "ConditionalCheckFailed" {
		return nil, false
	}
	return c.reasons[i].Item, true
}

// transient reports a cancellation that trying again can cure: another
// transaction or write touched one of the items at the same moment, or
// DynamoDB throttled one of them (on AWS a throttled transaction is
// cancelled, not refused with a throttling error the SDK would retry).
func (c canceled) transient() bool {
	for _, r := range c.reasons {
		switch aws.ToString(r.Code) {
		case "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded":
			return true
		}
	}
	return false
}

// codes lists the reasons' codes, for an error message.
func (c canceled) codes() []string {
	out := make([]string, len(c.reasons))
	for i, r := range c.reasons {
		out[i] = aws.ToString(r.Code)
	}
	return out
}

// maxConflictRetries bounds how often a transaction (or a batch read with
// unprocessed keys) is tried again; the SDK's own retries do not cover
// cancellations.
const maxConflictRetries = 8

// transact runs a TransactWriteItems, trying again (with jittered backoff)
// when it is cancelled by a conflict or a throttle. A cancellation for a
// failed condition is returned as canceled, with the reasons.
func (s *Store) transact(ctx context.Context, in *dynamodb.TransactWriteItemsInput) (*canceled, error) {
	for attempt := 0; ; attempt++ {
		_, err := call(s, ctx, s.DB.TransactWriteItems, in)
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			if err != nil {
				return nil, fmt.Errorf("dynamostore: transaction: %w", err)
			}
			return nil, nil
		}
		c := &canceled{reasons: tce.CancellationReasons}
		if !c.transient() || attempt >= maxConflictRetries {
			if c.transient() {
				err = fmt.Errorf("dynamostore: transaction kept being cancelled (%v): %w", c.codes(), err)
				if slices.ContainsFunc(c.codes(), func(code string) bool { return throttleCodes[code] }) {
					err = &ThrottledError{Err: err}
				}
				return nil, err
			}
			return c, nil
		}
		if err := sleep(ctx, backoff(attempt+1)); err != nil {
			return nil, err
		}
	}
}

// backoff is a jittered exponential delay before attempt (1, 2, ...).
func backoff(attempt int) time.Duration {
	return time.Duration(rand.Int64N(int64(5*time.Millisecond) << min(attempt-1, 5)))
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// tableName returns a pointer to the table's name, for requests.
func (s *Store) tableName() *string { return &s.Table }
