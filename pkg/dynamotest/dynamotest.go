// Package dynamotest gives tests a real DynamoDB: DynamoDB Local, with a
// fresh table built from template.yaml for each test that asks for one.
package dynamotest

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/smithy-go/middleware"
	"github.com/uauth/uauth/pkg/changes"
	"github.com/uauth/uauth/pkg/dynamolocal"
	"github.com/uauth/uauth/pkg/dynamostore"
	"github.com/uauth/uauth/pkg/envconfig"
	"github.com/uauth/uauth/pkg/stack"
)

// EndpointEnv names the variable that points tests at a running DynamoDB
// Local; make test starts one and sets it.
const EndpointEnv = "DYNAMODB_ENDPOINT"

var endpoint string

// Main runs a package's tests. Without DYNAMODB_ENDPOINT it starts DynamoDB
// Local for the package and stops it afterwards, so that plain `go test`
// works too. Use it as: func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }
func Main(m *testing.M) int {
	endpoint = os.Getenv(EndpointEnv)
	if endpoint == "" {
		root, err := dynamolocal.RepoRoot()
		if err != nil {
			fmt.Fprintln(os.Stderr, "dynamotest:", err)
			return 1
		}
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		inst, err := dynamolocal.Start(ctx, dynamolocal.Options{Root: root})
		cancel()
		if err != nil {
			fmt.Fprintln(os.Stderr, "dynamotest:", err)
			return 1
		}
		defer inst.Stop()
		endpoint = inst.Endpoint
	}
	return m.Run()
}

// Client returns a DynamoDB client on the test database. optFns can add
// middleware, such as a Counter's.
func Client(t testing.TB, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	t.Helper()
	if endpoint == "" {
		t.Fatal("dynamotest: the package's TestMain must call dynamotest.Main")
	}
	return envconfig.NewDynamoDB(envconfig.LocalAWS(), endpoint, optFns...)
}

var tableSeq atomic.Int64

// NewTable creates a uniquely named table from template.yaml's definition,
// without its stream, and deletes it when the test ends. Tests that share
// a database stay independent this way.
//
// The stream is left out because DynamoDB Local slows every write to a
// stream-enabled table by the stream records of the tables created before
// it, deleted ones included: after 40,000 writes to one such table, 2,000
// items took 32 s to load into a new one, against 0.25 s without a
// stream. One package's tests would slow the next one's, and benchmarks
// would measure DynamoDB Local's backlog. On DynamoDB itself a stream
// costs the table nothing. Tests of the stream use NewStreamTable.
func NewTable(t testing.TB) string { return newTable(t, false) }

// NewStreamTable is NewTable with template.yaml's stream.
func NewStreamTable(t testing.TB) string { return newTable(t, true) }

func newTable(t testing.TB, stream bool) string {
	t.Helper()
	name := fmt.Sprintf("uauth-test-%d-%d", os.Getpid(), tableSeq.Add(1))
	in, err := stack.TableInput(name)
	if err != nil {
		t.Fatal(err)
	}
	if !stream {
		in.StreamSpecification = nil
	}
	ttlAttr, err := stack.TTLAttribute()
	if err != nil {
		t.Fatal(err)
	}
	db := Client(t)
	if err := dynamostore.EnsureTable(context.Background(), db, in, ttlAttr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	return name
}

// Counter counts DynamoDB API calls by operation, through SDK middleware,
// so that tests and benchmarks can hold round trips to account. It also
// records the IAM actions the calls need (see Actions).
type Counter struct {
	// Capacity makes every call ask for ReturnConsumedCapacity=TOTAL, and
	// the counter sums what the answers report (see Capacity).
	Capacity bool
	// Capture keeps every request's input, for replaying the exact
	// requests bare (see Requests).
	Capture bool

	mu       sync.Mutex
	calls    map[string]int
	actions  map[string]bool
	rcu, wcu float64
	requests []any
}

// Option installs the counter on a client: pass it to Client. It counts at
// the end of the finalize step, after the SDK's retry middleware, so every
// attempt that goes on the wire is a call.
func (c *Counter) Option(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		if err := s.Initialize.Add(middleware.InitializeMiddlewareFunc("uauthActionRecorder",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				op := awsmiddleware.GetOperationName(ctx)
				c.record(op, in.Parameters)
				if c.Capacity {
					askCapacity(in.Parameters)
				}
				out, md, err := next.HandleInitialize(ctx, in)
				if c.Capacity && err == nil {
					r, w := consumed(op, in.Parameters, out.Result)
					c.mu.Lock()
					c.rcu, c.wcu = c.rcu+r, c.wcu+w
					c.mu.Unlock()
				}
				return out, md, err
			}), middleware.Before); err != nil {
			return err
		}
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("uauthCallCounter",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				c.mu.Lock()
				if c.calls == nil {
					c.calls = map[string]int{}
				}
				c.calls[awsmiddleware.GetOperationName(ctx)]++
				c.mu.Unlock()
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	})
}

// record notes the IAM actions a call needs. A transaction needs those of
// its parts: IAM has no TransactWriteItems action, but PutItem, UpdateItem,
// DeleteItem and ConditionCheckItem for each kind of part.
func (c *Counter) record(op string, params any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Capture {
		c.requests = append(c.requests, params)
	}
	if c.actions == nil {
		c.actions = map[string]bool{}
	}
	tx, ok := params.(*dynamodb.TransactWriteItemsInput)
	if !ok {
		c.actions[op] = true
		return
	}
	for _, it := range tx.TransactItems {
		switch {
		case it.Put != nil:
			c.actions["PutItem"] = true
		case it.Update != nil:
			c.actions["UpdateItem"] = true
		case it.Delete != nil:
			c.actions["DeleteItem"] = true
		case it.ConditionCheck != nil:
			c.actions["ConditionCheckItem"] = true
		}
	}
}

// Actions returns the IAM actions (without "dynamodb:") of every call made
// since the counter was installed, sorted. Reset does not clear them.
func (c *Counter) Actions() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.actions))
	for a := range c.actions {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// Reset forgets the calls, capacity and requests counted so far.
func (c *Counter) Reset() {
	c.mu.Lock()
	c.calls, c.requests, c.rcu, c.wcu = nil, nil, 0, 0
	c.mu.Unlock()
}

// Consumed returns the read and write request units that the calls since
// the last Reset consumed, as DynamoDB on AWS bills them: DynamoDB Local's
// figures, except for TransactWriteItems, which Local reports as a flat 2
// whatever its size; those are counted from the request (see
// transactionWCU). A refused conditional write reports none, although
// DynamoDB bills it.
func (c *Counter) Consumed() (rcu, wcu float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rcu, c.wcu
}

// Requests returns the inputs of the calls since the last Reset, in order.
func (c *Counter) Requests() []any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.requests)
}

// askCapacity sets ReturnConsumedCapacity=TOTAL on the operations uauth
// uses.
func askCapacity(params any) {
	const total = types.ReturnConsumedCapacityTotal
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.PutItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.UpdateItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.DeleteItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.QueryInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.BatchGetItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.BatchWriteItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.TransactWriteItemsInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.TransactGetItemsInput:
		in.ReturnConsumedCapacity = total
	}
}

// consumed reads an answer's capacity as read and write units, by the
// kind of operation when DynamoDB reports only the total. A
// TransactWriteItems is billed from its request instead (see Consumed).
func consumed(op string, params, result any) (rcu, wcu float64) {
	if tx, ok := params.(*dynamodb.TransactWriteItemsInput); ok {
		return 0, transactionWCU(tx)
	}
	var list []types.ConsumedCapacity
	switch out := result.(type) {
	case *dynamodb.GetItemOutput:
		list = one(out.ConsumedCapacity)
	case *dynamodb.PutItemOutput:
		list = one(out.ConsumedCapacity)
	case *dynamodb.UpdateItemOutput:
		list = one(out.ConsumedCapacity)
	case *dynamodb.DeleteItemOutput:
		list = one(out.ConsumedCapacity)
	case *dynamodb.QueryOutput:
		list = one(out.ConsumedCapacity)
	case *dynamodb.BatchGetItemOutput:
		list = out.ConsumedCapacity
	case *dynamodb.BatchWriteItemOutput:
		list = out.ConsumedCapacity
	case *dynamodb.TransactGetItemsOutput:
		list = out.ConsumedCapacity
	}
	read := op == "GetItem" || op == "Query" || op == "BatchGetItem" || op == "TransactGetItems" || op == "Scan"
	factor := 1.0
	if op == "TransactGetItems" {
		factor = 2 // "Capacity management for transactions" in DynamoDB's developer guide
	}
	for _, cc := range list {
		r, w := aws.ToFloat64(cc.ReadCapacityUnits), aws.ToFloat64(cc.WriteCapacityUnits)
		if r == 0 && w == 0 {
			if read {
				r = aws.ToFloat64(cc.CapacityUnits)
			} else {
				w = aws.ToFloat64(cc.CapacityUnits)
			}
		}
		rcu, wcu = rcu+factor*r, wcu+factor*w
	}
	return rcu, wcu
}

// transactionWCU is what AWS bills for a transaction: two write units per
// part per started kilobyte of its item ("Capacity management for
// transactions" in DynamoDB's developer guide). A Put's item is in the
// request (a Put that replaces a larger item is billed by that one, which
// this does not see); an update's, delete's or condition check's is not,
// and counts as one kilobyte, which uauth's items are under unless an
// identity carries long permission lists. A cancelled transaction counts
// nothing, although DynamoDB bills it.
func transactionWCU(tx *dynamodb.TransactWriteItemsInput) float64 {
	wcu := 0.0
	for _, part := range tx.TransactItems {
		kb := 1
		if part.Put != nil {
			kb = max(1, (itemSize(part.Put.Item)+1023)/1024)
		}
		wcu += 2 * float64(kb)
	}
	return wcu
}

// itemSize is an item's size by DynamoDB's rules ("Item sizes and
// formats"): names and values, numbers at about one byte per two digits,
// three bytes plus one per element for maps and lists.
func itemSize(m map[string]types.AttributeValue) int {
	n := 0
	for name, v := range m {
		n += len(name) + valueSize(v)
	}
	return n
}

func valueSize(av types.AttributeValue) int {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return (len(v.Value)+1)/2 + 1
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range v.Value {
			n += (len(s)+1)/2 + 1
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		return 3 + itemSize(v.Value) + len(v.Value)
	}
	return 0
}

func one(cc *types.ConsumedCapacity) []types.ConsumedCapacity {
	if cc == nil {
		return nil
	}
	return []types.ConsumedCapacity{*cc}
}

// Calls returns the calls counted since the last Reset, by operation name.
func (c *Counter) Calls() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.calls))
	for k, v := range c.calls {
		out[k] = v
	}
	return out
}

// Total returns the number of calls since the last Reset.
func (c *Counter) Total() int {
	n := 0
	for _, v := range c.Calls() {
		n += v
	}
	return n
}

// Endpoint returns the test database's endpoint, for tests that start a
// whole stack against it.
func Endpoint() string { return endpoint }

// Streams returns a DynamoDB Streams client on the test database.
func Streams(t testing.TB) *dynamodbstreams.Client {
	t.Helper()
	return changes.NewStreamsClient(envconfig.LocalAWS(), endpoint)
}
