package dynamostore_test

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/uauth/uauth/pkg/clientsecret"
	"github.com/uauth/uauth/pkg/dynamostore"
	"github.com/uauth/uauth/pkg/dynamotest"
	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/uaconfig"
)

var errRefused = errors.New("refused by the guard")

// guardedOps are the store's operations that take a guard, on an identity
// that (except for attach) is configured and has the secret "s1".
var guardedOps = []struct {
	name       string
	configured bool
	op         func(s *dynamostore.Store, id string, g identity.Guard) error
}{
	{"attach", false, func(s *dynamostore.Store, id string, g identity.Guard) error {
		c, err := uaconfig.NewConfig(uaconfig.InfisicalDefaults(), id, uaconfig.Settings{}, time.Now())
		if err != nil {
			return err
		}
		return s.CreateConfig(ctx, org, c, "test", g)
	}},
	{"update", true, func(s *dynamostore.Store, id string, g identity.Guard) error {
		_, err := s.UpdateConfig(ctx, org, id, unchanged, "test", g)
		return err
	}},
	{"delete", true, func(s *dynamostore.Store, id string, g identity.Guard) error {
		_, err := s.DeleteConfig(ctx, org, id, time.Now(), "test", g)
		return err
	}},
	{"create secret", true, func(s *dynamostore.Store, id string, g identity.Guard) error {
		now := time.Now()
		_, err := s.CreateSecret(ctx, org, id, clientsecret.Secret{ID: uuid.NewString(), MAC: []byte("m"), CreatedAt: now, UpdatedAt: now}, "test", g)
		return err
	}},
	{"list secrets", true, func(s *dynamostore.Store, id string, g identity.Guard) error {
		_, err := s.ListSecrets(ctx, org, id, g)
		return err
	}},
	{"get secret", true, func(s *dynamostore.Store, id string, g identity.Guard) error {
		_, err := s.GetSecret(ctx, org, id, "s1", g)
		return err
	}},
	{"revoke secret", true, func(s *dynamostore.Store, id string, g identity.Guard) error {
		_, err := s.RevokeSecret(ctx, org, id, "s1", time.Now(), "test", g)
		return err
	}},
	{"clear lockouts", true, func(s *dynamostore.Store, id string, g identity.Guard) error {
		_, err := s.ClearLockouts(ctx, org, id, g)
		return err
	}},
}

// guardedIdentity records an identity holding perms, configured with the
// secret "s1" if configured.
func guardedIdentity(t *testing.T, s *dynamostore.Store, perms []string, configured bool) string {
	t.Helper()
	id := uuid.NewString()
	var c *uaconfig.Config
	if configured {
		cc := newConfig(t, id)
		c = &cc
	}
	if err := s.RecordIdentity(ctx, identity.Identity{ID: id, OrgID: org, Permissions: perms, PermissionsVersion: "0001", CreatedAt: time.Now()}, c, "test"); err != nil {
		t.Fatal(err)
	}
	if configured {
		cfg, err := s.GetConfig(ctx, org, id)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		if _, err := s.CreateSecret(ctx, org, id, clientsecret.Secret{ID: "s1", MAC: []byte("m"), CreatedAt: now, UpdatedAt: now}, "test", nil); err != nil {
			t.Fatalf("secret under %s: %v", cfg.ClientID, err)
		}
	}
	return id
}

// TestGuardSeesTheTargetsPermissions: the guard is applied to the
// permissions stored on the identity, and its refusal is returned as it
// is, with nothing written.
func TestGuardSeesTheTargetsPermissions(t *testing.T) {
	for _, tc := range guardedOps {
		t.Run(tc.name, func(t *testing.T) {
			s, db := newStore(t)
			id := guardedIdentity(t, s, []string{"a", "b"}, tc.configured)
			before := rawItem(t, s, db, id)
			var seen []string
			err := tc.op(s, id, func(perms []string) error { seen = perms; return errRefused })
			if !errors.Is(err, errRefused) {
				t.Fatalf("err = %v, want the guard's", err)
			}
			if !slices.Equal(seen, []string{"a", "b"}) {
				t.Fatalf("guard saw %v", seen)
			}
			if after := rawItem(t, s, db, id); !reflect.DeepEqual(before, after) {
				t.Fatal("a refused operation changed the identity")
			}
			if err := tc.op(s, id, func([]string) error { return nil }); err != nil {
				t.Fatalf("allowed: %v", err)
			}
		})
	}
}

// TestGuardedWritesHoldThePermissionsApproved: permissions that change
// between the guard's read and the write make the write fail, rather than
// act on an identity the guard never saw. The guard itself makes the change
// here, which is the worst timing a concurrent update could have.
func TestGuardedWritesHoldThePermissionsApproved(t *testing.T) {
	for _, tc := range guardedOps {
		if tc.name == "list secrets" || tc.name == "get secret" || tc.name == "revoke secret" || tc.name == "clear lockouts" {
			continue // they write nothing the identity's permissions could guard (see RevokeSecret)
		}
		t.Run(tc.name, func(t *testing.T) {
			s, db := newStore(t)
			id := guardedIdentity(t, s, []string{"a"}, tc.configured)
			calls := 0
			err := tc.op(s, id, func(perms []string) error {
				calls++
				if !slices.Equal(perms, []string{"a"}) {
					return errRefused // what a guard says of an upgraded identity
				}
				if err := s.SetPermissions(ctx, identity.Identity{ID: id, OrgID: org, Permissions: []string{"a", "admin"}, PermissionsVersion: "0002"}); err != nil {
					t.Fatal(err)
				}
				return nil
			})
			if !errors.Is(err, identity.ErrConflict) && !errors.Is(err, errRefused) {
				t.Fatalf("err = %v, want a conflict or, after a read again, the guard's refusal", err)
			}
			item := rawItem(t, s, db, id)
			if _, attached := item["ua"]; attached != tc.configured {
				t.Fatalf("the configuration was changed: attached = %v", attached)
			}
		})
	}
}

// TestNoGuardNoRead: without a guard (an org:admin caller) attach is one
// request, and revoke reads once only, for its answer.
func TestNoGuardNoRead(t *testing.T) {
	counter := &dynamotest.Counter{}
	s := dynamostore.New(dynamotest.Client(t, counter.Option), dynamotest.NewTable(t))
	id := guardedIdentity(t, s, nil, false)
	counter.Reset()
	if err := s.CreateConfig(ctx, org, newConfig(t, id), "test", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteConfig(ctx, org, id, time.Now(), "test", nil); err != nil {
		t.Fatal(err)
	}
	if got := counter.Calls(); !reflect.DeepEqual(got, map[string]int{"TransactWriteItems": 2, "GetItem": 1}) {
		t.Fatalf("requests %v, want two transactions and a read", got)
	}
}
