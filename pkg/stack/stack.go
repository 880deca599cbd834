// Package stack reads template.yaml, the AWS SAM template that defines the
// deployed stack, so that the local stack and the tests take what they need
// from the same definition AWS does: the DynamoDB table, and the DynamoDB
// actions each function is granted (which a test holds equal to the calls
// the function makes).
package stack

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"gopkg.in/yaml.v3"

	"github.com/uauth/uauth"
)

// TableLogicalID is the logical ID of the DynamoDB table in template.yaml.
const TableLogicalID = "Table"

// Template is a parsed template: plain maps, lists and scalars, with the
// short form of an intrinsic function (!Ref X, !GetAtt T.Arn) read as its
// long form ({"Ref": "X"}, {"Fn::GetAtt": ["T", "Arn"]}). Nothing is
// evaluated.
type Template map[string]any

// Parse parses a template.
func Parse(b []byte) (Template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	v, err := plain(&doc)
	if err != nil {
		return nil, err
	}
	t, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("template is not a mapping")
	}
	return t, nil
}

// embedded is template.yaml, parsed once: it is embedded, so it cannot
// change at run time. Callers must not modify it.
var embedded = sync.OnceValues(func() (Template, error) {
	t, err := Parse(uauth.Template)
	if err != nil {
		return nil, fmt.Errorf("template.yaml: %w", err)
	}
	return t, nil
})

// Embedded returns template.yaml, parsed.
func Embedded() (Template, error) { return embedded() }

func plain(n *yaml.Node) (any, error) {
	var v any
	switch n.Kind {
	case yaml.DocumentNode:
		return plain(n.Content[0])
	case yaml.AliasNode:
		return plain(n.Alias)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			val, err := plain(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = val
		}
		v = m
	case yaml.SequenceNode:
		l := make([]any, len(n.Content))
		for i, c := range n.Content {
			val, err := plain(c)
			if err != nil {
				return nil, err
			}
			l[i] = val
		}
		v = l
	case yaml.ScalarNode:
		if strings.HasPrefix(n.Tag, "!!") {
			if err := n.Decode(&v); err != nil {
				return nil, err
			}
		} else {
			v = n.Value
		}
	}
	tag, short := strings.CutPrefix(n.Tag, "!")
	if !short || strings.HasPrefix(tag, "!") {
		return v, nil
	}
	switch tag {
	case "Ref", "Condition":
		return map[string]any{tag: v}, nil
	case "GetAtt":
		if s, ok := v.(string); ok {
			res, attr, _ := strings.Cut(s, ".")
			v = []any{res, attr}
		}
	}
	return map[string]any{"Fn::" + tag: v}, nil
}

// Resource returns a resource's Properties.
func (t Template) Resource(logicalID string) (map[string]any, error) {
	res, _ := t["Resources"].(map[string]any)
	r, ok := res[logicalID].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("no resource %s", logicalID)
	}
	props, _ := r["Properties"].(map[string]any)
	return props, nil
}

// cfnTable is the part of AWS::DynamoDB::Table the local stack builds.
type cfnTable struct {
	BillingMode            string
	AttributeDefinitions   []struct{ AttributeName, AttributeType string }
	KeySchema              []cfnKey
	GlobalSecondaryIndexes []struct {
		IndexName  string
		KeySchema  []cfnKey
		Projection struct {
			ProjectionType   string
			NonKeyAttributes []string
		}
	}
	StreamSpecification     *struct{ StreamViewType string }
	TimeToLiveSpecification *struct {
		AttributeName string
		Enabled       bool
	}
}

type cfnKey struct{ AttributeName, KeyType string }

func (t Template) table() (*cfnTable, error) {
	props, err := t.Resource(TableLogicalID)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(props)
	if err != nil {
		return nil, err
	}
	var table cfnTable
	if err := json.Unmarshal(b, &table); err != nil {
		return nil, fmt.Errorf("%s: %w", TableLogicalID, err)
	}
	return &table, nil
}

// TableInput returns the CreateTable request for the template's table,
// named tableName: attributes, keys, indexes and stream. The table must be
// on demand, as a local table always is. Settings DynamoDB Local does not
// model (PITR, SSE) are left out; the TTL is applied separately, with
// TTLAttribute.
func (t Template) TableInput(tableName string) (*dynamodb.CreateTableInput, error) {
	table, err := t.table()
	if err != nil {
		return nil, err
	}
	if table.BillingMode != string(types.BillingModePayPerRequest) {
		return nil, fmt.Errorf("%s: BillingMode %q, want PAY_PER_REQUEST", TableLogicalID, table.BillingMode)
	}
	in := &dynamodb.CreateTableInput{TableName: aws.String(tableName), BillingMode: types.BillingModePayPerRequest, KeySchema: keys(table.KeySchema)}
	for _, d := range table.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(d.AttributeName), AttributeType: types.ScalarAttributeType(d.AttributeType)})
	}
	for _, g := range table.GlobalSecondaryIndexes {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName: aws.String(g.IndexName), KeySchema: keys(g.KeySchema),
			Projection: &types.Projection{ProjectionType: types.ProjectionType(g.Projection.ProjectionType), NonKeyAttributes: g.Projection.NonKeyAttributes},
		})
	}
	if s := table.StreamSpecification; s != nil {
		in.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewType(s.StreamViewType)}
	}
	return in, nil
}

func keys(in []cfnKey) []types.KeySchemaElement {
	out := make([]types.KeySchemaElement, len(in))
	for i, k := range in {
		out[i] = types.KeySchemaElement{AttributeName: aws.String(k.AttributeName), KeyType: types.KeyType(k.KeyType)}
	}
	return out
}

// TTLAttribute returns the name of the table's time-to-live attribute. It
// fails if the template sets no TTL or disables it.
func (t Template) TTLAttribute() (string, error) {
	table, err := t.table()
	if err != nil {
		return "", err
	}
	if ttl := table.TimeToLiveSpecification; ttl != nil && ttl.Enabled && ttl.AttributeName != "" {
		return ttl.AttributeName, nil
	}
	return "", fmt.Errorf("%s has no enabled TimeToLiveSpecification", TableLogicalID)
}

// TableActions returns the DynamoDB actions that a function's policies
// allow on the table (its ARN, or anything under it such as an index),
// sorted, without the "dynamodb:" prefix.
func (t Template) TableActions(function string) ([]string, error) {
	props, err := t.Resource(function)
	if err != nil {
		return nil, err
	}
	var actions []string
	policies, _ := props["Policies"].([]any)
	for _, p := range policies {
		doc, _ := p.(map[string]any)
		stmts, _ := doc["Statement"].([]any)
		for _, s := range stmts {
			stmt, _ := s.(map[string]any)
			if stmt["Effect"] != "Allow" || !mentions(stmt["Resource"], TableLogicalID) {
				continue
			}
			for _, a := range strs(stmt["Action"]) {
				if name, ok := strings.CutPrefix(a, "dynamodb:"); ok {
					actions = append(actions, name)
				}
			}
		}
	}
	slices.Sort(actions)
	return slices.Compact(actions), nil
}

// mentions reports whether an unevaluated value refers to a resource.
func mentions(v any, logicalID string) bool {
	b, _ := json.Marshal(v)
	s := string(b)
	return strings.Contains(s, `"`+logicalID+`"`) || strings.Contains(s, "${"+logicalID+".")
}

func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// TableInput is Embedded().TableInput.
func TableInput(tableName string) (*dynamodb.CreateTableInput, error) {
	t, err := Embedded()
	if err != nil {
		return nil, err
	}
	return t.TableInput(tableName)
}

// TTLAttribute is Embedded().TTLAttribute.
func TTLAttribute() (string, error) {
	t, err := Embedded()
	if err != nil {
		return "", err
	}
	return t.TTLAttribute()
}
