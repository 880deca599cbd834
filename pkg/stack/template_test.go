package stack

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/cloudwatch"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"
	"github.com/uauth/uauth/pkg/dynamostore"
	"github.com/uauth/uauth/pkg/envconfig"
	"github.com/uauth/uauth/pkg/provisioner"
)

// Logical IDs and values the template is checked against. Under Parse,
// !Ref Resource reads as "Resource" and !GetAtt Resource.Attr as
// "Resource.Attr", so wiring is checked by comparing with these.
const (
	apiFunction         = "ApiFunction"
	provisionerFunction = "ProvisionerFunction"
	httpAPI             = "HttpApi"
	accessLogGroup      = "ApiAccessLogs"
	authSecret          = "AuthSecret"
	identityQueue       = "IdentityQueue"
	identityDLQ         = "IdentityDLQ"
	identityQueuePolicy = "IdentityQueuePolicy"
	identityEventsRule  = "IdentityEventsRule"

	// configPath is the route pattern of pkg/httpapi's configuration API.
	configPath = "/api/v1/auth/universal-auth/identities/{identityId}"
)

func parse(t *testing.T) *cloudformation.Template {
	t.Helper()
	tmpl, err := Parse()
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return tmpl
}

func function(t *testing.T, tmpl *cloudformation.Template, name string) *serverless.Function {
	t.Helper()
	fn, err := tmpl.GetServerlessFunctionWithName(name)
	if err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	return fn
}

// raw returns resource name's untyped, resolved definition, for what
// goformation does not type or Parse adapts.
func raw(t *testing.T, doc map[string]any, name string) map[string]any {
	t.Helper()
	resources, _ := section(doc, "Resources")
	r, ok := resources[name].(map[string]any)
	if !ok {
		t.Fatalf("template.yaml: no resource %s", name)
	}
	return r
}

// at walks nested maps by key; nil if a step is missing.
func at(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// strs reads a string or a list of strings, the two shapes IAM and event
// patterns allow.
func strs(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return append(out, fmt.Sprint(e))
			}
			out = append(out, s)
		}
		return out
	case []string:
		return v
	}
	return nil
}

func deref[T any](p *T) any {
	if p == nil {
		return "<unset>"
	}
	return *p
}

func TestFunctionsAreBootstrapBinariesOnAL2023Arm64(t *testing.T) {
	tmpl := parse(t)
	fns := tmpl.GetAllServerlessFunctionResources()
	for _, want := range []string{apiFunction, provisionerFunction} {
		if fns[want] == nil {
			t.Errorf("template.yaml has no AWS::Serverless::Function %s", want)
		}
	}
	for name, fn := range fns {
		// goformation does not merge Globals, and the test wants the
		// function's own settings: they must be on the function.
		if fn.Runtime == nil || *fn.Runtime != "provided.al2023" {
			t.Errorf("%s: Runtime = %v, want provided.al2023 on the function itself", name, deref(fn.Runtime))
		}
		if !slices.Equal(fn.Architectures, []string{"arm64"}) {
			t.Errorf("%s: Architectures = %v, want [arm64]", name, fn.Architectures)
		}
		if fn.Handler == nil || *fn.Handler != "bootstrap" {
			t.Errorf("%s: Handler = %v, want bootstrap", name, deref(fn.Handler))
		}
		if got := fn.AWSCloudFormationMetadata["BuildMethod"]; got != "makefile" {
			t.Errorf("%s: Metadata.BuildMethod = %v, want makefile (sam build runs make build-%s)", name, got, name)
		}
		if fn.Timeout == nil || *fn.Timeout <= 0 {
			t.Errorf("%s: Timeout = %v, want it set on the function", name, deref(fn.Timeout))
		}
	}
}

// effectiveEnv is what SAM gives the function: Globals' variables, overridden
// by the function's own.
func effectiveEnv(t *testing.T, tmpl *cloudformation.Template, fn *serverless.Function) map[string]string {
	t.Helper()
	env := map[string]string{}
	if g, err := tmpl.GetServerlessGlobalFunction(); err == nil && g.Environment != nil {
		for k, v := range g.Environment.Variables {
			env[k] = v
		}
	}
	if fn.Environment != nil {
		for k, v := range fn.Environment.Variables {
			env[k] = v
		}
	}
	return env
}

// TestFunctionEnvironmentsLoad runs each function's environment, with the
// parameters' defaults, through the functions' own configuration loader.
func TestFunctionEnvironmentsLoad(t *testing.T) {
	tmpl := parse(t)
	cfgs := map[string]envconfig.Config{}
	for _, name := range []string{apiFunction, provisionerFunction} {
		env := effectiveEnv(t, tmpl, function(t, tmpl, name))
		cfg, err := envconfig.Load(func(k string) string { return env[k] })
		if err != nil {
			t.Errorf("%s: its environment %v does not load: %v", name, env, err)
			continue
		}
		if cfg.TableName != TableLogicalID {
			t.Errorf("%s: TABLE_NAME = %q, want !Ref %s", name, cfg.TableName, TableLogicalID)
		}
		cfgs[name] = cfg
	}
	if cfg, ok := cfgs[apiFunction]; ok {
		if cfg.AuthSecretARN != authSecret {
			t.Errorf("%s: AUTH_SECRET_ARN = %q, want !Ref %s", apiFunction, cfg.AuthSecretARN, authSecret)
		}
		if cfg.AuthSecret != "" {
			t.Errorf("%s: AUTH_SECRET is set in the template; the key belongs in Secrets Manager", apiFunction)
		}
	}
	if cfg, ok := cfgs[provisionerFunction]; ok {
		q, err := tmpl.GetSQSQueueWithName(identityQueue)
		if err != nil {
			t.Fatalf("template.yaml: %v", err)
		}
		if q.MessageRetentionPeriod == nil {
			t.Fatalf("%s: MessageRetentionPeriod unset", identityQueue)
		}
		retention := time.Duration(*q.MessageRetentionPeriod) * time.Second
		if cfg.TombstoneTTL <= retention {
			t.Errorf("%s: TOMBSTONE_TTL %v must outlive %s's retention %v, or a queued create can resurrect a deleted identity",
				provisionerFunction, cfg.TombstoneTTL, identityQueue, retention)
		}
	}
}

func TestHttpApiIsThrottledAndLogged(t *testing.T) {
	tmpl := parse(t)
	api, err := tmpl.GetServerlessHttpApiWithName(httpAPI)
	if err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	if rs := api.DefaultRouteSettings; rs == nil {
		t.Errorf("%s: no DefaultRouteSettings, so no throttling", httpAPI)
	} else {
		if rs.ThrottlingBurstLimit == nil || *rs.ThrottlingBurstLimit <= 0 {
			t.Errorf("%s: ThrottlingBurstLimit = %v, want > 0", httpAPI, deref(rs.ThrottlingBurstLimit))
		}
		if rs.ThrottlingRateLimit == nil || *rs.ThrottlingRateLimit <= 0 {
			t.Errorf("%s: ThrottlingRateLimit = %v, want > 0", httpAPI, deref(rs.ThrottlingRateLimit))
		}
	}

	// SAM's property is AccessLogSettings; goformation's AccessLogSetting
	// would fail sam deploy, so check the spelling in the template itself.
	doc, err := resolved()
	if err != nil {
		t.Fatal(err)
	}
	if at(raw(t, doc, httpAPI), "Properties", "AccessLogSettings") == nil {
		t.Errorf("%s: no AccessLogSettings property (SAM's spelling)", httpAPI)
	}
	als := api.AccessLogSetting
	if als == nil {
		t.Fatalf("%s: no access log settings", httpAPI)
	}
	if want := accessLogGroup + ".Arn"; als.DestinationArn == nil || *als.DestinationArn != want {
		t.Errorf("%s: access log DestinationArn = %v, want !GetAtt %s", httpAPI, deref(als.DestinationArn), want)
	}
	lg, err := tmpl.GetLogsLogGroupWithName(accessLogGroup)
	if err != nil {
		t.Errorf("template.yaml: %v", err)
	} else if lg.RetentionInDays == nil {
		t.Errorf("%s: no RetentionInDays; access logs would be kept forever", accessLogGroup)
	}
	if als.Format == nil {
		t.Fatalf("%s: access log Format unset", httpAPI)
	}
	var format map[string]string
	if err := json.Unmarshal([]byte(*als.Format), &format); err != nil {
		t.Fatalf("%s: access log Format is not a JSON object of strings: %v\n%s", httpAPI, err, *als.Format)
	}
	logged := map[string]bool{}
	for _, v := range format {
		logged[v] = true
	}
	for _, v := range []string{
		"$context.requestId", "$context.identity.sourceIp", "$context.requestTime",
		"$context.httpMethod", "$context.routeKey", "$context.status", "$context.protocol",
		"$context.responseLength", "$context.integrationErrorMessage",
	} {
		if !logged[v] {
			t.Errorf("%s: access log Format does not log %s", httpAPI, v)
		}
	}
}

func TestApiFunctionServesTheConfigurationRoutes(t *testing.T) {
	tmpl := parse(t)
	fn := function(t, tmpl, apiFunction)
	routes := map[string]bool{}
	for name, ev := range fn.Events {
		if ev.Type != "HttpApi" {
			continue
		}
		if ev.Properties == nil || ev.Properties.HttpApiEvent == nil {
			t.Errorf("%s: event %s of type HttpApi does not decode as one", apiFunction, name)
			continue
		}
		e := ev.Properties.HttpApiEvent
		if e.ApiId == nil || *e.ApiId != httpAPI {
			t.Errorf("%s: event %s: ApiId = %v, want !Ref %s (else SAM makes an implicit API without throttling or logs)",
				apiFunction, name, deref(e.ApiId), httpAPI)
			continue
		}
		if e.Method != nil && e.Path != nil {
			routes[strings.ToUpper(*e.Method)+" "+*e.Path] = true
		}
	}
	for _, m := range []string{"POST", "GET", "PATCH", "DELETE"} {
		if route := m + " " + configPath; !routes[route] {
			t.Errorf("%s: no HttpApi event for %s (have %v)", apiFunction, route, routes)
		}
	}
}

func TestTableMatchesTheStoreLayout(t *testing.T) {
	tmpl := parse(t)
	table, err := tmpl.GetDynamoDBTableWithName(TableLogicalID)
	if err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	if table.BillingMode == nil || *table.BillingMode != "PAY_PER_REQUEST" {
		t.Errorf("BillingMode = %v, want PAY_PER_REQUEST", deref(table.BillingMode))
	}
	if p := table.PointInTimeRecoverySpecification; p == nil || p.PointInTimeRecoveryEnabled == nil || !*p.PointInTimeRecoveryEnabled {
		t.Errorf("point-in-time recovery is not enabled")
	}
	if s := table.SSESpecification; s == nil || !s.SSEEnabled {
		t.Errorf("SSESpecification.SSEEnabled is not true")
	}
	if ttl := table.TimeToLiveSpecification; ttl == nil {
		t.Errorf("no TimeToLiveSpecification, want %q enabled", dynamostore.AttrExpiresAt)
	} else if !ttl.Enabled || ttl.AttributeName == nil || *ttl.AttributeName != dynamostore.AttrExpiresAt {
		t.Errorf("TimeToLiveSpecification: AttributeName %v, Enabled %t; want %q enabled", deref(ttl.AttributeName), ttl.Enabled, dynamostore.AttrExpiresAt)
	}
	var keys []string
	for _, k := range table.KeySchema {
		keys = append(keys, k.AttributeName+" "+k.KeyType)
	}
	if want := []string{dynamostore.AttrPK + " HASH", dynamostore.AttrSK + " RANGE"}; !slices.Equal(keys, want) {
		t.Errorf("KeySchema = %v, want %v (pkg/dynamostore/layout.go)", keys, want)
	}
	attrs := map[string]string{}
	for _, d := range table.AttributeDefinitions {
		attrs[d.AttributeName] = d.AttributeType
	}
	for _, k := range []string{dynamostore.AttrPK, dynamostore.AttrSK} {
		if attrs[k] != "S" {
			t.Errorf("attribute %s: AttributeType = %q, want S", k, attrs[k])
		}
	}
	if table.AWSCloudFormationDeletionPolicy != "Retain" || table.AWSCloudFormationUpdateReplacePolicy != "Retain" {
		t.Errorf("DeletionPolicy/UpdateReplacePolicy = %q/%q, want Retain/Retain so a stack change cannot drop the data",
			table.AWSCloudFormationDeletionPolicy, table.AWSCloudFormationUpdateReplacePolicy)
	}
}

func TestIdentityQueueOutlastsTheProvisionerAndRedrives(t *testing.T) {
	tmpl := parse(t)
	prov := function(t, tmpl, provisionerFunction)
	q, err := tmpl.GetSQSQueueWithName(identityQueue)
	if err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	if prov.Timeout == nil || q.VisibilityTimeout == nil {
		t.Fatalf("%s Timeout = %v, %s VisibilityTimeout = %v: both must be set", provisionerFunction, deref(prov.Timeout), identityQueue, deref(q.VisibilityTimeout))
	}
	if *q.VisibilityTimeout < 6**prov.Timeout {
		t.Errorf("%s: VisibilityTimeout %d s < 6 x %s's Timeout %d s", identityQueue, *q.VisibilityTimeout, provisionerFunction, *prov.Timeout)
	}
	if got := at(q.RedrivePolicy, "deadLetterTargetArn"); got != identityDLQ+".Arn" {
		t.Errorf("%s: RedrivePolicy.deadLetterTargetArn = %v, want !GetAtt %s.Arn", identityQueue, got, identityDLQ)
	}
	if n, _ := at(q.RedrivePolicy, "maxReceiveCount").(float64); n < 1 {
		t.Errorf("%s: RedrivePolicy.maxReceiveCount = %v, want >= 1", identityQueue, at(q.RedrivePolicy, "maxReceiveCount"))
	}
	dlq, err := tmpl.GetSQSQueueWithName(identityDLQ)
	if err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	// A standard queue's message keeps its first enqueue time in the DLQ, so a
	// shorter DLQ retention would drop it on arrival.
	if dlq.MessageRetentionPeriod == nil || q.MessageRetentionPeriod == nil || *dlq.MessageRetentionPeriod < *q.MessageRetentionPeriod {
		t.Errorf("%s retention %v < %s retention %v", identityDLQ, deref(dlq.MessageRetentionPeriod), identityQueue, deref(q.MessageRetentionPeriod))
	}
}

func TestProvisionerReportsBatchItemFailures(t *testing.T) {
	doc, err := resolved()
	if err != nil {
		t.Fatal(err)
	}
	events, _ := at(raw(t, doc, provisionerFunction), "Properties", "Events").(map[string]any)
	var sqsEvents []string
	for name, ev := range events {
		if at(ev, "Type") != "SQS" {
			continue
		}
		sqsEvents = append(sqsEvents, name)
		if q := at(ev, "Properties", "Queue"); q != identityQueue+".Arn" {
			t.Errorf("%s: event %s: Queue = %v, want !GetAtt %s.Arn", provisionerFunction, name, q, identityQueue)
		}
		if rt := strs(at(ev, "Properties", "FunctionResponseTypes")); !slices.Contains(rt, "ReportBatchItemFailures") {
			t.Errorf("%s: event %s: FunctionResponseTypes = %v, want ReportBatchItemFailures, or one bad record retries the whole batch",
				provisionerFunction, name, rt)
		}
	}
	if len(sqsEvents) != 1 {
		t.Errorf("%s: SQS events %v, want exactly one", provisionerFunction, sqsEvents)
	}

	// Parse drops FunctionResponseTypes so that the typed event still decodes.
	tmpl := parse(t)
	for _, name := range sqsEvents {
		ev := function(t, tmpl, provisionerFunction).Events[name]
		if ev.Properties == nil || ev.Properties.SQSEvent == nil {
			t.Errorf("%s: event %s does not decode as goformation's SQS event", provisionerFunction, name)
			continue
		}
		if b := ev.Properties.SQSEvent.BatchSize; b == nil || *b < 1 || *b > 10 {
			t.Errorf("%s: event %s: BatchSize = %v, want 1..10 (more needs a batching window)", provisionerFunction, name, deref(b))
		}
	}
}

func TestIdentityEventsReachTheQueue(t *testing.T) {
	tmpl := parse(t)
	rule, err := tmpl.GetEventsRuleWithName(identityEventsRule)
	if err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	// Values unlike the defaults, to tell !Ref Parameter from a copy of its default.
	const bus, source = "uauth-test-bus", "uauth.test"
	doc, err := resolvedWith(map[string]any{"EventBusName": bus, "EventSource": source})
	if err != nil {
		t.Fatal(err)
	}
	props := at(raw(t, doc, identityEventsRule), "Properties")
	if got := at(props, "EventBusName"); got != bus {
		t.Errorf("%s: EventBusName = %v with parameter EventBusName %q, want !Ref EventBusName", identityEventsRule, got, bus)
	}
	if got := strs(at(props, "EventPattern", "source")); !slices.Equal(got, []string{source}) {
		t.Errorf("%s: pattern source = %v with parameter EventSource %q, want [!Ref EventSource]", identityEventsRule, got, source)
	}
	if got, want := at(doc, "Outputs", "EventBusArn", "Value"), "arn:aws:events:us-east-1:123456789012:event-bus/"+bus; got != want {
		t.Errorf("output EventBusArn = %v with parameter EventBusName %q, want %s", got, bus, want)
	}
	detailTypes := strs(at(rule.EventPattern, "detail-type"))
	for _, dt := range []string{provisioner.IdentityCreated, provisioner.IdentityDeleted} {
		if !slices.Contains(detailTypes, dt) {
			t.Errorf("%s: pattern detail-type %v lacks %q", identityEventsRule, detailTypes, dt)
		}
	}
	var targets []string
	for _, tg := range rule.Targets {
		targets = append(targets, tg.Arn)
	}
	if !slices.Contains(targets, identityQueue+".Arn") {
		t.Errorf("%s: no target with Arn !GetAtt %s.Arn (target ARNs %v)", identityEventsRule, identityQueue, targets)
	}

	qp, err := tmpl.GetSQSQueuePolicyWithName(identityQueuePolicy)
	if err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	if !slices.Contains(qp.Queues, identityQueue) {
		t.Errorf("%s: Queues = %v, want !Ref %s", identityQueuePolicy, qp.Queues, identityQueue)
	}
	var allowed bool
	stmts, _ := at(qp.PolicyDocument, "Statement").([]any)
	for _, s := range stmts {
		allowed = allowed || at(s, "Effect") == "Allow" &&
			slices.Equal(strs(at(s, "Principal", "Service")), []string{"events.amazonaws.com"}) &&
			slices.Contains(strs(at(s, "Action")), "sqs:SendMessage") &&
			slices.Equal(strs(at(s, "Resource")), []string{identityQueue + ".Arn"}) &&
			at(s, "Condition", "ArnEquals", "aws:SourceArn") == identityEventsRule+".Arn"
	}
	if !allowed {
		t.Errorf("%s: no statement lets events.amazonaws.com sqs:SendMessage to %s on condition aws:SourceArn = %s's ARN:\n%v",
			identityQueuePolicy, identityQueue, identityEventsRule, qp.PolicyDocument)
	}
}

// firesOnOne says whether the alarm fires on a single message or error.
func firesOnOne(a *cloudwatch.Alarm) bool {
	if a.Threshold == nil {
		return false
	}
	switch th := *a.Threshold; a.ComparisonOperator {
	case "GreaterThanOrEqualToThreshold":
		return th > 0 && th <= 1
	case "GreaterThanThreshold":
		return th >= 0 && th < 1
	}
	return false
}

func hasDimension(a *cloudwatch.Alarm, name, value string) bool {
	return slices.ContainsFunc(a.Dimensions, func(d cloudwatch.Alarm_Dimension) bool { return d.Name == name && d.Value == value })
}

func TestAlarms(t *testing.T) {
	tmpl := parse(t)
	api, err := tmpl.GetServerlessHttpApiWithName(httpAPI)
	if err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	stage := "$default"
	if api.StageName != nil {
		stage = *api.StageName
	}
	var dlq, api5xx []string
	for name, a := range tmpl.GetAllCloudWatchAlarmResources() {
		ns, metric := fmt.Sprint(deref(a.Namespace)), fmt.Sprint(deref(a.MetricName))
		switch {
		case ns == "AWS/SQS" && metric == "ApproximateNumberOfMessagesVisible" && hasDimension(a, "QueueName", identityDLQ+".QueueName"):
			if !firesOnOne(a) {
				t.Errorf("%s: %s %v does not fire on one message in the DLQ", name, a.ComparisonOperator, deref(a.Threshold))
			}
			dlq = append(dlq, name)
		case ns == "AWS/ApiGateway" && metric == "5xx" && hasDimension(a, "ApiId", httpAPI):
			if !hasDimension(a, "Stage", stage) {
				t.Errorf("%s: no Stage dimension %q; HTTP API metrics are published per stage", name, stage)
			}
			if deref(a.Statistic) != "Sum" || a.Period == nil || *a.Period*a.EvaluationPeriods > 300 {
				t.Errorf("%s: Statistic %v, Period %v x %d: want the Sum over at most 5 minutes", name, deref(a.Statistic), deref(a.Period), a.EvaluationPeriods)
			}
			if !firesOnOne(a) {
				t.Errorf("%s: %s %v does not fire on a single 5xx", name, a.ComparisonOperator, deref(a.Threshold))
			}
			api5xx = append(api5xx, name)
		}
	}
	if len(dlq) == 0 {
		t.Errorf("no alarm on AWS/SQS ApproximateNumberOfMessagesVisible for QueueName !GetAtt %s.QueueName", identityDLQ)
	}
	if len(api5xx) == 0 {
		t.Errorf("no alarm on AWS/ApiGateway 5xx for ApiId !Ref %s", httpAPI)
	}

	// Alarms notify AlarmTopicArn when it is set, and nothing when it is not.
	const topic = "arn:aws:sns:us-east-1:123456789012:uauth-alarms"
	for _, tc := range []struct {
		params map[string]any
		want   []string
	}{
		{map[string]any{"AlarmTopicArn": ""}, nil},
		{map[string]any{"AlarmTopicArn": topic}, []string{topic}},
	} {
		doc, err := resolvedWith(tc.params)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range append(dlq, api5xx...) {
			if got := strs(at(raw(t, doc, name), "Properties", "AlarmActions")); !slices.Equal(got, tc.want) {
				t.Errorf("%s with AlarmTopicArn %q: AlarmActions = %q, want %q", name, tc.params["AlarmTopicArn"], got, tc.want)
			}
		}
	}
}

// policyProblems lists what makes a function's Policies less than least
// privilege for data: wildcard actions, wildcard resources on DynamoDB or
// Secrets Manager actions, Not* elements, or policies that are not inline
// statements (managed policies and SAM templates cannot be checked here).
// It also returns the statements, to check what they grant.
func policyProblems(policies any) (stmts []map[string]any, problems []string) {
	docs, ok := policies.([]any)
	if !ok {
		docs = []any{policies}
	}
	for _, d := range docs {
		list, ok := at(d, "Statement").([]any)
		if !ok {
			if s, isMap := at(d, "Statement").(map[string]any); isMap {
				list = []any{s}
			} else {
				problems = append(problems, fmt.Sprintf("policy %v is not an inline policy document", d))
				continue
			}
		}
		for _, s := range list {
			stmt, ok := s.(map[string]any)
			if !ok {
				problems = append(problems, fmt.Sprintf("statement %v is not an object", s))
				continue
			}
			stmts = append(stmts, stmt)
			if stmt["Effect"] != "Allow" {
				continue
			}
			for _, k := range []string{"NotAction", "NotResource"} {
				if _, ok := stmt[k]; ok {
					problems = append(problems, fmt.Sprintf("statement %v allows with %s", stmt, k))
				}
			}
			var data bool
			for _, a := range strs(stmt["Action"]) {
				svc, _, _ := strings.Cut(strings.ToLower(a), ":")
				if a == "*" || strings.Contains(a, "*") && (svc == "dynamodb" || svc == "secretsmanager") {
					problems = append(problems, fmt.Sprintf("statement allows wildcard action %q", a))
				}
				data = data || a == "*" || svc == "dynamodb" || svc == "secretsmanager"
			}
			for _, r := range strs(stmt["Resource"]) {
				if data && (r == "*" || strings.HasSuffix(r, ":*") || r == "") {
					problems = append(problems, fmt.Sprintf("statement allows %v on resource %q", stmt["Action"], r))
				}
			}
		}
	}
	return stmts, problems
}

func TestPolicyProblemsCatchesWildcards(t *testing.T) {
	stmt := func(action, resource any) any {
		return []any{map[string]any{"Statement": []any{map[string]any{"Effect": "Allow", "Action": action, "Resource": resource}}}}
	}
	bad := map[string]any{
		"dynamodb:*":             stmt("dynamodb:*", "Table.Arn"),
		"*":                      stmt([]any{"*"}, "Table.Arn"),
		"dynamodb:Get*":          stmt("dynamodb:Get*", "Table.Arn"),
		"dynamodb on *":          stmt("dynamodb:GetItem", "*"),
		"secretsmanager on *":    stmt([]any{"secretsmanager:GetSecretValue"}, []any{"AuthSecret", "*"}),
		"unresolved resource":    stmt("dynamodb:GetItem", ""),
		"managed policy":         []any{"AmazonDynamoDBFullAccess"},
		"SAM policy template":    []any{map[string]any{"DynamoDBCrudPolicy": map[string]any{"TableName": "Table"}}},
		"NotResource":            []any{map[string]any{"Statement": []any{map[string]any{"Effect": "Allow", "Action": "dynamodb:GetItem", "NotResource": "Other"}}}},
		"statement not a object": []any{map[string]any{"Statement": []any{"dynamodb:*"}}},
	}
	for name, p := range bad {
		if _, problems := policyProblems(p); len(problems) == 0 {
			t.Errorf("%s: policyProblems found nothing wrong with %v", name, p)
		}
	}
	good := stmt([]any{"dynamodb:GetItem", "dynamodb:PutItem"}, "Table.Arn")
	if _, problems := policyProblems(good); len(problems) != 0 {
		t.Errorf("policyProblems(%v) = %v, want none", good, problems)
	}
}

// storeActions are the DynamoDB actions pkg/dynamostore calls: the methods
// of its DynamoDB interface.
func storeActions() []string {
	typ := reflect.TypeFor[dynamostore.DynamoDB]()
	var out []string
	for i := range typ.NumMethod() {
		out = append(out, "dynamodb:"+typ.Method(i).Name)
	}
	sort.Strings(out)
	return out
}

func TestFunctionPoliciesAreLeastPrivilege(t *testing.T) {
	doc, err := resolved()
	if err != nil {
		t.Fatal(err)
	}
	resources, _ := section(doc, "Resources")
	wantDynamo := storeActions()
	checked := 0
	for name, r := range resources {
		if at(r, "Type") != "AWS::Serverless::Function" {
			continue
		}
		checked++
		policies := at(r, "Properties", "Policies")
		if policies == nil {
			t.Errorf("%s: no Policies", name)
			continue
		}
		stmts, problems := policyProblems(policies)
		for _, p := range problems {
			t.Errorf("%s: %s", name, p)
		}
		grants := map[string]map[string]bool{} // action -> resources
		for _, s := range stmts {
			if s["Effect"] != "Allow" {
				continue
			}
			for _, a := range strs(s["Action"]) {
				if grants[a] == nil {
					grants[a] = map[string]bool{}
				}
				for _, res := range strs(s["Resource"]) {
					grants[a][res] = true
				}
			}
		}
		var dynamo, secrets []string
		for a, res := range grants {
			switch svc, _, _ := strings.Cut(a, ":"); svc {
			case "dynamodb":
				dynamo = append(dynamo, a)
				for r := range res {
					if r != TableLogicalID+".Arn" && r != TableLogicalID+".Arn/index/*" {
						t.Errorf("%s: %s on %q, want only the table's ARN (and its indexes')", name, a, r)
					}
				}
			case "secretsmanager":
				secrets = append(secrets, a)
				for r := range res {
					if r != authSecret {
						t.Errorf("%s: %s on %q, want only !Ref %s", name, a, r, authSecret)
					}
				}
			}
		}
		sort.Strings(dynamo)
		if !slices.Equal(dynamo, wantDynamo) {
			t.Errorf("%s: grants %v on the table, want exactly the store's calls %v (more is not least privilege, fewer fails at run time)",
				name, dynamo, wantDynamo)
		}
		wantSecrets := []string(nil)
		if name == apiFunction { // only the API signs and checks tokens
			wantSecrets = []string{"secretsmanager:GetSecretValue"}
		}
		if !slices.Equal(secrets, wantSecrets) {
			t.Errorf("%s: Secrets Manager actions %v, want %v", name, secrets, wantSecrets)
		}
	}
	if checked < 2 {
		t.Errorf("checked the policies of %d functions, want both %s and %s", checked, apiFunction, provisionerFunction)
	}
}

func TestAuthSecretIsAStrongGeneratedKey(t *testing.T) {
	tmpl := parse(t)
	s, err := tmpl.GetSecretsManagerSecretWithName(authSecret)
	if err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	if s.SecretString != nil {
		t.Errorf("%s: SecretString is set in the template; the key must be generated", authSecret)
	}
	// 43 alphanumeric characters carry 256 bits, HS256's key size.
	if g := s.GenerateSecretString; g == nil || g.PasswordLength == nil || *g.PasswordLength < 43 {
		t.Errorf("%s: GenerateSecretString.PasswordLength must be at least 43", authSecret)
	}
}

func TestParametersHaveDefaults(t *testing.T) {
	tmpl := parse(t)
	for _, name := range []string{
		"EventBusName", "EventSource", "AutoAttach", "DefaultUaConfig", "LogLevel",
		"ThrottlingBurstLimit", "ThrottlingRateLimit", "AlarmTopicArn",
	} {
		p, ok := tmpl.Parameters[name]
		if !ok {
			t.Errorf("no parameter %s", name)
			continue
		}
		if p.Default == nil {
			t.Errorf("parameter %s has no Default; a plain sam deploy would prompt for it", name)
		}
	}
	var allowed []string
	for _, v := range tmpl.Parameters["AutoAttach"].AllowedValues {
		allowed = append(allowed, fmt.Sprint(v))
	}
	if sort.Strings(allowed); !slices.Equal(allowed, []string{"false", "true"}) {
		t.Errorf("AutoAttach AllowedValues = %v, want true and false", allowed)
	}
}

func TestOutputs(t *testing.T) {
	tmpl := parse(t)
	for name, want := range map[string]string{
		"ApiUrl":           "https://" + httpAPI + ".execute-api.us-east-1.amazonaws.com/",
		"TableName":        TableLogicalID,
		"EventBusArn":      "arn:aws:events:us-east-1:123456789012:event-bus/default",
		"IdentityQueueArn": identityQueue + ".Arn",
		"IdentityDLQArn":   identityDLQ + ".Arn",
		"AuthSecretArn":    authSecret,
	} {
		o, ok := tmpl.Outputs[name]
		if !ok {
			t.Errorf("no output %s", name)
			continue
		}
		if o.Value != want {
			t.Errorf("output %s = %v, want %q", name, o.Value, want)
		}
	}
}

func TestTableInput(t *testing.T) {
	in, err := TableInput("uauth-test")
	if err != nil {
		t.Fatalf("TableInput: %v", err)
	}
	if aws.ToString(in.TableName) != "uauth-test" {
		t.Errorf("TableName = %q, want uauth-test", aws.ToString(in.TableName))
	}
	if in.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("BillingMode = %q, want PAY_PER_REQUEST", in.BillingMode)
	}
	var keys []string
	for _, k := range in.KeySchema {
		keys = append(keys, aws.ToString(k.AttributeName)+" "+string(k.KeyType))
	}
	if want := []string{dynamostore.AttrPK + " HASH", dynamostore.AttrSK + " RANGE"}; !slices.Equal(keys, want) {
		t.Errorf("KeySchema = %v, want %v", keys, want)
	}
	attrs := map[string]types.ScalarAttributeType{}
	for _, d := range in.AttributeDefinitions {
		attrs[aws.ToString(d.AttributeName)] = d.AttributeType
	}
	if want := map[string]types.ScalarAttributeType{dynamostore.AttrPK: "S", dynamostore.AttrSK: "S"}; !reflect.DeepEqual(attrs, want) {
		t.Errorf("AttributeDefinitions = %v, want %v", attrs, want)
	}
	if in.ProvisionedThroughput != nil {
		t.Errorf("ProvisionedThroughput is set on an on-demand table")
	}
}

func TestTTLAttribute(t *testing.T) {
	got, err := TTLAttribute()
	if err != nil {
		t.Fatalf("TTLAttribute: %v", err)
	}
	if got != dynamostore.AttrExpiresAt {
		t.Errorf("TTLAttribute() = %q, want %q", got, dynamostore.AttrExpiresAt)
	}
}
