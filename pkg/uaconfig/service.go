package uaconfig

import (
	"context"
	"time"

	"github.com/uauth/uauth/pkg/identity"
)

// Store persists configurations. Every method is scoped to an organization:
// an identity that does not exist, was deleted, or belongs to another
// organization is identity.ErrNotFound. actor is who makes the change (a
// token's subject, or "provisioner"); it is recorded with the change.
// guard is the actor's permission boundary: the store applies it to the
// identity's permissions once the identity is found, and writes only if
// they are still the ones it approved (identity.ErrConflict if they
// changed meanwhile).
type Store interface {
	// CreateConfig attaches c to identity c.IdentityID, atomically:
	// ErrAlreadyConfigured if it already has one.
	CreateConfig(ctx context.Context, orgID string, c Config, actor string, guard identity.Guard) error
	// GetConfig reads a configuration: *NotFoundError if there is none.
	GetConfig(ctx context.Context, orgID, identityID string) (Config, error)
	// UpdateConfig reads the configuration, passes it to change and stores
	// what change returns, all or nothing: if the configuration changed in
	// between, it starts again from the new one. An error from change is
	// returned as it is, and nothing is written. *NotFoundError if there
	// is no configuration; identity.ErrConflict if concurrent updates kept
	// changing it.
	UpdateConfig(ctx context.Context, orgID, identityID string, change func(Config) (Config, error), actor string, guard identity.Guard) (Config, error)
	// DeleteConfig removes the configuration, and with it every client
	// secret and access token issued under it, in one write, noting when
	// (at) and by whom; it returns what was removed. ErrNotConfigured if
	// there is none.
	DeleteConfig(ctx context.Context, orgID, identityID string, at time.Time, actor string, guard identity.Guard) (Config, error)
}

// Service applies the Universal Auth rules on top of a Store.
type Service struct {
	Store Store
	// Defaults fills the fields an attach leaves out.
	Defaults Config
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewService returns a Service with Infisical's defaults.
func NewService(store Store) *Service {
	return &Service{Store: store, Defaults: InfisicalDefaults()}
}

// Attach builds a configuration from s over the defaults and attaches it.
func (svc *Service) Attach(ctx context.Context, orgID, identityID string, s Settings, actor string, guard identity.Guard) (Config, error) {
	c, err := NewConfig(svc.Defaults, identityID, s, svc.now())
	if err != nil {
		return Config{}, err
	}
	if err := svc.Store.CreateConfig(ctx, orgID, c, actor, guard); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Get returns an identity's configuration.
func (svc *Service) Get(ctx context.Context, orgID, identityID string) (Config, error) {
	return svc.Store.GetConfig(ctx, orgID, identityID)
}

// Update changes only the fields s sets; the TTL rule holds for the merged
// result. When s sets both TTL and max TTL the rule is checked before the
// store is asked anything.
func (svc *Service) Update(ctx context.Context, orgID, identityID string, s Settings, actor string, guard identity.Guard) (Config, error) {
	if s.Has(AccessTokenTTL) && s.Has(AccessTokenMaxTTL) {
		if err := CheckTTL(s.Values().AccessTokenTTL, s.Values().AccessTokenMaxTTL); err != nil {
			return Config{}, err
		}
	}
	now := svc.now()
	return svc.Store.UpdateConfig(ctx, orgID, identityID, func(c Config) (Config, error) {
		c = s.Apply(c)
		if err := CheckTTL(c.AccessTokenTTL, c.AccessTokenMaxTTL); err != nil {
			return Config{}, err
		}
		c.UpdatedAt = now
		return c, nil
	}, actor, guard)
}

// Revoke removes an identity's configuration and returns it.
func (svc *Service) Revoke(ctx context.Context, orgID, identityID, actor string, guard identity.Guard) (Config, error) {
	return svc.Store.DeleteConfig(ctx, orgID, identityID, svc.now(), actor, guard)
}

func (svc *Service) now() time.Time {
	if svc.Now != nil {
		return WireTime(svc.Now())
	}
	return WireTime(time.Now())
}
