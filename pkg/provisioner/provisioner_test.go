package provisioner_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"
	"github.com/uauth/uauth/pkg/dynamostore"
	"github.com/uauth/uauth/pkg/dynamotest"
	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/orgdefaults"
	"github.com/uauth/uauth/pkg/provisioner"
	"github.com/uauth/uauth/pkg/uaconfig"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

const org = "11111111-1111-4111-8111-111111111111"

type env struct {
	t        *testing.T
	h        *provisioner.Handler
	store    *dynamostore.Store
	defaults *orgdefaults.Service
	calls    *dynamotest.Counter
}

func newEnv(t *testing.T, autoAttach bool) *env {
	e := &env{t: t, calls: &dynamotest.Counter{}}
	e.store = dynamostore.New(dynamotest.Client(t, e.calls.Option), dynamotest.NewTable(t))
	deployment := uaconfig.InfisicalDefaults()
	deployment.AccessTokenTTL = 600
	e.defaults = &orgdefaults.Service{Store: e.store, Deployment: orgdefaults.Deployment(deployment, autoAttach)}
	e.h = &provisioner.Handler{Store: e.store, Defaults: e.defaults, TombstoneTTL: time.Hour, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	return e
}

// event is one EventBridge event as the rule forwards it to SQS.
func event(detailType, identityID, orgID string) string {
	b, _ := json.Marshal(map[string]any{
		"version": "0", "id": uuid.NewString(), "detail-type": detailType, "source": "com.example.identities",
		"account": "123456789012", "time": "2026-11-07T05:31:56Z", "region": "us-east-1", "resources": []string{},
		"detail": map[string]string{"identityId": identityID, "orgId": orgID, "name": "ci-runner"},
	})
	return string(b)
}

// deliver sends bodies as one SQS batch and returns the failed message ids.
func (e *env) deliver(bodies ...string) []string {
	e.t.Helper()
	batch := events.SQSEvent{}
	for i, b := range bodies {
		batch.Records = append(batch.Records, events.SQSMessage{MessageId: fmt.Sprintf("m%d", i), Body: b, EventSource: "aws:sqs"})
	}
	resp, err := e.h.Handle(context.Background(), batch)
	if err != nil {
		e.t.Fatalf("the batch failed as a whole: %v", err)
	}
	failed := []string{}
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	return failed
}

func (e *env) config(id string) (uaconfig.Config, error) {
	return e.store.GetConfig(context.Background(), org, id)
}

func TestCreatedRecordsAndAttachesTheDefaults(t *testing.T) {
	e := newEnv(t, true)
	id := uuid.NewString()
	if failed := e.deliver(event(provisioner.IdentityCreated, id, org)); len(failed) != 0 {
		t.Fatalf("failed: %v", failed)
	}
	c, err := e.config(id)
	if err != nil {
		t.Fatal(err)
	}
	if c.AccessTokenTTL != 600 || c.AccessTokenMaxTTL != 2592000 || !c.LockoutEnabled || c.IdentityID != id || !isUUID(c.ClientID) {
		t.Fatalf("attached %+v, want the deployment's defaults", c)
	}
	// The identity is in its org only.
	if _, err := e.store.GetConfig(context.Background(), "22222222-2222-4222-8222-222222222222", id); !errors.Is(err, identity.ErrNotFound) {
		t.Fatalf("other org sees the identity: %v", err)
	}
}

func TestDuplicateDeliveryAttachesOnce(t *testing.T) {
	e := newEnv(t, true)
	id := uuid.NewString()
	created := event(provisioner.IdentityCreated, id, org)
	if failed := e.deliver(created, created); len(failed) != 0 {
		t.Fatalf("failed: %v", failed)
	}
	first, err := e.config(id)
	if err != nil {
		t.Fatal(err)
	}
	if failed := e.deliver(created); len(failed) != 0 { // a later redelivery
		t.Fatalf("failed: %v", failed)
	}
	again, err := e.config(id)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(first, again) {
		t.Fatalf("redelivery changed the configuration:\n%+v\n%+v", first, again)
	}
}

func TestDeleteRemovesIdentityAndConfiguration(t *testing.T) {
	e := newEnv(t, true)
	id := uuid.NewString()
	e.deliver(event(provisioner.IdentityCreated, id, org))
	deleted := event(provisioner.IdentityDeleted, id, org)
	if failed := e.deliver(deleted, deleted); len(failed) != 0 {
		t.Fatalf("failed: %v", failed)
	}
	if _, err := e.config(id); !errors.Is(err, identity.ErrNotFound) {
		t.Fatalf("after delete: %v, want ErrIdentityNotFound", err)
	}
	// A create redelivered after the delete does not bring it back.
	e.deliver(event(provisioner.IdentityCreated, id, org))
	if _, err := e.config(id); !errors.Is(err, identity.ErrNotFound) {
		t.Fatalf("late create resurrected the identity: %v", err)
	}
}

func TestDeleteBeforeCreateStaysDeleted(t *testing.T) {
	e := newEnv(t, true)
	id := uuid.NewString()
	if failed := e.deliver(event(provisioner.IdentityDeleted, id, org), event(provisioner.IdentityCreated, id, org)); len(failed) != 0 {
		t.Fatalf("failed: %v", failed)
	}
	if _, err := e.config(id); !errors.Is(err, identity.ErrNotFound) {
		t.Fatalf("got %v, want the tombstone to keep the identity deleted", err)
	}
}

func TestDeleteFromAnotherOrgIsPoison(t *testing.T) {
	e := newEnv(t, true)
	id := uuid.NewString()
	e.deliver(event(provisioner.IdentityCreated, id, org))
	if failed := e.deliver(event(provisioner.IdentityDeleted, id, "22222222-2222-4222-8222-222222222222")); !reflect.DeepEqual(failed, []string{"m0"}) {
		t.Fatalf("failed = %v, want [m0]", failed)
	}
	if _, err := e.config(id); err != nil {
		t.Fatalf("a delete naming the wrong org removed the identity: %v", err)
	}
}

func TestPoisonRecordFailsAloneAndWritesNothing(t *testing.T) {
	e := newEnv(t, true)
	logs := &bytes.Buffer{}
	e.h.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	someID := uuid.NewString()
	poison := []string{
		`not json`,
		`{"detail-type":"Identity Created","detail":{"identityId":"not-a-uuid","orgId":"` + org + `"}}`,
		`{"detail-type":"Identity Created"}`,
		`{"detail-type":"Identity Renamed","detail":{"identityId":"` + someID + `","orgId":"` + org + `"}}`,
		`{"detail-type":"Identity Created","detail":{"identityId":"` + someID + `","orgId":5}}`,
		`{"detail-type":"Identity Created","time":"yesterday","detail":{"identityId":"` + someID + `","orgId":"` + org + `"}}`,
	}
	for _, p := range poison {
		logs.Reset()
		e.calls.Reset()
		a, b := uuid.NewString(), uuid.NewString()
		failed := e.deliver(event(provisioner.IdentityCreated, a, org), p, event(provisioner.IdentityCreated, b, org))
		if !reflect.DeepEqual(failed, []string{"m1"}) {
			t.Errorf("%s: failed = %v, want only the poison record m1", p, failed)
		}
		// The good records' one write, and one read of their org's defaults.
		if calls := e.calls.Calls(); calls["TransactWriteItems"] != 1 || calls["BatchGetItem"] != 1 || len(calls) != 2 {
			t.Errorf("%s: DynamoDB calls %v, want the good records' only", p, calls)
		}
		for _, id := range []string{a, b} {
			if _, err := e.config(id); err != nil {
				t.Errorf("%s: good record %s not applied: %v", p, id, err)
			}
		}
		if !strings.Contains(logs.String(), `"level":"ERROR","msg":"poison record","messageId":"m1"`) {
			t.Errorf("%s: poison record not logged at error level with its message id:\n%s", p, logs.String())
		}
	}
	if _, err := e.config(someID); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("a poison record wrote its identity: %v", err)
	}
}

func TestCreateInAnotherOrgIsPoison(t *testing.T) {
	e := newEnv(t, true)
	logs := &bytes.Buffer{}
	e.h.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	id := uuid.NewString()
	e.deliver(event(provisioner.IdentityCreated, id, org))
	if failed := e.deliver(event(provisioner.IdentityCreated, id, "22222222-2222-4222-8222-222222222222")); !reflect.DeepEqual(failed, []string{"m0"}) {
		t.Fatalf("failed = %v, want [m0]", failed)
	}
	// A decoded record's failure is logged with the event's fields.
	if !strings.Contains(logs.String(), `"msg":"poison record","messageId":"m0","eventId":`) || !strings.Contains(logs.String(), `"identityId":"`+id+`"`) {
		t.Fatalf("poison log line lacks the event's fields:\n%s", logs)
	}
}

// TestRedeliveredCreateDoesNotReattach: a configuration revoked through the
// API stays revoked when the create event is delivered again.
func TestRedeliveredCreateDoesNotReattach(t *testing.T) {
	e := newEnv(t, true)
	id := uuid.NewString()
	created := event(provisioner.IdentityCreated, id, org)
	e.deliver(created)
	if _, err := e.store.DeleteConfig(context.Background(), org, id, time.Now(), "test", nil); err != nil {
		t.Fatal(err)
	}
	if failed := e.deliver(created); len(failed) != 0 {
		t.Fatalf("failed: %v", failed)
	}
	if _, err := e.config(id); !errors.As(err, new(*uaconfig.NotFoundError)) {
		t.Fatalf("got %v, want the revoked configuration to stay revoked", err)
	}
}

func TestUpperCaseIDsAreCanonicalized(t *testing.T) {
	e := newEnv(t, true)
	id := uuid.NewString()
	if failed := e.deliver(event(provisioner.IdentityCreated, strings.ToUpper(id), strings.ToUpper(org))); len(failed) != 0 {
		t.Fatalf("failed: %v", failed)
	}
	if _, err := e.config(id); err != nil {
		t.Fatalf("identity not found under its canonical id: %v", err)
	}
}

func TestStoreFailureIsReportedForRetry(t *testing.T) {
	e := newEnv(t, true)
	id := uuid.NewString()
	e.h.Store = failingStore{e.store}
	if failed := e.deliver(event(provisioner.IdentityCreated, id, org)); !reflect.DeepEqual(failed, []string{"m0"}) {
		t.Fatalf("failed = %v, want [m0]", failed)
	}
	e.h.Store = e.store // the retry succeeds
	if failed := e.deliver(event(provisioner.IdentityCreated, id, org)); len(failed) != 0 {
		t.Fatalf("retry failed: %v", failed)
	}
	if _, err := e.config(id); err != nil {
		t.Fatal(err)
	}
}

// failingStore injects an outage: DynamoDB Local cannot be made to throttle.
type failingStore struct{ provisioner.Store }

func (failingStore) RecordIdentities(_ context.Context, ids []identity.Identity, _ []*uaconfig.Config, _ string) []error {
	errs := make([]error, len(ids))
	for i := range errs {
		errs[i] = errors.New("ProvisionedThroughputExceededException")
	}
	return errs
}

func TestAutoAttachOffRecordsWithoutAttaching(t *testing.T) {
	e := newEnv(t, false)
	id := uuid.NewString()
	if failed := e.deliver(event(provisioner.IdentityCreated, id, org)); len(failed) != 0 {
		t.Fatalf("failed: %v", failed)
	}
	if _, err := e.config(id); !errors.As(err, new(*uaconfig.NotFoundError)) {
		t.Fatalf("got %v, want a recorded identity without configuration", err)
	}
}

func TestSampleEvents(t *testing.T) {
	e := newEnv(t, true)
	for _, name := range []string{"sqs-identity-created.json", "sqs-identity-deleted.json"} {
		raw, err := os.ReadFile("../../events/" + name)
		if err != nil {
			t.Fatal(err)
		}
		var batch events.SQSEvent
		if err := json.Unmarshal(raw, &batch); err != nil {
			t.Fatal(err)
		}
		resp, err := e.h.Handle(context.Background(), batch)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("%s: %v %v", name, resp, err)
		}
		_, err = e.config("8c1f4b8e-5d2a-4b7e-9f3c-2a6d1e0b7c45")
		want := map[string]error{"sqs-identity-created.json": nil, "sqs-identity-deleted.json": identity.ErrNotFound}[name]
		if !errors.Is(err, want) {
			t.Fatalf("after %s: %v, want %v", name, err, want)
		}
	}
}

func isUUID(s string) bool {
	_, ok := identity.CanonicalID(s)
	return ok
}

// FuzzDecode: any SQS body is either an identity event with canonical ids
// or an error, never a panic.
func FuzzDecode(f *testing.F) {
	f.Add(event(provisioner.IdentityCreated, "8c1f4b8e-5d2a-4b7e-9f3c-2a6d1e0b7c45", org))
	f.Add(event(provisioner.IdentityDeleted, "8C1F4B8E-5D2A-4B7E-9F3C-2A6D1E0B7C45", org))
	f.Add(`{"detail-type":"Identity Created","detail":null}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, body string) {
		ev, d, err := provisioner.Decode([]byte(body))
		if err != nil {
			return
		}
		if ev.DetailType != provisioner.IdentityCreated && ev.DetailType != provisioner.IdentityUpdated && ev.DetailType != provisioner.IdentityDeleted {
			t.Fatalf("accepted detail-type %q", ev.DetailType)
		}
		for _, id := range []string{d.IdentityID, d.OrgID} {
			if c, ok := identity.CanonicalID(id); !ok || c != id {
				t.Fatalf("accepted non-canonical id %q", id)
			}
		}
	})
}

// TestABatchOfCreatesIsTwoRequests: however many identities a batch
// creates, across however many orgs, it reads their orgs' defaults in one
// BatchGetItem and records them all in one TransactWriteItems; each gets
// its own org's policy.
func TestABatchOfCreatesIsTwoRequests(t *testing.T) {
	e := newEnv(t, true)
	quiet := "33333333-3333-4333-8333-333333333333"
	e.putOrgDefaults(quiet, `{"autoAttach": false}`)
	orgs := []string{org, quiet, "44444444-4444-4444-8444-444444444444"}
	var ids, bodies []string
	for i := range 10 {
		id := uuid.NewString()
		ids = append(ids, id)
		bodies = append(bodies, event(provisioner.IdentityCreated, id, orgs[i%3]))
	}
	e.calls.Reset()
	if failed := e.deliver(bodies...); len(failed) != 0 {
		t.Fatalf("failed: %v", failed)
	}
	if calls := e.calls.Calls(); calls["BatchGetItem"] != 1 || calls["TransactWriteItems"] != 1 || len(calls) != 2 {
		t.Errorf("DynamoDB calls %v, want one BatchGetItem and one TransactWriteItems", calls)
	}
	for i, id := range ids {
		_, err := e.store.GetConfig(context.Background(), orgs[i%3], id)
		if attached := err == nil; attached != (orgs[i%3] != quiet) {
			t.Errorf("identity %d of org %s: configuration error %v", i, orgs[i%3], err)
		}
	}
}

// failingOne fails one identity's write and passes the others through.
type failingOne struct {
	provisioner.Store
	victim string
}

func (f failingOne) RecordIdentities(ctx context.Context, ids []identity.Identity, configs []*uaconfig.Config, actor string) []error {
	errs := make([]error, len(ids))
	var restIDs []identity.Identity
	var restConfigs []*uaconfig.Config
	var at []int
	for i, id := range ids {
		if id.ID == f.victim {
			errs[i] = errors.New("injected: InternalServerError")
			continue
		}
		restIDs, restConfigs, at = append(restIDs, id), append(restConfigs, configs[i]), append(at, i)
	}
	for k, err := range f.Store.RecordIdentities(ctx, restIDs, restConfigs, actor) {
		errs[at[k]] = err
	}
	return errs
}

// TestEachCreateGetsItsOwnOutcome: in one batch, a poison create, a create
// the store fails and good creates are each reported (or not) for
// themselves: the answers of the batch's one write go to the right records.
func TestEachCreateGetsItsOwnOutcome(t *testing.T) {
	e := newEnv(t, true)
	a, victim, c := uuid.NewString(), uuid.NewString(), uuid.NewString()
	e.h.Store = failingOne{Store: e.store, victim: victim}
	poison := eventWith(provisioner.IdentityCreated, uuid.NewString(), org, map[string]any{"universalAuth": map[string]any{"accessTokenTTL": -1}}, time.Now())
	failed := e.deliver(poison, event(provisioner.IdentityCreated, a, org), event(provisioner.IdentityCreated, victim, org), event(provisioner.IdentityCreated, c, org))
	if !reflect.DeepEqual(failed, []string{"m0", "m2"}) {
		t.Fatalf("failed = %v, want the poison record m0 and the failed write m2", failed)
	}
	for _, id := range []string{a, c} {
		if _, err := e.config(id); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	if _, err := e.config(victim); err == nil {
		t.Error("the failed write's identity has a configuration")
	}
}

// stalledStore never answers a write until its context ends, and notes
// the deadline it was given.
type stalledStore struct {
	provisioner.Store
	deadline *time.Time
}

func (s stalledStore) RecordIdentities(ctx context.Context, ids []identity.Identity, _ []*uaconfig.Config, _ string) []error {
	*s.deadline, _ = ctx.Deadline()
	<-ctx.Done()
	errs := make([]error, len(ids))
	for i := range errs {
		errs[i] = ctx.Err()
	}
	return errs
}

// TestABatchAnswersBeforeTheInvocationEnds: a call that stalls is cut off
// AnswerMargin before the invocation's deadline, and its record reported
// for redelivery, so the batch answers instead of the function timing out.
func TestABatchAnswersBeforeTheInvocationEnds(t *testing.T) {
	e := newEnv(t, true)
	var seen time.Time
	e.h.Store = stalledStore{Store: e.store, deadline: &seen}
	deadline := time.Now().Add(provisioner.AnswerMargin + 300*time.Millisecond)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	batch := events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m0", Body: event(provisioner.IdentityCreated, uuid.NewString(), org)}}}
	resp, err := e.h.Handle(ctx, batch)
	if err != nil || len(resp.BatchItemFailures) != 1 {
		t.Fatalf("got %v, %v; want the stalled record reported", resp, err)
	}
	if want := deadline.Add(-provisioner.AnswerMargin); !seen.Equal(want) {
		t.Fatalf("the store's deadline was %v, want the invocation's less AnswerMargin, %v", seen, want)
	}
}
