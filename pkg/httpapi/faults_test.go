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
