// Package universalauth holds the Universal Auth configuration of a machine
// identity: its fields, Infisical's defaults, the validation rules and the
// service that applies them on top of a Store.
package universalauth

import "time"

// Config is the Universal Auth configuration attached to one identity.
type Config struct {
	ID                         string
	ClientID                   string
	IdentityID                 string
	ClientSecretTrustedIPs     []TrustedIP
	AccessTokenTrustedIPs      []TrustedIP
	AccessTokenTTL             int64
	AccessTokenMaxTTL          int64
	AccessTokenNumUsesLimit    int64
	AccessTokenPeriod          int64
	LockoutEnabled             bool
	LockoutThreshold           int64
	LockoutDurationSeconds     int64
	LockoutCounterResetSeconds int64
	CreatedAt                  time.Time
	UpdatedAt                  time.Time
}

// Settings is the caller-settable part of a Config. A nil field was not
// given: POST fills it from the defaults, PATCH leaves it unchanged.
type Settings struct {
	ClientSecretTrustedIPs     []TrustedIP
	AccessTokenTrustedIPs      []TrustedIP
	AccessTokenTTL             *int64
	AccessTokenMaxTTL          *int64
	AccessTokenNumUsesLimit    *int64
	AccessTokenPeriod          *int64
	LockoutEnabled             *bool
	LockoutThreshold           *int64
	LockoutDurationSeconds     *int64
	LockoutCounterResetSeconds *int64
}

// InfisicalDefaults returns a Config holding Infisical's documented defaults,
// with no ids or timestamps.
func InfisicalDefaults() Config {
	anyIP := []TrustedIP{
		{Address: "0.0.0.0", Type: IPv4, Prefix: ptr(0)},
		{Address: "::", Type: IPv6, Prefix: ptr(0)},
	}
	return Config{
		ClientSecretTrustedIPs:     anyIP,
		AccessTokenTrustedIPs:      append([]TrustedIP(nil), anyIP...),
		AccessTokenTTL:             2592000,
		AccessTokenMaxTTL:          2592000,
		AccessTokenNumUsesLimit:    0,
		AccessTokenPeriod:          0,
		LockoutEnabled:             true,
		LockoutThreshold:           3,
		LockoutDurationSeconds:     300,
		LockoutCounterResetSeconds: 30,
	}
}

// Apply returns c with every field that s sets replaced. It does not check
// cross-field rules; see CheckTTL.
func (s Settings) Apply(c Config) Config {
	if s.ClientSecretTrustedIPs != nil {
		c.ClientSecretTrustedIPs = s.ClientSecretTrustedIPs
	}
	if s.AccessTokenTrustedIPs != nil {
		c.AccessTokenTrustedIPs = s.AccessTokenTrustedIPs
	}
	set(&c.AccessTokenTTL, s.AccessTokenTTL)
	set(&c.AccessTokenMaxTTL, s.AccessTokenMaxTTL)
	set(&c.AccessTokenNumUsesLimit, s.AccessTokenNumUsesLimit)
	set(&c.AccessTokenPeriod, s.AccessTokenPeriod)
	set(&c.LockoutEnabled, s.LockoutEnabled)
	set(&c.LockoutThreshold, s.LockoutThreshold)
	set(&c.LockoutDurationSeconds, s.LockoutDurationSeconds)
	set(&c.LockoutCounterResetSeconds, s.LockoutCounterResetSeconds)
	return c
}

// CheckTTL enforces "TTL may not exceed max TTL", where a max TTL of 0 means
// there is no maximum. (Infisical's own schema rejects TTL > 0 with max 0.)
func CheckTTL(ttl, maxTTL int64) error {
	if maxTTL != 0 && ttl > maxTTL {
		return ErrTTLExceedsMax
	}
	return nil
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func ptr[T any](v T) *T { return &v }
