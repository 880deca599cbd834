package httpapi_test

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/uauth/uauth/pkg/dynamostore"
)

// racingDB is the real database, except that every write to an identity
// item loses a race: its condition fails, and the item it returns has had
// its permissions changed by someone else. What a store makes of that is
// what it makes of a real race, at the worst moment, every time.
type racingDB struct{ dynamostore.DynamoDB }

func isIdentityKey(key map[string]types.AttributeValue) bool {
	pk, _ := key["pk"].(*types.AttributeValueMemberS)
	return pk != nil && strings.HasPrefix(pk.Value, "IDENTITY#")
}

// changed is the identity item as it now is, with other permissions.
func (d racingDB) changed(ctx context.Context, table *string, key map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	out, err := d.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: table, Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, err
	}
	out.Item["permissions"] = &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: "changed:meanwhile"}}}
	return out.Item, nil
}

func (d racingDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if !isIdentityKey(in.Key) {
		return d.DynamoDB.UpdateItem(ctx, in, o...)
	}
	item, err := d.changed(ctx, in.TableName, in.Key)
	if err != nil {
		return nil, err
	}
	return nil, &types.ConditionalCheckFailedException{Message: aws.String("injected race"), Item: item}
}

func (d racingDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	reasons := make([]types.CancellationReason, len(in.TransactItems))
	lost := false
	for i, it := range in.TransactItems {
		reasons[i].Code = aws.String("None")
		var table *string
		var key map[string]types.AttributeValue
		switch {
		case it.Update != nil:
			table, key = it.Update.TableName, it.Update.Key
		case it.ConditionCheck != nil:
			table, key = it.ConditionCheck.TableName, it.ConditionCheck.Key
		}
		if key == nil || !isIdentityKey(key) {
			continue
		}
		item, err := d.changed(ctx, table, key)
		if err != nil {
			return nil, err
		}
		reasons[i] = types.CancellationReason{Code: aws.String("ConditionalCheckFailed"), Item: item}
		lost = true
	}
	if !lost {
		return d.DynamoDB.TransactWriteItems(ctx, in, o...)
	}
	return nil, &types.TransactionCanceledException{Message: aws.String("injected race"), CancellationReasons: reasons}
}
