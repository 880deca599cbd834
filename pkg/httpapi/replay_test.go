package httpapi_test

import (
	"context"
	"fmt"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"
)

// The benchmarks' floors are the handler's own DynamoDB requests, captured
// (dynamotest.Counter.Capture) and replayed bare: same expressions, same
// items, same conditions. A replay runs on a twin of the handler's state,
// made by replaying the requests that built that state with every id
// renamed, so that the twin holds the same items under new keys.

// renamer maps each id (a canonical UUID, wherever it appears in a string
// value) to a fresh one, consistently across the requests it rewrites.
type renamer map[string]string

var uuidPattern = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

func (r renamer) str(s string) string {
	return uuidPattern.ReplaceAllStringFunc(s, func(id string) string {
		if _, ok := r[id]; !ok {
			r[id] = uuid.NewString()
		}
		return r[id]
	})
}

func (r renamer) av(v types.AttributeValue) types.AttributeValue {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return &types.AttributeValueMemberS{Value: r.str(v.Value)}
	case *types.AttributeValueMemberSS:
		out := make([]string, len(v.Value))
		for i, s := range v.Value {
			out[i] = r.str(s)
		}
		return &types.AttributeValueMemberSS{Value: out}
	case *types.AttributeValueMemberL:
		out := make([]types.AttributeValue, len(v.Value))
		for i, e := range v.Value {
			out[i] = r.av(e)
		}
		return &types.AttributeValueMemberL{Value: out}
	case *types.AttributeValueMemberM:
		return &types.AttributeValueMemberM{Value: r.item(v.Value)}
	}
	return v
}

func (r renamer) item(m map[string]types.AttributeValue) map[string]types.AttributeValue {
	if m == nil {
		return nil
	}
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		out[k] = r.av(v)
	}
	return out
}

// request returns a copy of a captured input with its ids renamed. The
// expressions and attribute names are shared: they are never written.
func (r renamer) request(in any) any {
	switch in := in.(type) {
	case *dynamodb.GetItemInput:
		c := *in
		c.Key = r.item(in.Key)
		return &c
	case *dynamodb.PutItemInput:
		c := *in
		c.Item, c.ExpressionAttributeValues = r.item(in.Item), r.item(in.ExpressionAttributeValues)
		return &c
	case *dynamodb.UpdateItemInput:
		c := *in
		c.Key, c.ExpressionAttributeValues = r.item(in.Key), r.item(in.ExpressionAttributeValues)
		return &c
	case *dynamodb.DeleteItemInput:
		c := *in
		c.Key, c.ExpressionAttributeValues = r.item(in.Key), r.item(in.ExpressionAttributeValues)
		return &c
	case *dynamodb.QueryInput:
		c := *in
		c.ExpressionAttributeValues, c.ExclusiveStartKey = r.item(in.ExpressionAttributeValues), r.item(in.ExclusiveStartKey)
		return &c
	case *dynamodb.BatchGetItemInput:
		c := *in
		c.RequestItems = make(map[string]types.KeysAndAttributes, len(in.RequestItems))
		for table, ka := range in.RequestItems {
			keys := make([]map[string]types.AttributeValue, len(ka.Keys))
			for i, k := range ka.Keys {
				keys[i] = r.item(k)
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
				p.Item, p.ExpressionAttributeValues = r.item(p.Item), r.item(p.ExpressionAttributeValues)
				it.Put = &p
			case it.Update != nil:
				u := *it.Update
				u.Key, u.ExpressionAttributeValues = r.item(u.Key), r.item(u.ExpressionAttributeValues)
				it.Update = &u
			case it.Delete != nil:
				d := *it.Delete
				d.Key, d.ExpressionAttributeValues = r.item(d.Key), r.item(d.ExpressionAttributeValues)
				it.Delete = &d
			case it.ConditionCheck != nil:
				cc := *it.ConditionCheck
				cc.Key, cc.ExpressionAttributeValues = r.item(cc.Key), r.item(cc.ExpressionAttributeValues)
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
			g.Key = r.item(g.Key)
			c.TransactItems[i] = types.TransactGetItem{Get: &g}
		}
		return &c
	}
	panic(fmt.Sprintf("replay: no renaming for %T", in))
}

// replay sends a request as it was captured.
func replay(ctx context.Context, db *dynamodb.Client, in any) error {
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

// twin replays the requests that built some state, renamed, and returns
// the renamer that maps the state's ids to the twin's.
func twin(ctx context.Context, db *dynamodb.Client, built []any) (renamer, error) {
	r := renamer{}
	for _, in := range built {
		if err := replay(ctx, db, r.request(in)); err != nil {
			return nil, err
		}
	}
	return r, nil
}
