package httpapi_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"
	"github.com/google/uuid"

	"github.com/uauth/uauth/pkg/caller"

	"github.com/uauth/uauth/pkg/dynamostore"
	"github.com/uauth/uauth/pkg/envconfig"
)

// faultyDB is the real DynamoDB Local client with injected failures, for
// what DynamoDB Local cannot be made to do.
type faultyDB struct {
	dynamostore.DynamoDB
	err   error
	panic bool
}

func (f faultyDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if f.panic {
		panic("injected")
	}
	return nil, f.err
}

func (f faultyDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if f.panic {
		panic("injected")
	}
	return nil, f.err
}

func (f faultyDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return nil, f.err
}

func TestDatabaseFailuresAreGeneric500s(t *testing.T) {
	e := newEnv(t)
	id := e.identity(orgA)
	secretDetail := "arn:aws:dynamodb:us-east-1:123456789012:table/secret-table-name"
	tok := token(t, orgA, caller.OrgAdmin)

	for name, db := range map[string]faultyDB{
		"error": {DynamoDB: e.store.DB, err: errors.New("AccessDeniedException: " + secretDetail)},
		"panic": {DynamoDB: e.store.DB, panic: true},
	} {
		t.Run(name, func(t *testing.T) {
			e.store.DB = db
			defer func() { e.store.DB = e.db }()
			before := e.item(id)
			resp := e.do("POST", path(id), tok, `{}`)
			resp.expectError(500, "InternalServerError", "Something went wrong")
			if strings.Contains(resp.rec.Body.String(), "secret-table-name") {
				t.Fatalf("500 leaks internals: %s", resp.rec.Body.String())
			}
			if e.item(id) != before {
				t.Fatal("a failed request changed the item")
			}
		})
	}
	// The cause is in the logs, for the operator.
	found := false
	for _, line := range e.logs.lines() {
		if msg, _ := line["error"].(string); line["level"] == "ERROR" && strings.Contains(msg, secretDetail) {
			found = true
		}
	}
	if !found {
		t.Fatal("the 500's cause was not logged")
	}
}

// TestAStalledDatabaseGetsUauthsOwn500: every DynamoDB call has a deadline
// well under the function's timeout, so a database that accepts and never
// answers yields the contract's JSON 500 with a reqId, not a platform
// timeout.
func TestAStalledDatabaseGetsUauthsOwn500(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	e := newEnv(t)
	stalled := dynamostore.New(envconfig.NewDynamoDB(envconfig.LocalAWS(), "http://"+ln.Addr().String()), e.table)
	stalled.CallTimeout = 200 * time.Millisecond
	e.handler = e.newHandler(stalled)

	for _, req := range []struct{ method, target, tok, body string }{
		{"GET", path(uuid.NewString()), token(t, orgA, caller.OrgAdmin), ""},
		{"POST", "/api/v1/auth/universal-auth/login", "", `{"clientId":"` + uuid.NewString() + `","clientSecret":"x"}`},
	} {
		start := time.Now()
		e.do(req.method, req.target, req.tok, req.body).expectError(500, "InternalServerError", "Something went wrong")
		// A bound on the deadline's effect, far above it, not a speed test.
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s %s took %v with a 200ms call deadline", req.method, req.target, d)
		}
	}
	found := false
	for _, line := range e.logs.lines() {
		if msg, _ := line["error"].(string); line["level"] == "ERROR" && strings.Contains(msg, "deadline exceeded") {
			found = true
		}
	}
	if !found {
		t.Error("the deadline was not logged as the cause")
	}
}

// throttlingDB throttles every request, as DynamoDB does past the SDK's
// retries when a table is over its capacity.
type throttlingDB struct{ dynamostore.DynamoDB }

var errThrottled = &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate of requests exceeds the allowed throughput."}

func (throttlingDB) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return nil, errThrottled
}

func (throttlingDB) BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return nil, errThrottled
}

func (throttlingDB) TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return nil, errThrottled
}

func (throttlingDB) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return nil, errThrottled
}

// TestThrottlingIsA503WithRetryAfter: a database throttled beyond the
// SDK's retries is the service being busy for a moment, not a failure: 503
// with Retry-After, in the contract's error shape, and nothing written.
func TestThrottlingIsA503WithRetryAfter(t *testing.T) {
	e := newEnv(t)
	id, client := e.attached(orgA, `{}`)
	secret, _ := e.newSecret(orgA, id, `{}`)
	bare := e.identity(orgA)
	before := e.scan()
	e.handler = e.newHandler(dynamostore.New(throttlingDB{e.store.DB}, e.table))
	admin := token(t, orgA, caller.OrgAdmin)
	for _, r := range []*response{
		e.do("GET", path(id), admin, ""),
		e.do("PATCH", path(id), admin, `{"accessTokenTTL": 60}`),
		e.do("POST", path(bare), admin, `{}`),
		e.login(client, secret, addrA),
	} {
		r.expectError(503, "ServiceUnavailable", "The service is busy, please retry later")
		if got := r.rec.Header().Get("Retry-After"); got != "1" {
			t.Errorf("Retry-After = %q", got)
		}
	}
	if e.scan() != before {
		t.Fatal("a throttled request wrote")
	}
}

func (throttlingDB) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, errThrottled
}

func (throttlingDB) DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return nil, errThrottled
}

func (throttlingDB) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return nil, errThrottled
}

func (throttlingDB) BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	return nil, errThrottled
}
