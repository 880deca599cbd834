package dynamostore_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	"github.com/uauth/uauth/pkg/dynamostore"
	"github.com/uauth/uauth/pkg/dynamotest"
	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/orgdefaults"
	"github.com/uauth/uauth/pkg/uaconfig"
)

// TestRecordIdentitiesGivesEachItsOwnAnswer: a batch of new identities is
// written in one transaction; when some are known, each gets the answer
// RecordIdentity would give, the others are written in a second, and a
// repeat within the batch goes on its own and finds the first.
func TestRecordIdentitiesGivesEachItsOwnAnswer(t *testing.T) {
	calls := &dynamotest.Counter{}
	s := dynamostore.New(dynamotest.Client(t, calls.Option), dynamotest.NewTable(t))
	at := time.Date(2026, 11, 7, 5, 31, 56, 0, time.UTC)
	known, deleted, foreign := uuid.NewString(), uuid.NewString(), uuid.NewString()
	if err := s.RecordIdentity(ctx, identity.Identity{ID: known, OrgID: org, CreatedAt: at}, nil, "test"); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordIdentity(ctx, identity.Identity{ID: foreign, OrgID: otherOrg, CreatedAt: at}, nil, "test"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteIdentity(ctx, deleted, org, at, at.Add(time.Hour), "test"); err != nil {
		t.Fatal(err)
	}

	newWith, newWithout, last := uuid.NewString(), uuid.NewString(), uuid.NewString()
	ids := []string{newWith, newWithout, known, deleted, foreign, newWith, last}
	attach := []bool{true, false, true, true, true, true, true}
	want := []error{nil, nil, identity.ErrExists, identity.ErrDeleted, identity.ErrOrgMismatch, identity.ErrExists, nil}
	var idents []identity.Identity
	var configs []*uaconfig.Config
	for i, id := range ids {
		idents = append(idents, identity.Identity{ID: id, OrgID: org, CreatedAt: at})
		var c *uaconfig.Config
		if attach[i] {
			cfg := newConfig(t, id)
			c = &cfg
		}
		configs = append(configs, c)
	}
	calls.Reset()
	errs := s.RecordIdentities(ctx, idents, configs, "provisioner")
	for i := range ids {
		if !errors.Is(errs[i], want[i]) || (want[i] == nil) != (errs[i] == nil) {
			t.Errorf("identity %d: %v, want %v", i, errs[i], want[i])
		}
	}
	// The batch, cancelled by the three known ones; the rest again; the repeat.
	if got := calls.Calls(); got["TransactWriteItems"] != 3 || len(got) != 1 {
		t.Errorf("calls %v, want 3 TransactWriteItems", got)
	}
	for _, id := range []string{newWith, last} {
		c, err := s.GetConfig(ctx, org, id)
		if err != nil || c.ClientID == "" {
			t.Errorf("%s: configuration %+v, %v", id, c, err)
		}
	}
	// The first of the repeated pair won: its configuration, not the repeat's.
	if c, _ := s.GetConfig(ctx, org, newWith); c.ClientID != configs[0].ClientID {
		t.Errorf("%s has client id %s, want the first event's %s", newWith, c.ClientID, configs[0].ClientID)
	}
	if _, err := s.GetConfig(ctx, org, newWithout); err == nil {
		t.Error("an identity recorded without a configuration has one")
	}
	if _, err := s.GetConfig(ctx, org, known); err == nil {
		t.Error("a known identity got the batch's configuration")
	}
}

// TestRecordIdentitiesSplitsAtTheTransactionLimit: 120 identities with
// configurations are 240 items: three transactions of at most 100 items.
func TestRecordIdentitiesSplitsAtTheTransactionLimit(t *testing.T) {
	calls := &dynamotest.Counter{}
	s := dynamostore.New(dynamotest.Client(t, calls.Option), dynamotest.NewTable(t))
	var idents []identity.Identity
	var configs []*uaconfig.Config
	for range 120 {
		id := uuid.NewString()
		c := newConfig(t, id)
		idents, configs = append(idents, identity.Identity{ID: id, OrgID: org, CreatedAt: time.Now()}), append(configs, &c)
	}
	for i, err := range s.RecordIdentities(ctx, idents, configs, "provisioner") {
		if err != nil {
			t.Fatalf("identity %d: %v", i, err)
		}
	}
	if got := calls.Calls(); got["TransactWriteItems"] != 3 || len(got) != 1 {
		t.Errorf("calls %v, want 3 TransactWriteItems", got)
	}
	for _, id := range idents {
		if _, err := s.GetConfig(ctx, org, id.ID); err != nil {
			t.Fatalf("%s: %v", id.ID, err)
		}
	}
}

// TestOrgDefaultsBatchReadsSeveralOrgsAtOnce: one BatchGetItem returns the
// defaults of the orgs that set some, and nothing for the others.
func TestOrgDefaultsBatchReadsSeveralOrgsAtOnce(t *testing.T) {
	calls := &dynamotest.Counter{}
	s := dynamostore.New(dynamotest.Client(t, calls.Option), dynamotest.NewTable(t))
	a, b, none := uuid.NewString(), uuid.NewString(), uuid.NewString()
	ca := uaconfig.InfisicalDefaults()
	ca.AccessTokenTTL = 60
	cb := uaconfig.InfisicalDefaults()
	cb.AccessTokenTTL = 120
	updated := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	if err := s.PutOrgDefaults(ctx, a, orgdefaults.Defaults{Config: ca, AutoAttach: true, UpdatedAt: updated}, "admin"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutOrgDefaults(ctx, b, orgdefaults.Defaults{Config: cb, AutoAttach: false, UpdatedAt: updated}, "admin"); err != nil {
		t.Fatal(err)
	}
	calls.Reset()
	got, bad, err := s.OrgDefaultsBatch(ctx, []string{a, b, none, a}) // a twice: one key
	if err != nil || len(bad) != 0 {
		t.Fatal(bad, err)
	}
	if calls.Total() != 1 {
		t.Errorf("%d calls, want one BatchGetItem", calls.Total())
	}
	if len(got) != 2 || got[a] == nil || got[b] == nil || got[none] != nil {
		t.Fatalf("got %v, want a and b only", got)
	}
	if got[a].Config.AccessTokenTTL != 60 || !got[a].AutoAttach || got[b].Config.AccessTokenTTL != 120 || got[b].AutoAttach ||
		got[a].Source != orgdefaults.SourceOrg || !got[a].UpdatedAt.Equal(updated) {
		t.Errorf("a = %+v, b = %+v", *got[a], *got[b])
	}
	for _, org := range []string{a, b} {
		one, err := s.OrgDefaults(ctx, org)
		if err != nil || !reflect.DeepEqual(one, got[org]) {
			t.Errorf("%s: OrgDefaults %+v, %v; OrgDefaultsBatch %+v", org, one, err, got[org])
		}
	}
}

// failingFor fails every transaction that would write one chosen identity,
// as a lasting 5xx would.
type failingFor struct {
	*dynamodb.Client
	victim string
}

func (f failingFor) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	for _, part := range in.TransactItems {
		if part.Put == nil {
			continue
		}
		if id, ok := part.Put.Item["identityId"].(*types.AttributeValueMemberS); ok && id.Value == f.victim {
			return nil, errors.New("injected: InternalServerError")
		}
	}
	return f.Client.TransactWriteItems(ctx, in, opts...)
}

// TestRecordIdentitiesIsolatesAFailure: when the batch's transaction
// fails for one identity, the others are written on their own, and only
// that one reports the failure.
func TestRecordIdentitiesIsolatesAFailure(t *testing.T) {
	db := dynamotest.Client(t)
	victim := uuid.NewString()
	s := dynamostore.New(failingFor{Client: db, victim: victim}, dynamotest.NewTable(t))
	ids := []string{uuid.NewString(), victim, uuid.NewString()}
	var idents []identity.Identity
	var configs []*uaconfig.Config
	for _, id := range ids {
		c := newConfig(t, id)
		idents, configs = append(idents, identity.Identity{ID: id, OrgID: org, CreatedAt: time.Now()}), append(configs, &c)
	}
	errs := s.RecordIdentities(ctx, idents, configs, "provisioner")
	for i, id := range ids {
		_, getErr := s.GetConfig(ctx, org, id)
		if id == victim {
			if errs[i] == nil || getErr == nil {
				t.Errorf("the failing identity: %v, and its configuration reads %v", errs[i], getErr)
			}
			continue
		}
		if errs[i] != nil || getErr != nil {
			t.Errorf("identity %d was held back by another's failure: %v, %v", i, errs[i], getErr)
		}
	}
}

// withheld leaves the first key of every BatchGetItem unprocessed, times
// times, as DynamoDB does under load.
type withheld struct {
	*dynamodb.Client
	times int
}

func (w *withheld) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	if w.times == 0 {
		return w.Client.BatchGetItem(ctx, in, opts...)
	}
	w.times--
	held := map[string]types.KeysAndAttributes{}
	rest := map[string]types.KeysAndAttributes{}
	for table, ka := range in.RequestItems {
		h, r := ka, ka
		h.Keys, r.Keys = ka.Keys[:1], ka.Keys[1:]
		held[table] = h
		if len(r.Keys) > 0 {
			rest[table] = r
		}
	}
	out := &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{}}
	if len(rest) > 0 {
		var err error
		if out, err = w.Client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: rest}, opts...); err != nil {
			return nil, err
		}
	}
	out.UnprocessedKeys = held
	return out, nil
}

// TestOrgDefaultsBatchAsksAgainForUnprocessedKeys: keys DynamoDB leaves
// unprocessed are asked for again; keys it keeps withholding end in an
// error after a bounded number of tries, not a loop until the deadline.
func TestOrgDefaultsBatchAsksAgainForUnprocessedKeys(t *testing.T) {
	db, table := dynamotest.Client(t), dynamotest.NewTable(t)
	orgs := []string{uuid.NewString(), uuid.NewString(), uuid.NewString()}
	for _, org := range orgs {
		if err := dynamostore.New(db, table).PutOrgDefaults(ctx, org, orgdefaults.Defaults{Config: uaconfig.InfisicalDefaults(), AutoAttach: true}, "admin"); err != nil {
			t.Fatal(err)
		}
	}
	w := &withheld{Client: db, times: 2}
	got, _, err := dynamostore.New(w, table).OrgDefaultsBatch(ctx, orgs)
	if err != nil || len(got) != 3 {
		t.Fatalf("got %d orgs' defaults, %v; want all 3", len(got), err)
	}
	w.times = 1000
	start := time.Now()
	if _, _, err := dynamostore.New(w, table).OrgDefaultsBatch(ctx, orgs); err == nil || !strings.Contains(err.Error(), "unprocessed") {
		t.Fatalf("err = %v, want keys still unprocessed", err)
	}
	if w.times < 1000-20 || time.Since(start) > 10*time.Second {
		t.Fatalf("%d tries in %v: not bounded", 1000-w.times, time.Since(start))
	}
}

// TestOrgDefaultsBatchIsolatesAnUnreadableOrg: an org whose item cannot be
// decoded is reported on its own; the others' defaults are still read.
func TestOrgDefaultsBatchIsolatesAnUnreadableOrg(t *testing.T) {
	db, table := dynamotest.Client(t), dynamotest.NewTable(t)
	s := dynamostore.New(db, table)
	good, broken := uuid.NewString(), uuid.NewString()
	if err := s.PutOrgDefaults(ctx, good, orgdefaults.Defaults{Config: uaconfig.InfisicalDefaults(), AutoAttach: true}, "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: map[string]types.AttributeValue{
		dynamostore.AttrPK: &types.AttributeValueMemberS{Value: "ORG#" + broken}, dynamostore.AttrSK: &types.AttributeValueMemberS{Value: "DEFAULTS"},
		"orgId": &types.AttributeValueMemberS{Value: broken}, "ua": &types.AttributeValueMemberS{Value: "not a map"},
		"autoAttach": &types.AttributeValueMemberS{Value: "yes"},
	}}); err != nil {
		t.Fatal(err)
	}
	got, bad, err := s.OrgDefaultsBatch(ctx, []string{good, broken})
	if err != nil || got[good] == nil || bad[broken] == nil || got[broken] != nil {
		t.Fatalf("got %v, bad %v, %v; want good read and broken reported", got, bad, err)
	}
}
