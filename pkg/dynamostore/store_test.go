package dynamostore_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"
	"github.com/uauth/uauth/pkg/dynamostore"
	"github.com/uauth/uauth/pkg/dynamotest"
	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/provisioner"
	"github.com/uauth/uauth/pkg/stack"
	"github.com/uauth/uauth/pkg/uaconfig"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

// The store is both the API's and the provisioner's port.
var (
	_ uaconfig.Store    = (*dynamostore.Store)(nil)
	_ provisioner.Store = (*dynamostore.Store)(nil)
)

const (
	org      = "11111111-1111-4111-8111-111111111111"
	otherOrg = "22222222-2222-4222-8222-222222222222"
)

var ctx = context.Background()

func newStore(t *testing.T) (*dynamostore.Store, *dynamodb.Client) {
	db := dynamotest.Client(t)
	return dynamostore.New(db, dynamotest.NewTable(t)), db
}

func rawItem(t *testing.T, s *dynamostore.Store, db *dynamodb.Client, id string) map[string]types.AttributeValue {
	t.Helper()
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), ConsistentRead: aws.Bool(true), Key: map[string]types.AttributeValue{
		dynamostore.AttrPK: &types.AttributeValueMemberS{Value: "IDENTITY#" + id},
		dynamostore.AttrSK: &types.AttributeValueMemberS{Value: "IDENTITY"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

func unchanged(c uaconfig.Config) (uaconfig.Config, error) { return c, nil }

func newConfig(t *testing.T, identityID string) uaconfig.Config {
	c, err := uaconfig.NewConfig(uaconfig.InfisicalDefaults(), identityID, uaconfig.Settings{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRecordIdentityIsIdempotent(t *testing.T) {
	s, db := newStore(t)
	id := uuid.NewString()
	ident := identity.Identity{ID: id, OrgID: org, Name: "ci", CreatedAt: time.Date(2026, 11, 7, 5, 31, 56, 0, time.UTC)}
	if err := s.RecordIdentity(ctx, ident, nil, "test"); err != nil {
		t.Fatal(err)
	}
	c := newConfig(t, id)
	if err := s.RecordIdentity(ctx, ident, &c, "test"); !errors.Is(err, identity.ErrExists) {
		t.Fatalf("second record: %v, want ErrIdentityExists", err)
	}
	item := rawItem(t, s, db, id)
	if _, attached := item["ua"]; attached {
		t.Fatal("a duplicate create attached a configuration to a known identity")
	}
	if item["orgId"].(*types.AttributeValueMemberS).Value != org || item["createdAt"].(*types.AttributeValueMemberS).Value != "2026-11-07T05:31:56Z" {
		t.Fatalf("item = %v", item)
	}
	if _, hasTTL := item[dynamostore.AttrExpiresAt]; hasTTL {
		t.Fatal("a live identity must not expire")
	}
}

func TestTombstone(t *testing.T) {
	s, db := newStore(t)
	id := uuid.NewString()
	c := newConfig(t, id)
	if err := s.RecordIdentity(ctx, identity.Identity{ID: id, OrgID: org, CreatedAt: time.Now()}, &c, "test"); err != nil {
		t.Fatal(err)
	}
	expires := time.Now().Add(time.Hour).Truncate(time.Second)
	if err := s.DeleteIdentity(ctx, id, otherOrg, time.Now(), expires, "test"); !errors.Is(err, identity.ErrOrgMismatch) {
		t.Fatalf("delete from another org: %v, want ErrOrgMismatch", err)
	}
	if err := s.DeleteIdentity(ctx, id, org, time.Now(), expires, "test"); err != nil {
		t.Fatal(err)
	}
	item := rawItem(t, s, db, id)
	ttlAttr, err := stack.TTLAttribute()
	if err != nil {
		t.Fatal(err)
	}
	n, ok := item[ttlAttr].(*types.AttributeValueMemberN)
	if !ok || n.Value != strconv.FormatInt(expires.Unix(), 10) {
		t.Fatalf("tombstone %s = %v, want epoch seconds %d in the table's TTL attribute", ttlAttr, item[ttlAttr], expires.Unix())
	}
	if _, attached := item["ua"]; attached {
		t.Fatal("the tombstone kept the configuration")
	}
	for name, op := range map[string]func() error{
		"attach": func() error { return s.CreateConfig(ctx, org, newConfig(t, id), "test", nil) },
		"get":    func() error { _, err := s.GetConfig(ctx, org, id); return err },
		"update": func() error { _, err := s.UpdateConfig(ctx, org, id, unchanged, "test", nil); return err },
		"delete": func() error { _, err := s.DeleteConfig(ctx, org, id, time.Now(), "test", nil); return err },
	} {
		if err := op(); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("%s on a tombstone: %v, want ErrIdentityNotFound", name, err)
		}
	}
	if err := s.RecordIdentity(ctx, identity.Identity{ID: id, OrgID: org, CreatedAt: time.Now()}, &c, "test"); !errors.Is(err, identity.ErrDeleted) {
		t.Fatalf("create after delete: %v, want ErrIdentityDeleted", err)
	}
}

func TestConfigRoundTripsThroughDynamoDB(t *testing.T) {
	s, _ := newStore(t)
	id := uuid.NewString()
	if err := s.RecordIdentity(ctx, identity.Identity{ID: id, OrgID: org, CreatedAt: time.Now()}, nil, "test"); err != nil {
		t.Fatal(err)
	}
	c := newConfig(t, id)
	ip, _ := uaconfig.ParseTrustedIP("192.168.1.5")
	c.AccessTokenTrustedIPs = uaconfig.TrustedIPs{ip}
	if err := s.CreateConfig(ctx, org, c, "test", nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetConfig(ctx, org, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.ClientID != c.ClientID || !got.CreatedAt.Equal(c.CreatedAt) || got.AccessTokenTrustedIPs[0].Prefix != nil ||
		*got.ClientSecretTrustedIPs[0].Prefix != 0 || got.LockoutThreshold != 3 {
		t.Fatalf("got %+v\nwant %+v", got, c)
	}
	if _, err := s.GetConfig(ctx, otherOrg, id); !errors.Is(err, identity.ErrNotFound) {
		t.Fatalf("other org: %v", err)
	}
}

func TestEnsureTableIsIdempotentAndEnablesTTL(t *testing.T) {
	s, db := newStore(t) // NewTable already ran EnsureTable once
	in, err := stack.TableInput(s.Table)
	if err != nil {
		t.Fatal(err)
	}
	ttlAttr, _ := stack.TTLAttribute()
	if err := dynamostore.EnsureTable(ctx, db, in, ttlAttr); err != nil {
		t.Fatalf("second EnsureTable: %v", err)
	}
	out, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(s.Table)})
	if err != nil {
		t.Fatal(err)
	}
	if d := out.TimeToLiveDescription; d.TimeToLiveStatus != types.TimeToLiveStatusEnabled || aws.ToString(d.AttributeName) != dynamostore.AttrExpiresAt {
		t.Fatalf("TTL = %+v", d)
	}
}

// lossyTransport delivers every request to DynamoDB Local but, once,
// replaces the response to a committed TransactWriteItems with a retryable 500:
// what a response lost on the network looks like to the SDK.
type lossyTransport struct {
	dropped atomic.Bool
}

func (l *lossyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || !strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".TransactWriteItems") || !l.dropped.CompareAndSwap(false, true) {
		return resp, err
	}
	resp.Body.Close()
	return &http.Response{
		StatusCode: http.StatusInternalServerError, Request: r,
		Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
		Body:   io.NopCloser(strings.NewReader(`{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"response lost"}`)),
	}, nil
}

func TestAttachSurvivesARetryAfterCommit(t *testing.T) {
	calls := &dynamotest.Counter{}
	db := dynamotest.Client(t, calls.Option, func(o *dynamodb.Options) {
		o.HTTPClient = &http.Client{Transport: &lossyTransport{}}
	})
	s := dynamostore.New(db, dynamotest.NewTable(t))
	id := uuid.NewString()
	if err := s.RecordIdentity(ctx, identity.Identity{ID: id, OrgID: org, CreatedAt: time.Now()}, nil, "test"); err != nil {
		t.Fatal(err)
	}
	c := newConfig(t, id)
	if err := s.CreateConfig(ctx, org, c, "test", nil); err != nil {
		t.Fatalf("attach whose first response was lost: %v, want success", err)
	}
	if n := calls.Calls()["TransactWriteItems"]; n != 2 {
		t.Fatalf("TransactWriteItems went out %d times, want 2 (the lost one and the retry)", n)
	}
	// A different attach still finds the identity configured.
	if err := s.CreateConfig(ctx, org, newConfig(t, id), "test", nil); !errors.Is(err, uaconfig.ErrAlreadyConfigured) {
		t.Fatalf("second attach: %v, want ErrAlreadyConfigured", err)
	}
}

func TestRecordIdentityInAnotherOrg(t *testing.T) {
	s, _ := newStore(t)
	id := uuid.NewString()
	if err := s.RecordIdentity(ctx, identity.Identity{ID: id, OrgID: org, CreatedAt: time.Now()}, nil, "test"); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordIdentity(ctx, identity.Identity{ID: id, OrgID: otherOrg, CreatedAt: time.Now()}, nil, "test"); !errors.Is(err, identity.ErrOrgMismatch) {
		t.Fatalf("got %v, want ErrOrgMismatch", err)
	}
}
