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
func (svc *Service) Attach(ctx context.Context, orgID, identityID string, s Settings) (Config, error) {
	c, err := NewConfig(svc.Defaults, identityID, s, svc.now())
	if err != nil {
		return Config{}, err
	}
	if err := svc.Store.CreateConfig(ctx, orgID, c); err != nil {
		return Config{}, err
	}
	return c, nil
}

// NewConfig builds, without storing it, the configuration that attaching s
// to identityID creates: s over defaults (whose ids and timestamps are
// ignored), a fresh id and client id, and both timestamps at now.
func NewConfig(defaults Config, identityID string, s Settings, now time.Time) (Config, error) {
	c := s.Apply(defaults)
	if err := CheckTTL(c.AccessTokenTTL, c.AccessTokenMaxTTL); err != nil {
		return Config{}, err
	}
	now = wireTime(now)
	c.ID, c.ClientID, c.IdentityID = uuid.NewString(), uuid.NewString(), identityID
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

func (svc *Service) now() time.Time {
	if svc.Now != nil {
		return wireTime(svc.Now())
	}
	return wireTime(time.Now())
}

// wireTime is t in UTC at millisecond precision, the precision of the wire
// format, so that what is stored is exactly what clients see.
func wireTime(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// CanonicalID returns the lower-case form of a UUID given in its
// 36-character form (in any case), and false for anything else. IDs are
// DynamoDB keys, so each must have exactly one spelling.
func CanonicalID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	u, err := uuid.Parse(s)
	if err != nil {
		return "", false
	}
	return u.String(), true
}

// Identity is a machine identity as the provisioner records it.
type Identity struct {
	ID        string
	OrgID     string
	Name      string
	CreatedAt time.Time
}
