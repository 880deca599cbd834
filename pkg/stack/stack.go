// Package stack reads template.yaml, the AWS SAM template that defines the
// deployed stack, so that the local stack and the tests derive what they need
// (the DynamoDB table above all) from the same definition as AWS does.
package stack

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/awslabs/goformation/v7/cloudformation"
	cfndynamodb "github.com/awslabs/goformation/v7/cloudformation/dynamodb"
	"github.com/awslabs/goformation/v7/intrinsics"
	"github.com/uauth/uauth"
)

// TableLogicalID is the logical ID of the DynamoDB table in template.yaml.
const TableLogicalID = "Table"

// Parse parses the embedded template.yaml.
//
// Intrinsic functions resolve to stand-ins rather than goformation's default
// of nothing, so that wiring can be checked and typed fields that hold
// intrinsics (an EventBridge target's Arn) still decode:
//
//   - Ref to a parameter: its Default; to a resource: its logical ID;
//     to a pseudo parameter: a fixed example (us-east-1, 123456789012, aws);
//   - Fn::GetAtt: "LogicalID.Attribute", e.g. "Table.Arn";
//   - Fn::Sub: the string with those substituted;
//   - Fn::Split and Fn::Select: as CloudFormation evaluates them;
//   - Fn::If: nil, as conditions are not evaluated.
//
// goformation v7.14.9 lags SAM in three places, which Parse bridges: it calls
// HttpApi's AccessLogSettings "AccessLogSetting"; its SQS event lacks
// FunctionResponseTypes and the like, which Parse drops so that the rest of
// the event still decodes; and its Function lacks LoggingConfig, which Parse
// drops so that the function decodes at all. Read those from the template
// itself (see resolved).
//
// Each call parses afresh and returns a template of the caller's own.
func Parse() (*cloudformation.Template, error) {
	doc, err := resolved()
	if err != nil {
		return nil, err
	}
	adaptForGoformation(doc)
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	var t cloudformation.Template
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("template.yaml: %w", err)
	}
	return &t, nil
}

// TableInput returns the CreateTable request for the template's table, named
// tableName: its attributes, key schema, billing mode and indexes. Settings
// DynamoDB Local does not model (PITR, SSE) are left out; the TTL is applied
// separately, with TTLAttribute.
func TableInput(tableName string) (*dynamodb.CreateTableInput, error) {
	table, err := templateTable()
	if err != nil {
		return nil, err
	}
	return tableInput(table, tableName)
}

// tableInput translates a table definition. Indexes, streams and
// provisioned throughput are translated too, though the template has none
// yet, so that adding one to template.yaml is all a local table needs.
func tableInput(table *cfndynamodb.Table, tableName string) (*dynamodb.CreateTableInput, error) {
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(tableName),
		BillingMode: types.BillingModeProvisioned, // CloudFormation's default
	}
	if table.BillingMode != nil {
		in.BillingMode = types.BillingMode(*table.BillingMode)
	}
	var errs []error
	if !slices.Contains(in.BillingMode.Values(), in.BillingMode) {
		errs = append(errs, fmt.Errorf("BillingMode %q", in.BillingMode))
	}
	for _, d := range table.AttributeDefinitions {
		at := types.ScalarAttributeType(d.AttributeType)
		if !slices.Contains(at.Values(), at) {
			errs = append(errs, fmt.Errorf("attribute %s: AttributeType %q", d.AttributeName, at))
		}
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(d.AttributeName),
			AttributeType: at,
		})
	}
	ks, err := keySchema(table.KeySchema)
	if err != nil {
		errs = append(errs, err)
	}
	in.KeySchema = ks
	if table.ProvisionedThroughput != nil {
		in.ProvisionedThroughput = throughput(table.ProvisionedThroughput)
	}
	for _, g := range table.GlobalSecondaryIndexes {
		ks, err := keySchema(g.KeySchema)
		if err != nil {
			errs = append(errs, fmt.Errorf("index %s: %w", g.IndexName, err))
		}
		gsi := types.GlobalSecondaryIndex{
			IndexName:  aws.String(g.IndexName),
			KeySchema:  ks,
			Projection: projection(g.Projection),
		}
		if g.ProvisionedThroughput != nil {
			gsi.ProvisionedThroughput = throughput(g.ProvisionedThroughput)
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, gsi)
	}
	for _, l := range table.LocalSecondaryIndexes {
		ks, err := keySchema(l.KeySchema)
		if err != nil {
			errs = append(errs, fmt.Errorf("index %s: %w", l.IndexName, err))
		}
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, types.LocalSecondaryIndex{
			IndexName:  aws.String(l.IndexName),
			KeySchema:  ks,
			Projection: projection(l.Projection),
		})
	}
	if table.StreamSpecification != nil {
		in.StreamSpecification = &types.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: types.StreamViewType(table.StreamSpecification.StreamViewType),
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("template.yaml: %s: %w", TableLogicalID, err)
	}
	return in, nil
}

// TTLAttribute returns the name of the table's time-to-live attribute, for
// UpdateTimeToLive on a local table. It fails if the template sets no TTL or
// disables it.
func TTLAttribute() (string, error) {
	table, err := templateTable()
	if err != nil {
		return "", err
	}
	ttl := table.TimeToLiveSpecification
	if ttl == nil || !ttl.Enabled || ttl.AttributeName == nil || *ttl.AttributeName == "" {
		return "", fmt.Errorf("template.yaml: %s has no enabled TimeToLiveSpecification", TableLogicalID)
	}
	return *ttl.AttributeName, nil
}

// templateTable is the template's table, parsed once: the template is
// embedded, so it cannot change at run time, and the tests build a table from
// it for every test. The table is shared: read it, never change it, and copy
// what the callers get.
var templateTable = sync.OnceValues(func() (*cfndynamodb.Table, error) {
	t, err := Parse()
	if err != nil {
		return nil, err
	}
	table, err := t.GetDynamoDBTableWithName(TableLogicalID)
	if err != nil {
		return nil, fmt.Errorf("template.yaml: %w", err)
	}
	return table, nil
})

func keySchema(in []cfndynamodb.Table_KeySchema) ([]types.KeySchemaElement, error) {
	var out []types.KeySchemaElement
	var errs []error
	for _, k := range in {
		kt := types.KeyType(k.KeyType)
		if !slices.Contains(kt.Values(), kt) {
			errs = append(errs, fmt.Errorf("key %s: KeyType %q", k.AttributeName, kt))
		}
		out = append(out, types.KeySchemaElement{AttributeName: aws.String(k.AttributeName), KeyType: kt})
	}
	return out, errors.Join(errs...)
}

func projection(p *cfndynamodb.Table_Projection) *types.Projection {
	if p == nil {
		return &types.Projection{ProjectionType: types.ProjectionTypeAll}
	}
	out := &types.Projection{NonKeyAttributes: slices.Clone(p.NonKeyAttributes), ProjectionType: types.ProjectionTypeAll}
	if p.ProjectionType != nil {
		out.ProjectionType = types.ProjectionType(*p.ProjectionType)
	}
	return out
}

func throughput(p *cfndynamodb.Table_ProvisionedThroughput) *types.ProvisionedThroughput {
	return &types.ProvisionedThroughput{
		ReadCapacityUnits:  aws.Int64(int64(p.ReadCapacityUnits)),
		WriteCapacityUnits: aws.Int64(int64(p.WriteCapacityUnits)),
	}
}

// resolved returns template.yaml as generic JSON, intrinsics resolved as Parse
// documents but nothing dropped or renamed: the view to check properties
// goformation does not type.
func resolved() (map[string]any, error) { return resolvedWith(nil) }

// resolvedWith is resolved with parameter values in place of the defaults
// and, when there are any, conditions evaluated, so that Fn::If resolves.
// (Parse does not evaluate conditions: goformation would then replace a
// resource carrying a Condition attribute with the condition's value.)
func resolvedWith(params map[string]any) (map[string]any, error) {
	return resolvedWithRefs(params, nil)
}

// resolvedWithRefs is resolvedWith with Ref to the resources named in refs
// resolving to the values given, as physical IDs would, in place of their
// logical IDs.
func resolvedWithRefs(params, refs map[string]any) (map[string]any, error) {
	b, err := intrinsics.ProcessYAML(uauth.Template, &intrinsics.ProcessorOptions{
		IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{
			"Ref": func(_ string, in, tmpl any) any {
				if name, ok := in.(string); ok {
					if v, ok := refs[name]; ok {
						return v
					}
				}
				return ref(in, tmpl)
			},
			"Fn::GetAtt": func(_ string, in, _ any) any { return getAtt(in) },
			"Fn::Sub":    func(_ string, in, tmpl any) any { return sub(in, tmpl) },
			"Fn::Split":  func(_ string, in, _ any) any { return split(in) },
		},
		ParameterOverrides: params,
		EvaluateConditions: len(params) > 0,
	})
	if err != nil {
		return nil, fmt.Errorf("template.yaml: %w", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("template.yaml: %w", err)
	}
	return doc, nil
}

// split is Fn::Split as a list Fn::Select can read: goformation's returns a
// []string, which its Fn::Select does not take for a list.
func split(in any) any {
	args, ok := in.([]any)
	if !ok || len(args) != 2 {
		return nil
	}
	delim, ok1 := args[0].(string)
	s, ok2 := args[1].(string)
	if !ok1 || !ok2 {
		return nil
	}
	var out []any
	for _, part := range strings.Split(s, delim) {
		out = append(out, part)
	}
	return out
}

func ref(in, tmpl any) any {
	name, ok := in.(string)
	if !ok {
		return nil
	}
	switch name {
	// goformation resolves the other pseudo parameters, not these.
	case "AWS::Partition":
		return "aws"
	case "AWS::URLSuffix":
		return "amazonaws.com"
	}
	if v := intrinsics.Ref("Ref", name, tmpl); v != nil || strings.HasPrefix(name, "AWS::") {
		return v // a pseudo parameter or a parameter's default
	}
	if resources, ok := section(tmpl, "Resources"); ok {
		if _, ok := resources[name]; ok {
			return name
		}
	}
	return nil
}

func getAtt(in any) any {
	switch v := in.(type) {
	case string: // !GetAtt Table.Arn
		return v
	case []any: // Fn::GetAtt: [Table, Arn]
		parts := make([]string, len(v))
		for i, p := range v {
			s, ok := p.(string)
			if !ok {
				return nil
			}
			parts[i] = s
		}
		return strings.Join(parts, ".")
	}
	return nil
}

var subVariable = regexp.MustCompile(`\$\{([^}]*)\}`)

func sub(in, tmpl any) any {
	var s string
	var vars map[string]any
	switch v := in.(type) {
	case string:
		s = v
	case []any: // [string, {name: value}]
		if len(v) != 2 {
			return nil
		}
		s, _ = v[0].(string)
		vars, _ = v[1].(map[string]any)
	default:
		return nil
	}
	return subVariable.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		if strings.HasPrefix(name, "!") { // ${!Literal} stands for ${Literal}
			return "${" + name[1:] + "}"
		}
		var v any
		if val, ok := vars[name]; ok {
			v = val
		} else if strings.Contains(name, ".") {
			v = getAtt(name)
		} else {
			v = ref(name, tmpl)
		}
		if v == nil {
			return ""
		}
		return fmt.Sprint(v)
	})
}

func section(doc any, name string) (map[string]any, bool) {
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, false
	}
	s, ok := m[name].(map[string]any)
	return s, ok
}

// samOnlySQSEventProperties are SAM SQS event properties goformation's
// Function_SQSEvent lacks; with any of them present it decodes no SQS event.
var samOnlySQSEventProperties = []string{
	"FilterCriteria", "FunctionResponseTypes", "KmsKeyArn",
	"MaximumBatchingWindowInSeconds", "MetricsConfig", "ScalingConfig",
}

// samOnlyFunctionProperties are SAM function properties goformation's
// Function lacks; it refuses a function with any of them.
var samOnlyFunctionProperties = []string{"LoggingConfig"}

// adaptForGoformation renames and drops, in place, the SAM properties
// goformation v7.14.9 does not know (see Parse).
func adaptForGoformation(doc map[string]any) {
	resources, _ := section(doc, "Resources")
	for _, r := range resources {
		res, _ := r.(map[string]any)
		props, _ := res["Properties"].(map[string]any)
		if props == nil {
			continue
		}
		switch res["Type"] {
		case "AWS::Serverless::HttpApi":
			if v, ok := props["AccessLogSettings"]; ok {
				props["AccessLogSetting"] = v
				delete(props, "AccessLogSettings")
			}
		case "AWS::Serverless::Function":
			for _, p := range samOnlyFunctionProperties {
				delete(props, p)
			}
			events, _ := props["Events"].(map[string]any)
			for _, e := range events {
				ev, _ := e.(map[string]any)
				evProps, _ := ev["Properties"].(map[string]any)
				if ev["Type"] != "SQS" || evProps == nil {
					continue
				}
				for _, p := range samOnlySQSEventProperties {
					delete(evProps, p)
				}
			}
		}
	}
}
