package dynamotest

import (
	"context"
	"fmt"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"
)

// Benchmarks compare a handler with its own DynamoDB requests, captured
// (Counter.Capture) and replayed bare: same expressions, same items, same
// conditions, under renamed ids so that they write new items.

// Renamer maps each id (a canonical UUID, wherever it appears in a string
// value) to a fresh one, consistently across the requests it rewrites. An
// id mapped to itself beforehand is kept.
type Renamer map[string]string

var uuidPattern = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

func (r Renamer) text(s string) string {
	return uuidPattern.ReplaceAllStringFunc(s, func(id string) string {
		if _, ok := r[id]; !ok {
			r[id] = uuid.NewString()
		}
		return r[id]
	})
}

func (r Renamer) value(v types.AttributeValue) types.AttributeValue {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return &types.AttributeValueMemberS{Value: r.text(v.Value)}
	case *types.AttributeValueMemberSS:
		out := make([]string, len(v.Value))
		for i, s := range v.Value {
			out[i] = r.text(s)
		}
		return &types.AttributeValueMemberSS{Value: out}
	case *types.AttributeValueMemberL:
		out := make([]types.AttributeValue, len(v.Value))
		for i, e := range v.Value {
			out[i] = r.value(e)
		}
		return &types.AttributeValueMemberL{Value: out}
	case *types.AttributeValueMemberM:
		return &types.AttributeValueMemberM{Value: r.Item(v.Value)}
	}
	return v
}

// Item returns a copy of an item with its ids renamed.
func (r Renamer) Item(m map[string]types.AttributeValue) map[string]types.AttributeValue {
	if m == nil {
		return nil
	}
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		out[k] = r.value(v)
	}
	return out
}

// Request returns a copy of a captured input (Counter.Capture) with its
// ids renamed. The expressions and attribute names are shared: they are
// never written.
func (r Renamer) Request(in any) any {
	switch in := in.(type) {
	case *dynamodb.GetItemInput:
		c := *in
		c.Key = r.Item(in.Key)
		return &c
	case *dynamodb.PutItemInput:
		c := *in
		c.Item, c.ExpressionAttributeValues = r.Item(in.Item), r.Item(in.ExpressionAttributeValues)
		return &c
	case *dynamodb.UpdateItemInput:
		c := *in
		c.Key, c.ExpressionAttributeValues = r.Item(in.Key), r.Item(in.ExpressionAttributeValues)
		return &c
	case *dynamodb.DeleteItemInput:
		c := *in
		c.Key, c.ExpressionAttributeValues = r.Item(in.Key), r.Item(in.ExpressionAttributeValues)
		return &c
	case *dynamodb.QueryInput:
		c := *in
		c.ExpressionAttributeValues, c.ExclusiveStartKey = r.Item(in.ExpressionAttributeValues), r.Item(in.ExclusiveStartKey)
		return &c
	case *dynamodb.BatchGetItemInput:
		c := *in
		c.RequestItems = make(map[string]types.KeysAndAttributes, len(in.RequestItems))
		for table, ka := range in.RequestItems {
			keys := make([]map[string]types.AttributeValue, len(ka.Keys))
			for i, k := range ka.Keys {
				keys[i] = r.Item(k)
			}
			ka.Keys = keys
			c.RequestItems[table] = ka
		}
		return &c
	case *dynamodb.TransactWriteItemsInput:
		c := *in
		c.ClientRequestToken = nil // the SDK's idempotency token belongs to the captured request
		c.TransactItems = make([]types.TransactWriteItem, len(in.TransactItems))
		for i, it := range in.TransactItems {
			switch {
			case it.Put != nil:
				p := *it.Put
				p.Item, p.ExpressionAttributeValues = r.Item(p.Item), r.Item(p.ExpressionAttributeValues)
				it.Put = &p
			case it.Update != nil:
				u := *it.Update
				u.Key, u.ExpressionAttributeValues = r.Item(u.Key), r.Item(u.ExpressionAttributeValues)
				it.Update = &u
			case it.Delete != nil:
				d := *it.Delete
				d.Key, d.ExpressionAttributeValues = r.Item(d.Key), r.Item(d.ExpressionAttributeValues)
				it.Delete = &d
			case it.ConditionCheck != nil:
				cc := *it.ConditionCheck
				cc.Key, cc.ExpressionAttributeValues = r.Item(cc.Key), r.Item(cc.ExpressionAttributeValues)
				it.ConditionCheck = &cc
			}
			c.TransactItems[i] = it
		}
		return &c
	case *dynamodb.TransactGetItemsInput:
		c := *in
		c.TransactItems = make([]types.TransactGetItem, len(in.TransactItems))
		for i, it := range in.TransactItems {
			g := *it.Get
			g.Key = r.Item(g.Key)
			c.TransactItems[i] = types.TransactGetItem{Get: &g}
		}
		return &c
	}
	panic(fmt.Sprintf("replay: no renaming for %T", in))
}

// Replay sends a captured (or renamed) request bare.
func Replay(ctx context.Context, db *dynamodb.Client, in any) error {
	var err error
	switch in := in.(type) {
	case *dynamodb.GetItemInput:
		_, err = db.GetItem(ctx, in)
	case *dynamodb.PutItemInput:
		_, err = db.PutItem(ctx, in)
	case *dynamodb.UpdateItemInput:
		_, err = db.UpdateItem(ctx, in)
	case *dynamodb.DeleteItemInput:
		_, err = db.DeleteItem(ctx, in)
	case *dynamodb.QueryInput:
		_, err = db.Query(ctx, in)
	case *dynamodb.BatchGetItemInput:
		_, err = db.BatchGetItem(ctx, in)
	case *dynamodb.TransactWriteItemsInput:
		_, err = db.TransactWriteItems(ctx, in)
	case *dynamodb.TransactGetItemsInput:
		_, err = db.TransactGetItems(ctx, in)
	default:
		panic(fmt.Sprintf("replay: no call for %T", in))
	}
	return err
}
