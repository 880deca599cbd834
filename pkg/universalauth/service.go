package universalauth

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Store persists configurations. Every method is scoped to an organization:
// an identity that does not exist, was deleted, or belongs to another
// organization is ErrIdentityNotFound.
type Store interface {
	// CreateConfig attaches c to identity c.IdentityID in one conditional
	// write: ErrAlreadyConfigured if it already has one.
	CreateConfig(ctx context.Context, orgID string, c Config) error
	// GetConfig reads a configuration: ErrNotConfigured if there is none.
	GetConfig(ctx context.Context, orgID, identityID string) (Config, error)
	// UpdateConfig applies s and moves UpdatedAt to now in one conditional
	// write, and returns the result. When s sets only one of the TTL and max
	// TTL, the store enforces CheckTTL against the stored other one
	// (ErrTTLExceedsMax), so there is no read-modify-write race.
	UpdateConfig(ctx context.Context, orgID, identityID string, s Settings, now time.Time) (Config, error)
	// DeleteConfig removes the configuration and returns what was removed.
	DeleteConfig(ctx context.Context, orgID, identityID string) (Config, error)
}

// Service applies the Universal Auth rules on top of a Store.
type Service struct {
	Store Store
	// Defaults fills the fields an attach leaves out. Only its settable
	// fields matter: ids and timestamps are assigned by the service.
	Defaults Config
	// Now and NewID are the clock and id source; nil means the real ones.
	Now   func() time.Time
	NewID func() string
}

// NewService returns a Service with Infisical's defaults.
func NewService(store Store) *Service {
	return &Service{Store: store, Defaults: InfisicalDefaults()}
}

// Attach builds a configuration from s over the defaults and attaches it.
func (svc *Service) Attach(ctx context.Context, orgID, identityID string, s Settings) (Config, error) {
	c, err := svc.NewConfig(identityID, s)
	if err != nil {
		return Config{}, err
	}
	if err := svc.Store.CreateConfig(ctx, orgID, c); err != nil {
		return Config{}, err
	}
	return c, nil
}

// NewConfig builds, without storing it, the configuration that attaching s
// to identityID would create: fresh id and client id, timestamps set.
func (svc *Service) NewConfig(identityID string, s Settings) (Config, error) {
	c := s.Apply(svc.Defaults)
	if err := CheckTTL(c.AccessTokenTTL, c.AccessTokenMaxTTL); err != nil {
		return Config{}, err
	}
	now := svc.now()
	c.ID, c.ClientID, c.IdentityID = svc.newID(), svc.newID(), identityID
	c.CreatedAt, c.UpdatedAt = now, now
	return c, nil
}

// Get returns an identity's configuration.
func (svc *Service) Get(ctx context.Context, orgID, identityID string) (Config, error) {
	return svc.Store.GetConfig(ctx, orgID, identityID)
}

// Update changes only the fields s sets. The TTL rule holds for the merged
// result: checked here when s sets both values, by the store otherwise.
func (svc *Service) Update(ctx context.Context, orgID, identityID string, s Settings) (Config, error) {
	if s.AccessTokenTTL != nil && s.AccessTokenMaxTTL != nil {
		if err := CheckTTL(*s.AccessTokenTTL, *s.AccessTokenMaxTTL); err != nil {
			return Config{}, err
		}
	}
	return svc.Store.UpdateConfig(ctx, orgID, identityID, s, svc.now())
}

// Revoke removes an identity's configuration and returns it.
func (svc *Service) Revoke(ctx context.Context, orgID, identityID string) (Config, error) {
	return svc.Store.DeleteConfig(ctx, orgID, identityID)
}

// now is millisecond-precise, the precision of the wire format.
func (svc *Service) now() time.Time {
	if svc.Now != nil {
		return svc.Now().UTC().Truncate(time.Millisecond)
	}
	return time.Now().UTC().Truncate(time.Millisecond)
}

func (svc *Service) newID() string {
	if svc.NewID != nil {
		return svc.NewID()
	}
	return uuid.NewString()
}

// IsUUID reports whether s is a UUID in its canonical 36-character form.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// Identity is a machine identity as the provisioner records it.
type Identity struct {
	ID        string
	OrgID     string
	Name      string
	CreatedAt time.Time
}
