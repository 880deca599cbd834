package orgdefaults_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/uauth/uauth/pkg/orgdefaults"
	"github.com/uauth/uauth/pkg/uaconfig"
	"github.com/uauth/uauth/pkg/uaconfig/uaconfigtest"
	"github.com/uauth/uauth/pkg/validation"
)

const identityID = "8c1f4b8e-5d2a-4b7e-9f3c-2a6d1e0b7c45"

var deployment = orgdefaults.Deployment(uaconfig.InfisicalDefaults(), true)

// TestMalformedTrustedIPLists: org defaults (PUT) and an event's override
// refuse what the attach decoder refuses, with the same issues; neither
// falls back to the defaults' list, which admits every address.
func TestMalformedTrustedIPLists(t *testing.T) {
	for _, c := range uaconfigtest.Cases() {
		_, _, err := orgdefaults.Decode([]byte(c.Body))
		if err := c.Check(err); err != nil {
			t.Errorf("Decode, %s: %v", c.Name, err)
		}
		_, err = orgdefaults.Choose(deployment, identityID, jsontext.Value(c.Body))
		if err := c.Check(err); err != nil {
			t.Errorf("Choose, %s: %v", c.Name, err)
		}
	}
}

func TestDecode(t *testing.T) {
	s, auto, err := orgdefaults.Decode([]byte(`{"accessTokenTTL": 60, "autoAttach": false, "unknown": 1}`))
	if err != nil || auto || !s.Has(uaconfig.AccessTokenTTL) || s.Values().AccessTokenTTL != 60 {
		t.Fatalf("Decode = %+v, %v, %v", s, auto, err)
	}
	if _, auto, err := orgdefaults.Decode(nil); err != nil || !auto {
		t.Fatalf("empty body: autoAttach %v, %v; want true", auto, err)
	}
	// A null list is not given: the deployment's applies.
	if s, _, err := orgdefaults.Decode([]byte(`{"accessTokenTrustedIps": null}`)); err != nil || !s.Empty() {
		t.Fatalf("null list: %+v, %v; want nothing given", s, err)
	}
	var v *validation.Error
	if _, _, err := orgdefaults.Decode([]byte(`{"autoAttach": "yes"}`)); !errors.As(err, &v) || v.Issues[0].Path != "autoAttach" {
		t.Fatalf("autoAttach not a boolean: %v", err)
	}
}

func TestChoose(t *testing.T) {
	org := orgdefaults.Defaults{Config: uaconfig.InfisicalDefaults(), AutoAttach: false, Source: orgdefaults.SourceOrg}
	org.Config.AccessTokenTTL = 120
	cases := []struct {
		name     string
		d        orgdefaults.Defaults
		override string
		attach   bool
		ttl      int64
	}{
		{"no override: the defaults", deployment, ``, true, 2592000},
		{"null override: the defaults", deployment, `null`, true, 2592000},
		{"org defaults that do not attach", org, ``, false, 120},
		{"false: nothing attached", deployment, `false`, false, 0},
		{"an object over the org's defaults, attached anyway", org, `{"accessTokenMaxTTL": 600}`, true, 120},
	}
	for _, tc := range cases {
		c, err := orgdefaults.Choose(tc.d, identityID, jsontext.Value(tc.override))
		if err != nil || c.Attach != tc.attach || (tc.attach && c.Defaults.AccessTokenTTL != tc.ttl) || c.Why == "" {
			t.Errorf("%s: %+v, %v", tc.name, c, err)
		}
	}
	for _, bad := range []string{`true`, `1`, `"x"`, `[]`, `{"accessTokenTTL": 700, "accessTokenMaxTTL": 600}`, `{"identityId": "11111111-1111-4111-8111-111111111111"}`} {
		if _, err := orgdefaults.Choose(deployment, identityID, jsontext.Value(bad)); err == nil {
			t.Errorf("override %s accepted", bad)
		}
	}
}

// fakeStore keeps one org's defaults.
type fakeStore struct {
	orgdefaults.Store
	d   *orgdefaults.Defaults
	err error
}

func (f *fakeStore) OrgDefaults(context.Context, string) (*orgdefaults.Defaults, error) {
	return f.d, f.err
}
func (f *fakeStore) PutOrgDefaults(_ context.Context, _ string, d orgdefaults.Defaults, _ string) error {
	f.d = &d
	return f.err
}
func (f *fakeStore) DeleteOrgDefaults(context.Context, string, string) error { f.d = nil; return f.err }

func TestServicePutGetDelete(t *testing.T) {
	store := &fakeStore{}
	now := time.Date(2036, 1, 2, 3, 4, 5, 678901234, time.UTC)
	svc := &orgdefaults.Service{Store: store, Deployment: deployment, Now: func() time.Time { return now }}
	ctx := context.Background()
	if d, err := svc.Get(ctx, "org"); err != nil || d.Source != orgdefaults.SourceDeployment {
		t.Fatalf("Get before any Put: %+v, %v", d, err)
	}
	put := func(body string) (orgdefaults.Defaults, error) {
		s, autoAttach, err := orgdefaults.Decode([]byte(body))
		if err != nil {
			t.Fatalf("Decode(%s): %v", body, err)
		}
		return svc.Put(ctx, "org", s, autoAttach, "admin")
	}
	d, err := put(`{"accessTokenTTL": 60}`)
	if err != nil || d.Source != orgdefaults.SourceOrg || !d.AutoAttach || d.Config.AccessTokenTTL != 60 ||
		d.Config.AccessTokenMaxTTL != 2592000 || !d.UpdatedAt.Equal(uaconfig.WireTime(now)) {
		t.Fatalf("Put = %+v, %v", d, err)
	}
	if got, _ := svc.Get(ctx, "org"); got.Config.AccessTokenTTL != 60 {
		t.Fatalf("Get after Put: %+v", got)
	}
	// Put replaces as a whole: a field left out is the deployment's again.
	if d, _ := put(`{"lockoutThreshold": 5}`); d.Config.AccessTokenTTL != 2592000 || d.Config.LockoutThreshold != 5 {
		t.Fatalf("Put kept a field left out: %+v", d)
	}
	if _, err := put(`{"accessTokenTTL": 700, "accessTokenMaxTTL": 600}`); !errors.Is(err, uaconfig.ErrTTLExceedsMax) {
		t.Fatalf("TTL above max: %v", err)
	}
	if d, err := svc.Delete(ctx, "org", "admin"); err != nil || d.Source != orgdefaults.SourceDeployment || store.d != nil {
		t.Fatalf("Delete = %+v, %v", d, err)
	}
	store.err = errors.New("down")
	if _, err := svc.Get(ctx, "org"); !errors.Is(err, store.err) {
		t.Fatalf("Get with the store down: %v", err)
	}
}
