package stack

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	cfndynamodb "github.com/awslabs/goformation/v7/cloudformation/dynamodb"
)

// The template has no index, stream or provisioned throughput today; this
// pins their translation for the day it does.
func TestTableInputTranslatesIndexesAndStreams(t *testing.T) {
	keys := []cfndynamodb.Table_KeySchema{{AttributeName: "pk", KeyType: "HASH"}, {AttributeName: "gsi1", KeyType: "RANGE"}}
	in, err := tableInput(&cfndynamodb.Table{
		BillingMode:           aws.String("PROVISIONED"),
		ProvisionedThroughput: &cfndynamodb.Table_ProvisionedThroughput{ReadCapacityUnits: 5, WriteCapacityUnits: 7},
		AttributeDefinitions: []cfndynamodb.Table_AttributeDefinition{
			{AttributeName: "pk", AttributeType: "S"}, {AttributeName: "gsi1", AttributeType: "N"},
		},
		KeySchema: keys[:1],
		GlobalSecondaryIndexes: []cfndynamodb.Table_GlobalSecondaryIndex{{
			IndexName: "byGsi1", KeySchema: keys,
			Projection:            &cfndynamodb.Table_Projection{ProjectionType: aws.String("INCLUDE"), NonKeyAttributes: []string{"a"}},
			ProvisionedThroughput: &cfndynamodb.Table_ProvisionedThroughput{ReadCapacityUnits: 1, WriteCapacityUnits: 2},
		}},
		LocalSecondaryIndexes: []cfndynamodb.Table_LocalSecondaryIndex{{IndexName: "byLsi", KeySchema: keys}},
		StreamSpecification:   &cfndynamodb.Table_StreamSpecification{StreamViewType: "NEW_AND_OLD_IMAGES"},
	}, "t")
	if err != nil {
		t.Fatal(err)
	}
	if in.BillingMode != types.BillingModeProvisioned || *in.ProvisionedThroughput.WriteCapacityUnits != 7 ||
		in.AttributeDefinitions[1].AttributeType != types.ScalarAttributeTypeN {
		t.Errorf("table: %+v", in)
	}
	g := in.GlobalSecondaryIndexes[0]
	if *g.IndexName != "byGsi1" || g.KeySchema[1].KeyType != types.KeyTypeRange || g.Projection.ProjectionType != types.ProjectionTypeInclude ||
		g.Projection.NonKeyAttributes[0] != "a" || *g.ProvisionedThroughput.ReadCapacityUnits != 1 {
		t.Errorf("GSI: %+v", g)
	}
	if l := in.LocalSecondaryIndexes[0]; *l.IndexName != "byLsi" || l.Projection.ProjectionType != types.ProjectionTypeAll {
		t.Errorf("LSI: %+v", l)
	}
	if in.StreamSpecification.StreamViewType != types.StreamViewTypeNewAndOldImages || !*in.StreamSpecification.StreamEnabled {
		t.Errorf("stream: %+v", in.StreamSpecification)
	}

	if _, err := tableInput(&cfndynamodb.Table{KeySchema: []cfndynamodb.Table_KeySchema{{AttributeName: "pk", KeyType: "SIDEWAYS"}}}, "t"); err == nil {
		t.Error("an unknown key type was accepted")
	}
}
