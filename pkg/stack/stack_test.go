package stack

import (
	"reflect"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/uauth/uauth/pkg/dynamostore"
)

func TestTemplateTableIsTheStoreLayout(t *testing.T) {
	in, err := TableInput("t")
	if err != nil {
		t.Fatal(err)
	}
	wantKeys := []types.KeySchemaElement{
		{AttributeName: aws.String(dynamostore.AttrPK), KeyType: types.KeyTypeHash},
		{AttributeName: aws.String(dynamostore.AttrSK), KeyType: types.KeyTypeRange},
	}
	if !reflect.DeepEqual(in.KeySchema, wantKeys) {
		t.Errorf("key schema = %v, want pk HASH, sk RANGE", in.KeySchema)
	}
	for _, d := range in.AttributeDefinitions {
		if d.AttributeType != types.ScalarAttributeTypeS {
			t.Errorf("%s is %s, want S: every key is a string", aws.ToString(d.AttributeName), d.AttributeType)
		}
	}
	if attr, err := TTLAttribute(); err != nil || attr != dynamostore.AttrExpiresAt {
		t.Errorf("TTL attribute = %q, %v; want %q", attr, err, dynamostore.AttrExpiresAt)
	}
}

const sample = `
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: pk, AttributeType: S}
        - {AttributeName: g, AttributeType: N}
      KeySchema:
        - {AttributeName: pk, KeyType: HASH}
      GlobalSecondaryIndexes:
        - IndexName: byG
          KeySchema: [{AttributeName: g, KeyType: HASH}]
          Projection: {ProjectionType: INCLUDE, NonKeyAttributes: [a]}
      StreamSpecification:
        StreamViewType: NEW_AND_OLD_IMAGES
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          TABLE: !Ref Table
          URL: !Sub https://${Api}.example
      Policies:
        - Statement:
            - Effect: Allow
              Action: [dynamodb:GetItem, "dynamodb:PutItem"]
              Resource: !GetAtt Table.Arn
            - Effect: Allow
              Action: dynamodb:Query
              Resource: !Sub ${Table.Arn}/index/*
            - Effect: Allow
              Action: dynamodb:Scan
              Resource: !GetAtt Other.Arn
            - Effect: Deny
              Action: dynamodb:DeleteItem
              Resource: !GetAtt Table.Arn
`

func TestParseReadsShortFormIntrinsics(t *testing.T) {
	tmpl, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	props, err := tmpl.Resource("Fn")
	if err != nil {
		t.Fatal(err)
	}
	env := props["Environment"].(map[string]any)["Variables"].(map[string]any)
	if !reflect.DeepEqual(env["TABLE"], map[string]any{"Ref": "Table"}) || !reflect.DeepEqual(env["URL"], map[string]any{"Fn::Sub": "https://${Api}.example"}) {
		t.Fatalf("environment = %v", env)
	}
}

func TestTableInputTranslatesIndexesAndStreams(t *testing.T) {
	tmpl, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	in, err := tmpl.TableInput("t")
	if err != nil {
		t.Fatal(err)
	}
	g := in.GlobalSecondaryIndexes
	if len(g) != 1 || aws.ToString(g[0].IndexName) != "byG" || g[0].Projection.ProjectionType != types.ProjectionTypeInclude ||
		!slices.Equal(g[0].Projection.NonKeyAttributes, []string{"a"}) || aws.ToString(g[0].KeySchema[0].AttributeName) != "g" {
		t.Errorf("indexes = %+v", g)
	}
	if s := in.StreamSpecification; s == nil || !aws.ToBool(s.StreamEnabled) || s.StreamViewType != types.StreamViewTypeNewAndOldImages {
		t.Errorf("stream = %+v", s)
	}
	if _, err := tmpl.TTLAttribute(); err == nil {
		t.Error("a table without TTL has a TTL attribute")
	}
}

func TestTableActions(t *testing.T) {
	tmpl, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	got, err := tmpl.TableActions("Fn")
	if err != nil || !slices.Equal(got, []string{"GetItem", "PutItem", "Query"}) {
		t.Fatalf("TableActions = %v, %v; want the allowed actions on the table and its indexes only", got, err)
	}
}

// The API's org-defaults resource reports the deployment's defaults where
// an org has set none; the provisioner applies them. Both must read the
// same ones.
func TestAPIAndProvisionerShareTheDeploymentDefaults(t *testing.T) {
	tmpl, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	env := func(fn string) map[string]any {
		props, err := tmpl.Resource(fn)
		if err != nil {
			t.Fatal(err)
		}
		return props["Environment"].(map[string]any)["Variables"].(map[string]any)
	}
	api, prov := env("ApiFunction"), env("ProvisionerFunction")
	for _, name := range []string{"AUTO_ATTACH", "DEFAULT_UA_CONFIG"} {
		if api[name] == nil || !reflect.DeepEqual(api[name], prov[name]) {
			t.Errorf("%s: API %v, provisioner %v", name, api[name], prov[name])
		}
	}
}
