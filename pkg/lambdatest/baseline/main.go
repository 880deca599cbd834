// Command baseline is what BenchmarkColdStart measures uauth's API
// against: the minimal idiomatic aws-lambda-go function making the one
// DynamoDB call the API makes for a GET of a configuration, a consistent
// GetItem of the identity's item (pkg/dynamostore/keys.go), with the SDK
// configured the usual way at init.
//
// It is not under testdata on purpose: go mod tidy and go vet skip
// testdata, so a baseline there could lose a requirement it alone needs
// (aws-sdk-go-v2/config, say) to a tidy, and break only when the benchmark
// runs. Here the module keeps what it imports, and vet checks it.
package main

import (
	"context"
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

var (
	db    *dynamodb.Client
	table = os.Getenv("TABLE_NAME")
)

type request struct {
	IdentityID string `json:"identityId"`
}

type response struct {
	Found bool `json:"found"`
}

func handle(ctx context.Context, req request) (response, error) {
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "IDENTITY#" + req.IdentityID},
			"sk": &types.AttributeValueMemberS{Value: "IDENTITY"},
		},
	})
	if err != nil {
		return response{}, err
	}
	return response{Found: out.Item != nil}, nil
}

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	db = dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if endpoint := os.Getenv("DYNAMODB_ENDPOINT"); endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
	lambda.Start(handle)
}
