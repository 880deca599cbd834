package uaconfig_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/uaconfig"
)

// memStore keeps configurations in memory and counts what it is asked.
type memStore struct {
	configs map[string]uaconfig.Config
	err     error // returned by every call when set
	calls   int
	actor   string
}

func (m *memStore) CreateConfig(_ context.Context, _ string, c uaconfig.Config, actor string, _ identity.Guard) error {
	m.calls++
	if m.err != nil {
		return m.err
	}
	if _, ok := m.configs[c.IdentityID]; ok {
		return uaconfig.ErrAlreadyConfigured
	}
	m.configs[c.IdentityID], m.actor = c, actor
	return nil
}

func (m *memStore) GetConfig(_ context.Context, _, identityID string) (uaconfig.Config, error) {
	m.calls++
	c, ok := m.configs[identityID]
	if !ok {
		return uaconfig.Config{}, &uaconfig.NotFoundError{IdentityID: identityID}
	}
	return c, m.err
}

func (m *memStore) UpdateConfig(_ context.Context, _, identityID string, change func(uaconfig.Config) (uaconfig.Config, error), actor string, _ identity.Guard) (uaconfig.Config, error) {
	m.calls++
	c, ok := m.configs[identityID]
	if !ok {
		return uaconfig.Config{}, &uaconfig.NotFoundError{IdentityID: identityID}
	}
	c, err := change(c)
	if err != nil {
		return uaconfig.Config{}, err
	}
	m.configs[identityID], m.actor = c, actor
	return c, nil
}

func (m *memStore) DeleteConfig(_ context.Context, _, identityID string, _ time.Time, actor string, _ identity.Guard) (uaconfig.Config, error) {
	m.calls++
	c, ok := m.configs[identityID]
	if !ok {
		return uaconfig.Config{}, uaconfig.ErrNotConfigured
	}
	delete(m.configs, identityID)
	m.actor = actor
	return c, nil
}

const (
	org = "11111111-1111-4111-8111-111111111111"
	id  = "8c1f4b8e-5d2a-4b7e-9f3c-2a6d1e0b7c45"
)

func settings(t *testing.T, body string) uaconfig.Settings {
	t.Helper()
	s, err := uaconfig.DecodeSettings([]byte(body), id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestServiceAttach: an attach stores the settings over the service's
// defaults, stamped with the service's clock at wire precision; a TTL
// above the max TTL is refused before the store is asked; the store's
// refusal is returned as it is.
func TestServiceAttach(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2036, 1, 2, 3, 4, 5, 678901234, time.FixedZone("X", 3600))
	store := &memStore{configs: map[string]uaconfig.Config{}}
	svc := &uaconfig.Service{Store: store, Defaults: uaconfig.InfisicalDefaults(), Now: func() time.Time { return now }}

	if _, err := svc.Attach(ctx, org, id, settings(t, `{"accessTokenTTL": 700, "accessTokenMaxTTL": 600}`), "tf", nil); !errors.Is(err, uaconfig.ErrTTLExceedsMax) || store.calls != 0 {
		t.Fatalf("TTL above max: %v, %d store calls", err, store.calls)
	}
	c, err := svc.Attach(ctx, org, id, settings(t, `{"accessTokenTTL": 60}`), "tf", nil)
	if err != nil || c.AccessTokenTTL != 60 || c.AccessTokenMaxTTL != uaconfig.InfisicalDefaults().AccessTokenMaxTTL ||
		c.IdentityID != id || c.ClientID == "" || !c.CreatedAt.Equal(uaconfig.WireTime(now)) || c.CreatedAt.Location() != time.UTC {
		t.Fatalf("Attach = %+v, %v", c, err)
	}
	if got, err := svc.Get(ctx, org, id); err != nil || !reflect.DeepEqual(got, c) || store.actor != "tf" {
		t.Fatalf("stored %+v (%v) by %q, want %+v by tf", got, err, store.actor, c)
	}
	if _, err := svc.Attach(ctx, org, id, settings(t, `{}`), "tf", nil); !errors.Is(err, uaconfig.ErrAlreadyConfigured) {
		t.Fatalf("second attach: %v", err)
	}
	var nf *uaconfig.NotFoundError
	if _, err := svc.Get(ctx, org, "other"); !errors.As(err, &nf) || nf.Error() != "Failed to find universal auth for identity with ID other" {
		t.Fatalf("Get of an identity without a configuration: %v", err)
	}

	// Without a clock, the service stamps the time of day.
	before := time.Now()
	c, err = (&uaconfig.Service{Store: &memStore{configs: map[string]uaconfig.Config{}}, Defaults: uaconfig.InfisicalDefaults()}).
		Attach(ctx, org, id, settings(t, `{}`), "tf", nil)
	if err != nil || c.CreatedAt.Before(before.Add(-time.Millisecond)) || c.CreatedAt.After(time.Now()) {
		t.Fatalf("Attach without a clock: %+v, %v", c.CreatedAt, err)
	}
}

// TestServiceUpdate: an update changes only the fields it sets and stamps
// UpdatedAt; the TTL rule holds for the merged result, and when the update
// sets both TTL and max TTL it is checked before the store is asked.
func TestServiceUpdate(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2036, 1, 2, 3, 4, 5, 0, time.UTC)
	now := t0
	store := &memStore{configs: map[string]uaconfig.Config{}}
	svc := &uaconfig.Service{Store: store, Defaults: uaconfig.InfisicalDefaults(), Now: func() time.Time { return now }}
	attached, err := svc.Attach(ctx, org, id, settings(t, `{"accessTokenTTL": 60, "accessTokenMaxTTL": 600}`), "tf", nil)
	if err != nil {
		t.Fatal(err)
	}
	now = t0.Add(time.Minute)

	store.calls = 0
	if _, err := svc.Update(ctx, org, id, settings(t, `{"accessTokenTTL": 700, "accessTokenMaxTTL": 600}`), "tf", nil); !errors.Is(err, uaconfig.ErrTTLExceedsMax) || store.calls != 0 {
		t.Fatalf("both set, TTL above max: %v, %d store calls", err, store.calls)
	}
	if _, err := svc.Update(ctx, org, id, settings(t, `{"accessTokenTTL": 601}`), "tf", nil); !errors.Is(err, uaconfig.ErrTTLExceedsMax) {
		t.Fatalf("TTL above the stored max: %v", err)
	}
	if got, _ := svc.Get(ctx, org, id); !reflect.DeepEqual(got, attached) {
		t.Fatalf("a refused update wrote %+v", got)
	}

	c, err := svc.Update(ctx, org, id, settings(t, `{"accessTokenTTL": 900, "accessTokenMaxTTL": 1000}`), "admin", nil)
	if err != nil || c.AccessTokenTTL != 900 || c.AccessTokenMaxTTL != 1000 || c.ClientID != attached.ClientID ||
		!c.CreatedAt.Equal(t0) || !c.UpdatedAt.Equal(now) || store.actor != "admin" {
		t.Fatalf("Update = %+v, %v", c, err)
	}
	if c, err = svc.Update(ctx, org, id, settings(t, `{"accessTokenMaxTTL": 0}`), "admin", nil); err != nil || c.AccessTokenTTL != 900 || c.AccessTokenMaxTTL != 0 {
		t.Fatalf("max TTL 0, no maximum: %+v, %v", c, err)
	}

	if c, err := svc.Revoke(ctx, org, id, "admin", nil); err != nil || c.ClientID != attached.ClientID {
		t.Fatalf("Revoke = %+v, %v", c, err)
	}
	if _, err := svc.Revoke(ctx, org, id, "admin", nil); !errors.Is(err, uaconfig.ErrNotConfigured) {
		t.Fatalf("second Revoke: %v", err)
	}
}
