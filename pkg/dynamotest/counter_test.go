package dynamotest_test

import (
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/uauth/uauth/pkg/dynamotest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// The counter reads DynamoDB Local's consumed capacity as request units:
// a small item costs 1 WCU to write, 1 RCU to read strongly consistently,
// and twice that per started kilobyte inside a transaction, as AWS bills
// it.
func TestCounterReportsConsumedCapacity(t *testing.T) {
	var c dynamotest.Counter
	c.Capacity, c.Capture = true, true
	db, table := dynamotest.Client(t, c.Option), dynamotest.NewTable(t)
	key := map[string]types.AttributeValue{"pk": s("A"), "sk": s("A")}
	steps := []struct {
		name     string
		call     func() error
		rcu, wcu float64
	}{
		{"PutItem", func() error {
			_, err := db.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: &table, Item: key})
			return err
		}, 0, 1},
		{"GetItem consistent", func() error {
			_, err := db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: &table, Key: key, ConsistentRead: aws.Bool(true)})
			return err
		}, 1, 0},
		{"TransactWriteItems of 2", func() error {
			_, err := db.TransactWriteItems(t.Context(), &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
				{Put: &types.Put{TableName: &table, Item: map[string]types.AttributeValue{"pk": s("B"), "sk": s("B")}}},
				{Put: &types.Put{TableName: &table, Item: map[string]types.AttributeValue{"pk": s("C"), "sk": s("C")}}},
			}})
			return err
		}, 0, 4},
		{"TransactWriteItems of 3 (DynamoDB Local says 2)", func() error {
			_, err := db.TransactWriteItems(t.Context(), &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
				{Put: &types.Put{TableName: &table, Item: map[string]types.AttributeValue{"pk": s("D"), "sk": s("D")}}},
				{Put: &types.Put{TableName: &table, Item: map[string]types.AttributeValue{"pk": s("E"), "sk": s("E"), "pad": s(strings.Repeat("x", 1500))}}},
				{Update: &types.Update{TableName: &table, Key: key, UpdateExpression: aws.String("SET n = :one"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}}}},
			}})
			return err
		}, 0, 2 + 4 + 2}, // the 1.5 KB item is two kilobytes
	}
	for _, st := range steps {
		c.Reset()
		if err := st.call(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if r, w := c.Consumed(); r != st.rcu || w != st.wcu {
			t.Errorf("%s consumed %v RCU, %v WCU; want %v, %v", st.name, r, w, st.rcu, st.wcu)
		}
		if n := len(c.Requests()); n != 1 {
			t.Errorf("%s: %d requests captured", st.name, n)
		}
	}
}
