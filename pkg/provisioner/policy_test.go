package provisioner_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	"github.com/uauth/uauth/pkg/dynamotest"
	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/orgdefaults"
	"github.com/uauth/uauth/pkg/provisioner"
	"github.com/uauth/uauth/pkg/uaconfig"
)

// eventWith is an event whose detail carries extra fields.
func eventWith(detailType, identityID, orgID string, extra map[string]any, at time.Time) string {
	detail := map[string]any{"identityId": identityID, "orgId": orgID, "name": "ci-runner"}
	for k, v := range extra {
		detail[k] = v
	}
	b, _ := json.Marshal(map[string]any{
		"version": "0", "id": uuid.NewString(), "detail-type": detailType, "source": "com.example.identities",
		"account": "123456789012", "time": at.UTC().Format(time.RFC3339), "region": "us-east-1", "resources": []string{},
		"detail": detail,
	})
	return string(b)
}

func (e *env) putOrgDefaults(orgID, body string) {
	e.t.Helper()
	s, autoAttach, err := orgdefaults.Decode([]byte(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.defaults.Put(context.Background(), orgID, s, autoAttach, "admin"); err != nil {
		e.t.Fatal(err)
	}
}

// TestWhichConfigurationANewIdentityGets is the policy, case by case.
func TestWhichConfigurationANewIdentityGets(t *testing.T) {
	const (
		payments = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
		sandbox  = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
		plain    = "cccccccc-cccc-4ccc-8ccc-cccccccccccc"
	)
	e := newEnv(t, true)
	e.putOrgDefaults(payments, `{"accessTokenTTL": 3600, "accessTokenTrustedIps": [{"ipAddress": "10.20.0.0/16"}]}`)
	e.putOrgDefaults(sandbox, `{"autoAttach": false}`)
	now := time.Now()
	cases := []struct {
		name     string
		org      string
		extra    map[string]any
		attached bool
		ttl      int64
		ips      string
	}{
		{"the org's defaults", payments, nil, true, 3600, "10.20.0.0/16"},
		{"an org that attaches nothing", sandbox, nil, false, 0, ""},
		{"no org defaults: the deployment's", plain, nil, true, 600, "0.0.0.0/0"},
		{"an override over the org's defaults", payments, map[string]any{"universalAuth": map[string]any{"accessTokenTTL": 60}}, true, 60, "10.20.0.0/16"},
		{"an override in an org that attaches nothing", sandbox, map[string]any{"universalAuth": map[string]any{"lockoutThreshold": 5}}, true, 600, "0.0.0.0/0"},
		{"an override of false", payments, map[string]any{"universalAuth": false}, false, 0, ""},
		{"null is no override", payments, map[string]any{"universalAuth": nil}, true, 3600, "10.20.0.0/16"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := uuid.NewString()
			if failed := e.deliver(eventWith(provisioner.IdentityCreated, id, tc.org, tc.extra, now)); len(failed) != 0 {
				t.Fatalf("failed: %v", failed)
			}
			c, err := e.store.GetConfig(context.Background(), tc.org, id)
			if !tc.attached {
				if !errors.As(err, new(*uaconfig.NotFoundError)) {
					t.Fatalf("got %+v, %v; want the identity recorded without a configuration", c, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.AccessTokenTTL != tc.ttl || c.AccessTokenTrustedIPs[0].Net().String() != tc.ips {
				t.Fatalf("attached TTL %d, trusted IPs %v; want %d and %s", c.AccessTokenTTL, c.AccessTokenTrustedIPs, tc.ttl, tc.ips)
			}
		})
	}
}

// TestAnInvalidOverrideIsPoison: it is reported, logged with the
// validation message, and never falls back to the defaults.
func TestAnInvalidOverrideIsPoison(t *testing.T) {
	e := newEnv(t, true)
	logs := &bytes.Buffer{}
	e.h.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	for override, message := range map[string]any{
		`{"accessTokenTTL": "soon"}`:                                 "expected an integer, got string",
		`{"accessTokenTTL": 7201, "accessTokenMaxTTL": 7200}`:        "Access token TTL cannot be greater than max TTL",
		`{"clientSecretTrustedIps": [{"ipAddress": "10.0.0.0/8x"}]}`: "The IP is not a valid IPv4, IPv6, or CIDR block",
		`"yes"`: "expected an object of attach fields, or false",
		`{"identityId": "11111111-1111-4111-8111-111111111111"}`: "does not match",
		`{"lockoutThreshold": 31, "lockoutThreshold": 2}`:        "",
	} {
		logs.Reset()
		id := uuid.NewString()
		var raw any
		_ = json.Unmarshal([]byte(override), &raw)
		body := eventWith(provisioner.IdentityCreated, id, org, map[string]any{"universalAuth": raw}, time.Now())
		if strings.Contains(override, `"lockoutThreshold": 31, "lockoutThreshold": 2`) { // json.Marshal would drop the repeat
			body = strings.Replace(body, `"universalAuth":{"lockoutThreshold":2}`, `"universalAuth":{"lockoutThreshold":31,"lockoutThreshold":2}`, 1)
		}
		if failed := e.deliver(body); !reflect.DeepEqual(failed, []string{"m0"}) {
			t.Errorf("%s: failed = %v, want the record reported", override, failed)
		}
		if _, err := e.store.GetConfig(context.Background(), org, id); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("%s: the identity was written: %v", override, err)
		}
		if !strings.Contains(logs.String(), `"msg":"poison record"`) || !strings.Contains(logs.String(), message.(string)) {
			t.Errorf("%s: not logged as poison with %q:\n%s", override, message, logs)
		}
	}
}

// raw is the identity's item, decoded to plain values.
func (e *env) raw(id string) map[string]any {
	e.t.Helper()
	out, err := dynamotest.Client(e.t).GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(e.store.Table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "IDENTITY#" + id}, "sk": &types.AttributeValueMemberS{Value: "IDENTITY"}},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	var m map[string]any
	if err := attributevalue.UnmarshalMap(out.Item, &m); err != nil {
		e.t.Fatal(err)
	}
	return m
}

func (e *env) permissions(id string) []string {
	e.t.Helper()
	item := e.raw(id)
	var out []string
	if l, ok := item["permissions"].([]any); ok {
		for _, p := range l {
			out = append(out, p.(string))
		}
	}
	return out
}

// TestPermissionsConvergeInAnyOrder: Identity Created carries the first
// permissions and Identity Updated replaces them; redelivered or reordered
// events end the same way, and an update that arrives before its create is
// retried until the create has landed.
func TestPermissionsConvergeInAnyOrder(t *testing.T) {
	base := time.Date(2026, 11, 7, 5, 0, 0, 0, time.UTC)
	perms := func(p ...string) map[string]any { return map[string]any{"permissions": p} }
	for name, order := range map[string][]int{"in order": {0, 1, 2}, "reversed": {2, 1, 0}, "updates first": {1, 2, 0}, "duplicated": {0, 2, 1, 2, 0}} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, true)
			id := uuid.NewString()
			evs := []string{
				eventWith(provisioner.IdentityCreated, id, org, perms("identity:read"), base),
				eventWith(provisioner.IdentityUpdated, id, org, perms("identity:read", "identity:edit-auth"), base.Add(time.Minute)),
				eventWith(provisioner.IdentityUpdated, id, org, perms("org:admin"), base.Add(2*time.Minute)),
			}
			var pending []string
			for _, i := range order {
				pending = append(pending, evs[i])
			}
			// Redeliver what failed, as SQS does, until nothing does.
			for round := 0; len(pending) > 0; round++ {
				if round > 3 {
					t.Fatalf("still failing after %d rounds", round)
				}
				var again []string
				for _, body := range pending {
					if failed := e.deliver(body); len(failed) > 0 {
						again = append(again, body)
					}
				}
				pending = again
			}
			if got := e.permissions(id); !reflect.DeepEqual(got, []string{"org:admin"}) {
				t.Fatalf("permissions = %v, want the latest update's", got)
			}
		})
	}
}

// inflightStore counts the records being written at once.
type inflightStore struct {
	provisioner.Store
	now, max atomic.Int32
}

func (s *inflightStore) SetPermissions(ctx context.Context, id identity.Identity) error {
	n := s.now.Add(1)
	defer s.now.Add(-1)
	for {
		m := s.max.Load()
		if n <= m || s.max.CompareAndSwap(m, n) {
			break
		}
	}
	time.Sleep(20 * time.Millisecond) // hold the slot, so that overlap shows
	return s.Store.SetPermissions(ctx, id)
}

// TestChangesRunConcurrentlyWithinTheBound: a batch's updates and deletes
// are processed concurrently, never more than Concurrency at once.
func TestChangesRunConcurrentlyWithinTheBound(t *testing.T) {
	e := newEnv(t, true)
	var creates, updates []string
	for range 10 {
		id := uuid.NewString()
		creates = append(creates, event(provisioner.IdentityCreated, id, org))
		updates = append(updates, eventWith(provisioner.IdentityUpdated, id, org, map[string]any{"permissions": []string{"org:admin"}}, time.Date(2026, 11, 8, 0, 0, 0, 0, time.UTC)))
	}
	if failed := e.deliver(creates...); len(failed) != 0 {
		t.Fatalf("failed: %v", failed)
	}
	s := &inflightStore{Store: e.store}
	e.h.Store, e.h.Concurrency = s, 4
	if failed := e.deliver(updates...); len(failed) != 0 {
		t.Fatalf("failed: %v", failed)
	}
	if m := s.max.Load(); m < 2 || m > 4 {
		t.Fatalf("%d records at once, want between 2 and the bound of 4", m)
	}
}

// TestRecordsAreNotStartedWithoutTime: when the invocation has less time
// left than a record needs, the record is reported for redelivery rather
// than left running into the function's timeout.
func TestRecordsAreNotStartedWithoutTime(t *testing.T) {
	e := newEnv(t, true)
	e.h.Reserve = time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	id := uuid.NewString()
	batch := events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m0", Body: event(provisioner.IdentityCreated, id, org)}}}
	e.calls.Reset()
	resp, err := e.h.Handle(ctx, batch)
	if err != nil || len(resp.BatchItemFailures) != 1 || e.calls.Total() != 0 {
		t.Fatalf("got %v, %v, %d calls; want the record reported and nothing done", resp, err, e.calls.Total())
	}
}
