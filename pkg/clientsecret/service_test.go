package clientsecret_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uauth/uauth/pkg/clientsecret"
	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/uaconfig"
)

const (
	org      = "4a1b2c3d-0000-4000-8000-000000000001"
	idA      = "4a1b2c3d-0000-4000-8000-0000000000a1"
	idNoUA   = "4a1b2c3d-0000-4000-8000-0000000000a2"
	clientID = "client-a"
	configID = "config-a"
)

// fakeStore is an in-memory clientsecret.Store with one organization, one
// identity with a configuration (idA) and one without (idNoUA). It records
// the arguments it was called with.
type fakeStore struct {
	perms   []string // idA's permissions, shown to the guard
	secrets []clientsecret.Secret
	created []clientsecret.Secret // what CreateSecret was given
	actors  []string
	nows    []time.Time
	fail    error // returned by every method, when set
}

func (f *fakeStore) scope(orgID, identityID string, guard identity.Guard) error {
	switch {
	case f.fail != nil:
		return f.fail
	case orgID != org || (identityID != idA && identityID != idNoUA):
		return identity.ErrNotFound
	}
	if guard != nil {
		if err := guard(f.perms); err != nil {
			return err
		}
	}
	if identityID == idNoUA {
		return uaconfig.ErrNotConfigured
	}
	return nil
}

func (f *fakeStore) CreateSecret(_ context.Context, orgID, identityID string, s clientsecret.Secret, actor string, guard identity.Guard) (clientsecret.Secret, error) {
	if err := f.scope(orgID, identityID, guard); err != nil {
		return clientsecret.Secret{}, err
	}
	f.created = append(f.created, s)
	f.actors = append(f.actors, actor)
	s.ClientID, s.ConfigID = clientID, configID
	f.secrets = append(f.secrets, s)
	return s, nil
}

func (f *fakeStore) ListSecrets(_ context.Context, orgID, identityID string, guard identity.Guard) ([]clientsecret.Secret, error) {
	if err := f.scope(orgID, identityID, guard); err != nil {
		return nil, err
	}
	out := []clientsecret.Secret{}
	for _, s := range f.secrets {
		if !s.Revoked {
			out = append(out, s)
		}
	}
	return out, nil
}

func (f *fakeStore) GetSecret(_ context.Context, orgID, identityID, secretID string, guard identity.Guard) (clientsecret.Secret, error) {
	if err := f.scope(orgID, identityID, guard); err != nil {
		return clientsecret.Secret{}, err
	}
	for _, s := range f.secrets {
		if s.ID == secretID {
			return s, nil
		}
	}
	return clientsecret.Secret{}, &clientsecret.NotFoundError{ID: secretID}
}

func (f *fakeStore) RevokeSecret(_ context.Context, orgID, identityID, secretID string, now time.Time, actor string, guard identity.Guard) (clientsecret.Secret, error) {
	if err := f.scope(orgID, identityID, guard); err != nil {
		return clientsecret.Secret{}, err
	}
	f.nows = append(f.nows, now)
	f.actors = append(f.actors, actor)
	for i, s := range f.secrets {
		if s.ID == secretID {
			if !s.Revoked {
				f.secrets[i].Revoked, f.secrets[i].UpdatedAt = true, now
			}
			return f.secrets[i], nil
		}
	}
	return clientsecret.Secret{}, &clientsecret.NotFoundError{ID: secretID}
}

var _ clientsecret.Store = (*fakeStore)(nil)

// clock is a time with nanoseconds, in a zone other than UTC.
var clock = time.Date(2024, 5, 1, 14, 30, 15, 123456789, time.FixedZone("CEST", 2*3600))

func service(t *testing.T) (*clientsecret.Service, *fakeStore) {
	t.Helper()
	store := &fakeStore{perms: []string{"secrets:write"}}
	return &clientsecret.Service{Store: store, Hasher: hasher(t, keyA), Now: func() time.Time { return clock }}, store
}

// wireClock is clock as stored and shown: UTC, whole milliseconds.
var wireClock = time.Date(2024, 5, 1, 12, 30, 15, 123000000, time.UTC)

func TestCreateReturnsTheSecretOnceAndStoresOnlyItsMACAndPrefix(t *testing.T) {
	svc, store := service(t)
	ctx := context.Background()
	req := clientsecret.CreateRequest{Description: "ci", NumUsesLimit: 3, TTL: 600}
	secret, rec, err := svc.Create(ctx, org, idA, req, "user:alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !lowerHex64.MatchString(secret) {
		t.Fatalf("secret %q is not 64 lower-case hex characters", secret)
	}
	h := hasher(t, keyA)
	want := clientsecret.Secret{
		ID: h.ID(secret), Description: "ci", Prefix: secret[:4], MAC: h.MAC(secret),
		NumUsesLimit: 3, TTL: 600, CreatedAt: wireClock, UpdatedAt: wireClock,
	}
	if len(store.created) != 1 || !reflect.DeepEqual(store.created[0], want) {
		t.Fatalf("stored %+v\nwant   %+v", store.created, want)
	}
	if got := store.created[0].CreatedAt; got.Location() != time.UTC || !got.Equal(wireClock) {
		t.Errorf("CreatedAt %v (%v), want %v in UTC", got, got.Location(), wireClock)
	}
	if store.actors[0] != "user:alice" {
		t.Errorf("actor %q, want user:alice", store.actors[0])
	}
	want.ClientID, want.ConfigID = clientID, configID // the store's answer
	if !reflect.DeepEqual(rec, want) {
		t.Errorf("record %+v\nwant   %+v", rec, want)
	}
	if !h.Matches(secret, store.created[0].MAC) {
		t.Error("the stored MAC does not match the secret returned")
	}
	// The secret itself is in no field of what was stored.
	stored := reflect.ValueOf(store.created[0])
	for i := range stored.NumField() {
		f := stored.Field(i)
		if (f.Kind() == reflect.String && strings.Contains(f.String(), secret[4:])) ||
			(f.Kind() == reflect.Slice && bytes.Contains(f.Bytes(), []byte(secret[4:]))) {
			t.Errorf("field %s holds the secret", stored.Type().Field(i).Name)
		}
	}
	// Nothing read afterwards shows it again.
	list, err := svc.List(ctx, org, idA, nil)
	if err != nil || len(list) != 1 || !reflect.DeepEqual(list[0], rec) {
		t.Errorf("List = %+v, %v; want [%+v]", list, err, rec)
	}
}

func TestCreateMakesADifferentSecretEachTime(t *testing.T) {
	svc, store := service(t)
	ids := map[string]bool{}
	secrets := map[string]bool{}
	for range 5 {
		secret, rec, err := svc.Create(context.Background(), org, idA, clientsecret.CreateRequest{}, "a", nil)
		if err != nil {
			t.Fatal(err)
		}
		if secrets[secret] || ids[rec.ID] {
			t.Fatalf("secret %s or id %s repeated", secret, rec.ID)
		}
		secrets[secret], ids[rec.ID] = true, true
	}
	if len(store.secrets) != 5 {
		t.Errorf("%d secrets stored, want 5", len(store.secrets))
	}
}

func TestCreateFailsWithTheStoresError(t *testing.T) {
	denied := errors.New("denied")
	deny := func([]string) error { return denied }
	for _, c := range []struct {
		org, identity string
		guard         identity.Guard
		want          error
	}{
		{org, idNoUA, nil, uaconfig.ErrNotConfigured},
		{org, "4a1b2c3d-0000-4000-8000-0000000000ff", nil, identity.ErrNotFound},
		{"other-org", idA, nil, identity.ErrNotFound},
		{org, idA, deny, denied},
	} {
		svc, store := service(t)
		secret, rec, err := svc.Create(context.Background(), c.org, c.identity, clientsecret.CreateRequest{TTL: 5}, "a", c.guard)
		if !errors.Is(err, c.want) {
			t.Errorf("Create(%s, %s) error %v, want %v", c.org, c.identity, err, c.want)
		}
		if secret != "" || !reflect.DeepEqual(rec, clientsecret.Secret{}) {
			t.Errorf("Create(%s, %s) failed but returned %q, %+v", c.org, c.identity, secret, rec)
		}
		if len(store.secrets) != 0 {
			t.Errorf("Create(%s, %s) failed but stored %+v", c.org, c.identity, store.secrets)
		}
	}
}

func TestServicePassesTheGuardToTheStore(t *testing.T) {
	svc, _ := service(t)
	ctx := context.Background()
	var seen [][]string
	guard := func(perms []string) error {
		seen = append(seen, perms)
		return nil
	}
	_, rec, err := svc.Create(ctx, org, idA, clientsecret.CreateRequest{}, "a", guard)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.List(ctx, org, idA, guard); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Get(ctx, org, idA, rec.ID, guard); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Revoke(ctx, org, idA, rec.ID, "a", guard); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 4 || !slices.Equal(seen[3], []string{"secrets:write"}) {
		t.Errorf("guard called with %q, want the identity's permissions 4 times", seen)
	}
	denied := errors.New("denied")
	deny := func([]string) error { return denied }
	if _, err := svc.List(ctx, org, idA, deny); !errors.Is(err, denied) {
		t.Errorf("List with a denying guard: %v", err)
	}
	if _, err := svc.Get(ctx, org, idA, rec.ID, deny); !errors.Is(err, denied) {
		t.Errorf("Get with a denying guard: %v", err)
	}
	if _, err := svc.Revoke(ctx, org, idA, rec.ID, "a", deny); !errors.Is(err, denied) {
		t.Errorf("Revoke with a denying guard: %v", err)
	}
}

func TestListGetAndRevoke(t *testing.T) {
	svc, store := service(t)
	ctx := context.Background()
	_, first, err := svc.Create(ctx, org, idA, clientsecret.CreateRequest{Description: "one"}, "a", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, second, err := svc.Create(ctx, org, idA, clientsecret.CreateRequest{Description: "two"}, "a", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := svc.Get(ctx, org, idA, second.ID, nil); err != nil || !reflect.DeepEqual(got, second) {
		t.Errorf("Get = %+v, %v; want %+v", got, err, second)
	}

	// Revoke, at the service's clock in wire form, by the actor.
	clock2 := clock.Add(90*time.Second + 999999*time.Nanosecond)
	svc.Now = func() time.Time { return clock2 }
	revoked, err := svc.Revoke(ctx, org, idA, first.ID, "user:bob", nil)
	if err != nil {
		t.Fatal(err)
	}
	wantNow := uaconfig.WireTime(clock2)
	if len(store.nows) != 1 || !store.nows[0].Equal(wantNow) || store.nows[0].Location() != time.UTC || store.actors[len(store.actors)-1] != "user:bob" {
		t.Errorf("RevokeSecret given now %v, actor %q; want %v (UTC), user:bob", store.nows, store.actors, wantNow)
	}
	if !revoked.Revoked || revoked.ID != first.ID || !revoked.UpdatedAt.Equal(wantNow) || !revoked.CreatedAt.Equal(first.CreatedAt) {
		t.Errorf("Revoke = %+v", revoked)
	}
	// A revoked secret is not listed, and can still be read.
	if list, err := svc.List(ctx, org, idA, nil); err != nil || len(list) != 1 || list[0].ID != second.ID {
		t.Errorf("List after a revoke = %+v, %v; want only %s", list, err, second.ID)
	}
	if got, err := svc.Get(ctx, org, idA, first.ID, nil); err != nil || !got.Revoked {
		t.Errorf("Get of the revoked secret = %+v, %v", got, err)
	}
	// Revoking again answers the same record.
	svc.Now = func() time.Time { return clock2.Add(time.Hour) }
	again, err := svc.Revoke(ctx, org, idA, first.ID, "user:bob", nil)
	if err != nil || !reflect.DeepEqual(again, revoked) {
		t.Errorf("second Revoke = %+v, %v; want %+v", again, err, revoked)
	}

	// Unknown ids.
	const unknown = "00000000-0000-8000-8000-000000000000"
	var nf *clientsecret.NotFoundError
	if _, err := svc.Get(ctx, org, idA, unknown, nil); !errors.As(err, &nf) || nf.ID != unknown {
		t.Errorf("Get(unknown) error %v, want *NotFoundError for it", err)
	}
	if _, err := svc.Revoke(ctx, org, idA, unknown, "a", nil); !errors.As(err, &nf) || nf.ID != unknown {
		t.Errorf("Revoke(unknown) error %v, want *NotFoundError for it", err)
	}
	// Scope errors pass through.
	for name, call := range map[string]func() error{
		"List":   func() error { _, err := svc.List(ctx, org, idNoUA, nil); return err },
		"Get":    func() error { _, err := svc.Get(ctx, org, idNoUA, first.ID, nil); return err },
		"Revoke": func() error { _, err := svc.Revoke(ctx, org, idNoUA, first.ID, "a", nil); return err },
	} {
		if err := call(); !errors.Is(err, uaconfig.ErrNotConfigured) {
			t.Errorf("%s without a configuration: %v", name, err)
		}
	}
	store.fail = errors.New("dynamodb down")
	if list, err := svc.List(ctx, org, idA, nil); !errors.Is(err, store.fail) || list != nil {
		t.Errorf("List with a failing store = %v, %v", list, err)
	}
}

// Without a clock, the service uses the time, in wire form.
func TestServiceWithoutAClockUsesTheTime(t *testing.T) {
	store := &fakeStore{}
	svc := &clientsecret.Service{Store: store, Hasher: hasher(t, keyA)}
	before := time.Now().Truncate(time.Millisecond)
	_, rec, err := svc.Create(context.Background(), org, idA, clientsecret.CreateRequest{}, "a", nil)
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Revoke(context.Background(), org, idA, rec.ID, "a", nil); err != nil {
		t.Fatal(err)
	}
	for _, got := range []time.Time{rec.CreatedAt, rec.UpdatedAt, store.nows[0]} {
		if got.Before(before) || got.After(after) || got.Location() != time.UTC || got.Nanosecond()%int(time.Millisecond) != 0 {
			t.Errorf("time %v: want UTC whole milliseconds between %v and %v", got, before, after)
		}
	}
}
