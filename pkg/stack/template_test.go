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
	"github.com/awslabs/goformation/v7/cloudformation/events"
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
	identityDLQPolicy   = "IdentityDLQPolicy"
	identityEventsRule  = "IdentityEventsRule"

	// configPath is the route pattern of pkg/httpapi's configuration API.
	configPath = "/api/v1/auth/universal-auth/identities/{identityId}"
	// catchAllRoute sends every other request to the handler too.
	catchAllRoute = "ANY /{proxy+}"
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
		rp := queueTarget(t, tmpl).RetryPolicy
		if rp == nil || rp.MaximumEventAgeInSeconds == nil {
			t.Fatalf("%s: the target %s has no RetryPolicy.MaximumEventAgeInSeconds", identityEventsRule, identityQueue)
		}
		retrying := time.Duration(*rp.MaximumEventAgeInSeconds) * time.Second
		if cfg.TombstoneTTL <= retrying+retention {
			t.Errorf("%s: TOMBSTONE_TTL %v must outlive EventBridge's retries (%v) plus %s's retention (%v), or a late create can resurrect a deleted identity",
				provisionerFunction, cfg.TombstoneTTL, retrying, identityQueue, retention)
		}
	}
}

// queueTarget is the identity events rule's target that is the queue.
func queueTarget(t *testing.T, tmpl *cloudformation.Template) events.Rule_Target {
	t.Helper()
	rule, err := tmpl.GetEventsRuleWithName(identityEventsRule)
	if err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	for _, tg := range rule.Targets {
		if tg.Arn == identityQueue+".Arn" {
			return tg
		}
	}
	t.Fatalf("%s: no target with Arn !GetAtt %s.Arn", identityEventsRule, identityQueue)
	return events.Rule_Target{}
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
	// Else API Gateway answers unknown paths, other methods and trailing
	// slashes itself, with {"message":"Not Found"} and no reqId.
	if !routes[catchAllRoute] {
		t.Errorf("%s: no HttpApi event for %s, to answer every other request in the contract's error shape (have %v)",
			apiFunction, catchAllRoute, routes)
	}
}

func TestFunctionLogsAreKept30Days(t *testing.T) {
	tmpl := parse(t)
	// Parse drops LoggingConfig, which goformation does not know.
	doc, err := resolved()
	if err != nil {
		t.Fatal(err)
	}
	resources, _ := section(doc, "Resources")
	var checked []string
	for name, r := range resources {
		if at(r, "Type") != "AWS::Serverless::Function" {
			continue
		}
		checked = append(checked, name)
		lc := at(r, "Properties", "LoggingConfig")
		// The application writes JSON lines; Lambda's JSON format would
		// nest each in a record of its own.
		if f := at(lc, "LogFormat"); f != nil && f != "Text" {
			t.Errorf("%s: LoggingConfig.LogFormat = %v, want Text or unset", name, f)
		}
		lgName, _ := at(lc, "LogGroup").(string)
		if at(resources[lgName], "Type") != "AWS::Logs::LogGroup" {
			t.Errorf("%s: LoggingConfig.LogGroup = %v, want !Ref to a log group of the stack's, so that its retention is set",
				name, at(lc, "LogGroup"))
			continue
		}
		lg, err := tmpl.GetLogsLogGroupWithName(lgName)
		if err != nil {
			t.Errorf("template.yaml: %v", err)
		} else if lg.RetentionInDays == nil || *lg.RetentionInDays != 30 {
			t.Errorf("%s: %s RetentionInDays = %v, want 30", name, lgName, deref(lg.RetentionInDays))
		}
	}
	if sort.Strings(checked); !slices.Equal(checked, []string{apiFunction, provisionerFunction}) {
		t.Errorf("checked the logs of %v, want %s and %s", checked, apiFunction, provisionerFunction)
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
	queueTarget(t, tmpl)
	ruleMaySend(t, tmpl, identityQueuePolicy, identityQueue)
}

// ruleMaySend checks that queue policy policyName, the only one on queue,
// lets the identity events rule, and only it, send to queue.
func ruleMaySend(t *testing.T, tmpl *cloudformation.Template, policyName, queue string) {
	t.Helper()
	qp, err := tmpl.GetSQSQueuePolicyWithName(policyName)
	if err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	if !slices.Contains(qp.Queues, queue) {
		t.Errorf("%s: Queues = %v, want !Ref %s", policyName, qp.Queues, queue)
	}
	// A queue has one policy: a second would replace the first.
	var policies []string
	for name, p := range tmpl.GetAllSQSQueuePolicyResources() {
		if slices.Contains(p.Queues, queue) {
			policies = append(policies, name)
		}
	}
	if len(policies) != 1 {
		t.Errorf("queue policies on %s: %v, want only %s", queue, policies, policyName)
	}
	var allowed bool
	stmts, _ := at(qp.PolicyDocument, "Statement").([]any)
	for _, s := range stmts {
		allowed = allowed || at(s, "Effect") == "Allow" &&
			slices.Equal(strs(at(s, "Principal", "Service")), []string{"events.amazonaws.com"}) &&
			slices.Contains(strs(at(s, "Action")), "sqs:SendMessage") &&
			slices.Equal(strs(at(s, "Resource")), []string{queue + ".Arn"}) &&
			at(s, "Condition", "ArnEquals", "aws:SourceArn") == identityEventsRule+".Arn"
	}
	if !allowed {
		t.Errorf("%s: no statement lets events.amazonaws.com sqs:SendMessage to %s on condition aws:SourceArn = %s's ARN:\n%v",
			policyName, queue, identityEventsRule, qp.PolicyDocument)
	}
}

// TestUndeliverableEventsGoToTheDLQ: an event EventBridge cannot put on the
// queue is retried, then kept in the DLQ, not dropped.
func TestUndeliverableEventsGoToTheDLQ(t *testing.T) {
	tmpl := parse(t)
	tg := queueTarget(t, tmpl)
	if rp := tg.RetryPolicy; rp == nil {
		t.Errorf("%s: target %s has no RetryPolicy", identityEventsRule, tg.Id)
	} else {
		// EventBridge's maximum: a day's outage of the queue loses nothing.
		if age := rp.MaximumEventAgeInSeconds; age == nil || *age != 86400 {
			t.Errorf("%s: target %s: MaximumEventAgeInSeconds = %v, want 86400", identityEventsRule, tg.Id, deref(age))
		}
		if n := rp.MaximumRetryAttempts; n == nil || *n < 1 || *n > 185 {
			t.Errorf("%s: target %s: MaximumRetryAttempts = %v, want 1..185", identityEventsRule, tg.Id, deref(n))
		}
	}
	if dl := tg.DeadLetterConfig; dl == nil || dl.Arn == nil || *dl.Arn != identityDLQ+".Arn" {
		var arn any = "<no DeadLetterConfig>"
		if dl != nil {
			arn = deref(dl.Arn)
		}
		t.Errorf("%s: target %s: DeadLetterConfig.Arn = %v, want !GetAtt %s.Arn", identityEventsRule, tg.Id, arn, identityDLQ)
	}
	// Else EventBridge cannot put the event in the DLQ either.
	ruleMaySend(t, tmpl, identityDLQPolicy, identityDLQ)
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
	var dlq, api5xx, delivery []string
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
		case ns == "AWS/Events" && metric == "FailedInvocations":
			// Dimensions depend on the bus; checked below.
			if deref(a.Statistic) != "Sum" || !firesOnOne(a) {
				t.Errorf("%s: %v of %s %v does not fire on a single failed delivery", name, deref(a.Statistic), a.ComparisonOperator, deref(a.Threshold))
			}
			delivery = append(delivery, name)
		}
	}
	if len(dlq) == 0 {
		t.Errorf("no alarm on AWS/SQS ApproximateNumberOfMessagesVisible for QueueName !GetAtt %s.QueueName", identityDLQ)
	}
	if len(api5xx) == 0 {
		t.Errorf("no alarm on AWS/ApiGateway 5xx for ApiId !Ref %s", httpAPI)
	}

	// EventBridge publishes a rule's metrics by RuleName alone on the default
	// bus, by EventBusName and RuleName on a custom bus; and the rule's Ref,
	// the rule's name on the default bus, is "bus|name" on a custom one.
	const ruleName = "uauth-IdentityEventsRule-1A2B3C"
	for _, tc := range []struct {
		bus, ref string
		want     map[string]any
	}{
		{"default", ruleName, map[string]any{"RuleName": ruleName}},
		{"uauth-test-bus", "uauth-test-bus|" + ruleName, map[string]any{"EventBusName": "uauth-test-bus", "RuleName": ruleName}},
	} {
		doc, err := resolvedWithRefs(map[string]any{"EventBusName": tc.bus}, map[string]any{identityEventsRule: tc.ref})
		if err != nil {
			t.Fatal(err)
		}
		var found bool
		for _, name := range delivery {
			dims := map[string]any{}
			list, _ := at(raw(t, doc, name), "Properties", "Dimensions").([]any)
			for _, d := range list {
				dims[fmt.Sprint(at(d, "Name"))] = at(d, "Value")
			}
			found = found || reflect.DeepEqual(dims, tc.want)
		}
		if !found {
			t.Errorf("on bus %q, no alarm on AWS/Events FailedInvocations with dimensions %v (the rule's Ref is %q); candidates %v",
				tc.bus, tc.want, tc.ref, delivery)
		}
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
		for _, name := range slices.Concat(dlq, api5xx, delivery) {
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

// wantTableActions are the DynamoDB actions each function's code makes: no
// fewer, or it fails at run time, and no more, or it is not least privilege.
// pkg/httpapi's TestDynamoDBCallsPerOperation counts the API's calls (GET is
// GetConfig, a GetItem; POST, PATCH and DELETE are CreateConfig, UpdateConfig
// and DeleteConfig, each an UpdateItem) and pkg/provisioner's tests count the
// provisioner's (RecordIdentity and DeleteIdentity, each a PutItem). Sorted.
var wantTableActions = map[string][]string{
	apiFunction:         {"dynamodb:GetItem", "dynamodb:UpdateItem"},
	provisionerFunction: {"dynamodb:PutItem"},
}

// storeActions are the DynamoDB actions pkg/dynamostore can call: the methods
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
	// Every call the store can make is granted to some function, so a new one
	// cannot go unnoticed here.
	var union []string
	for _, actions := range wantTableActions {
		union = append(union, actions...)
	}
	sort.Strings(union)
	if store := storeActions(); !slices.Equal(slices.Compact(union), store) {
		t.Errorf("the functions' DynamoDB actions together are %v; pkg/dynamostore's DynamoDB interface has %v", union, store)
	}
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
		if want, ok := wantTableActions[name]; !ok {
			t.Errorf("%s: no expected DynamoDB actions in wantTableActions", name)
		} else if !slices.Equal(dynamo, want) {
			t.Errorf("%s: grants %v on the table, want exactly the calls its code makes, %v (more is not least privilege, fewer fails at run time)",
				name, dynamo, want)
		}
		wantSecrets := []string(nil)
		if name == apiFunction { // only the API checks tokens
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

func TestTableIsParsedOnce(t *testing.T) {
	a, errA := templateTable()
	b, errB := templateTable()
	if errA != nil || errB != nil {
		t.Fatalf("templateTable: %v, %v", errA, errB)
	}
	if a != b {
		t.Errorf("templateTable parsed the template again")
	}
	// What TableInput returns is the caller's: changing it changes nothing
	// for the next caller.
	in, err := TableInput("uauth-test")
	if err != nil {
		t.Fatal(err)
	}
	in.AttributeDefinitions[0].AttributeName = aws.String("changed")
	in.KeySchema[0].AttributeName = aws.String("changed")
	again, err := TableInput("uauth-test")
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(again.AttributeDefinitions[0].AttributeName); got == "changed" {
		t.Errorf("a caller's change to TableInput's result reached the next caller")
	}
	if got := aws.ToString(again.KeySchema[0].AttributeName); got == "changed" {
		t.Errorf("a caller's change to TableInput's result reached the next caller")
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
