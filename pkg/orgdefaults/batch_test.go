package orgdefaults_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/uauth/uauth/pkg/orgdefaults"
)

// batchStore answers OrgDefaultsBatch from fixed maps, keeping what it
// was asked.
type batchStore struct {
	orgdefaults.Store
	found map[string]*orgdefaults.Defaults
	bad   map[string]error
	err   error
	asked [][]string
}

func (b *batchStore) OrgDefaultsBatch(_ context.Context, orgIDs []string) (map[string]*orgdefaults.Defaults, map[string]error, error) {
	b.asked = append(b.asked, orgIDs)
	return b.found, b.bad, b.err
}

// TestGetBatch: each org asked for gets its own defaults if it set some,
// the deployment's if not; an org whose defaults cannot be read back is in
// bad and not in the result; a failed read is an error and nothing else.
func TestGetBatch(t *testing.T) {
	own := orgdefaults.Defaults{AutoAttach: false, Source: orgdefaults.SourceOrg, UpdatedAt: time.Date(2036, 1, 2, 3, 4, 5, 0, time.UTC)}
	own.Config.AccessTokenTTL = 60
	broken := errors.New("unreadable item")
	store := &batchStore{
		found: map[string]*orgdefaults.Defaults{"set": &own},
		bad:   map[string]error{"broken": broken},
	}
	svc := &orgdefaults.Service{Store: store, Deployment: deployment}
	ctx := context.Background()

	orgs := []string{"set", "unset", "broken", "set"}
	all, bad, err := svc.GetBatch(ctx, orgs)
	if err != nil {
		t.Fatal(err)
	}
	if len(store.asked) != 1 || !reflect.DeepEqual(store.asked[0], orgs) {
		t.Fatalf("the store was asked %v, want one read of %v", store.asked, orgs)
	}
	want := map[string]orgdefaults.Defaults{"set": own, "unset": deployment}
	if !reflect.DeepEqual(all, want) {
		t.Fatalf("all = %+v,\nwant %+v", all, want)
	}
	if len(bad) != 1 || !errors.Is(bad["broken"], broken) {
		t.Fatalf("bad = %v", bad)
	}

	store.err = errors.New("down")
	if all, bad, err := svc.GetBatch(ctx, orgs); !errors.Is(err, store.err) || all != nil || bad != nil {
		t.Fatalf("store down: %v, %v, %v", all, bad, err)
	}
}
