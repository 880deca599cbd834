package httpapi_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/dynamostore"
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
