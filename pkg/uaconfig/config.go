// Package uaconfig holds the Universal Auth configuration of a machine
// identity: its fields (one list, Fields), Infisical's defaults, the
// validation rules and the service that applies them on top of a Store.
package uaconfig

import (
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/uauth/uauth/pkg/validation"
)

// Config is the Universal Auth configuration attached to one identity.
type Config struct {
	ID         string
	ClientID   string
	IdentityID string

	AccessTokenTTL             int64
	AccessTokenMaxTTL          int64
	AccessTokenNumUsesLimit    int64
	AccessTokenPeriod          int64
	ClientSecretTrustedIPs     TrustedIPs
	AccessTokenTrustedIPs      TrustedIPs
	LockoutEnabled             bool
	LockoutThreshold           int64
	LockoutDurationSeconds     int64
	LockoutCounterResetSeconds int64

	CreatedAt time.Time
	UpdatedAt time.Time
}

// Errors. Their text is the message clients see; the HTTP mapping lives in
// one place, package httpapi.
var (
	// ErrAlreadyConfigured: attach on an identity that has a configuration.
	ErrAlreadyConfigured = errors.New("Failed to add universal auth to already configured identity")
	// ErrNotConfigured: an operation that needs a configuration, on an
	// identity without one. Read and update report NotFoundError instead.
	ErrNotConfigured = errors.New("The identity does not have universal auth")
	// ErrTTLExceedsMax: the (merged) TTL is above a non-zero max TTL.
	ErrTTLExceedsMax = errors.New("Access token TTL cannot be greater than max TTL")
	// ErrInvalidIP: a trusted-IP entry is not an address or CIDR block.
	ErrInvalidIP = errors.New("The IP is not a valid IPv4, IPv6, or CIDR block")
	// ErrIPNotTrusted: the caller's address is not in the trusted IPs that
	// apply (clientSecretTrustedIps at login, accessTokenTrustedIps on each
	// use of an access token).
	ErrIPNotTrusted = errors.New("You are not allowed to access this resource from the current IP address")
)

// NotFoundError is read or update on an identity without a configuration.
// Infisical answers it with a 404, which the Terraform provider reads as
// "gone" and re-creates, so a configuration deleted elsewhere heals itself.
type NotFoundError struct{ IdentityID string }

func (e *NotFoundError) Error() string {
	return "Failed to find universal auth for identity with ID " + e.IdentityID
}

// MaxTTLSeconds is the largest TTL, max TTL and period: ten years.
const MaxTTLSeconds = 315360000

// maxSafeInt is JavaScript's Number.MAX_SAFE_INTEGER: the largest count
// every client can represent.
const maxSafeInt = 1<<53 - 1

// ParseInt is validation.ParseInt: the integers of a body.
func ParseInt(text string, min, max int64) (int64, string) {
	return validation.ParseInt(text, min, max)
}

// FieldID names one caller-settable field of a Config.
type FieldID uint8

// The fields, in the order Infisical's responses list them.
const (
	AccessTokenTTL FieldID = iota
	AccessTokenMaxTTL
	AccessTokenNumUsesLimit
	AccessTokenPeriod
	ClientSecretTrustedIPs
	AccessTokenTrustedIPs
	LockoutEnabled
	LockoutThreshold
	LockoutDurationSeconds
	LockoutCounterResetSeconds
	numFields
)

// Kind is the JSON (and stored) type of a field.
type Kind uint8

// Field kinds.
const (
	Int Kind = iota
	Bool
	IPList
)

// Field describes one caller-settable field: its name on the wire and in
// the store, its type and range, and where it lives in a Config.
type Field struct {
	ID       FieldID
	Name     string
	Kind     Kind
	Min, Max int64 // for Int

	intOf  func(*Config) *int64
	boolOf func(*Config) *bool
	ipsOf  func(*Config) *TrustedIPs
}

// Fields is the one list of configuration fields. The decoder, the
// defaults, PATCH, the stored item and the response are all derived from it.
var Fields = [numFields]Field{
	AccessTokenTTL:             intField(AccessTokenTTL, "accessTokenTTL", 0, MaxTTLSeconds, func(c *Config) *int64 { return &c.AccessTokenTTL }),
	AccessTokenMaxTTL:          intField(AccessTokenMaxTTL, "accessTokenMaxTTL", 0, MaxTTLSeconds, func(c *Config) *int64 { return &c.AccessTokenMaxTTL }),
	AccessTokenNumUsesLimit:    intField(AccessTokenNumUsesLimit, "accessTokenNumUsesLimit", 0, maxSafeInt, func(c *Config) *int64 { return &c.AccessTokenNumUsesLimit }),
	AccessTokenPeriod:          intField(AccessTokenPeriod, "accessTokenPeriod", 0, MaxTTLSeconds, func(c *Config) *int64 { return &c.AccessTokenPeriod }),
	ClientSecretTrustedIPs:     {ID: ClientSecretTrustedIPs, Name: "clientSecretTrustedIps", Kind: IPList, ipsOf: func(c *Config) *TrustedIPs { return &c.ClientSecretTrustedIPs }},
	AccessTokenTrustedIPs:      {ID: AccessTokenTrustedIPs, Name: "accessTokenTrustedIps", Kind: IPList, ipsOf: func(c *Config) *TrustedIPs { return &c.AccessTokenTrustedIPs }},
	LockoutEnabled:             {ID: LockoutEnabled, Name: "lockoutEnabled", Kind: Bool, boolOf: func(c *Config) *bool { return &c.LockoutEnabled }},
	LockoutThreshold:           intField(LockoutThreshold, "lockoutThreshold", 1, 30, func(c *Config) *int64 { return &c.LockoutThreshold }),
	LockoutDurationSeconds:     intField(LockoutDurationSeconds, "lockoutDurationSeconds", 30, 86400, func(c *Config) *int64 { return &c.LockoutDurationSeconds }),
	LockoutCounterResetSeconds: intField(LockoutCounterResetSeconds, "lockoutCounterResetSeconds", 5, 3600, func(c *Config) *int64 { return &c.LockoutCounterResetSeconds }),
}

func intField(id FieldID, name string, min, max int64, of func(*Config) *int64) Field {
	return Field{ID: id, Name: name, Kind: Int, Min: min, Max: max, intOf: of}
}

// IntOf returns the field's place in c; the field must be of Kind Int.
func (f *Field) IntOf(c *Config) *int64 { return f.intOf(c) }

// BoolOf returns the field's place in c; the field must be of Kind Bool.
func (f *Field) BoolOf(c *Config) *bool { return f.boolOf(c) }

// IPsOf returns the field's place in c; the field must be of Kind IPList.
func (f *Field) IPsOf(c *Config) *TrustedIPs { return f.ipsOf(c) }

// copyTo copies the field's value from src to dst.
func (f *Field) copyTo(dst, src *Config) {
	switch f.Kind {
	case Int:
		*f.intOf(dst) = *f.intOf(src)
	case Bool:
		*f.boolOf(dst) = *f.boolOf(src)
	case IPList:
		*f.ipsOf(dst) = *f.ipsOf(src)
	}
}

// FieldByName returns the field with that exact wire name, or nil.
func FieldByName(name string) *Field {
	for i := range Fields {
		if Fields[i].Name == name {
			return &Fields[i]
		}
	}
	return nil
}

// Settings is the caller-settable part of a Config, as given in a request:
// a value for each field given. POST fills the others from the defaults,
// PATCH leaves them unchanged.
type Settings struct {
	values Config
	given  uint16 // bit i: field i was given
}

// Has reports whether the field was given.
func (s *Settings) Has(id FieldID) bool { return s.given&(1<<id) != 0 }

// Empty reports whether no field was given.
func (s *Settings) Empty() bool { return s.given == 0 }

// Values returns the given values; only the fields that Has reports are
// meaningful.
func (s *Settings) Values() *Config { return &s.values }

// SetInt gives an integer field, unchecked; decoding validates.
func (s *Settings) SetInt(id FieldID, v int64) { *Fields[id].intOf(&s.values) = v; s.mark(id) }

// SetBool gives a boolean field.
func (s *Settings) SetBool(id FieldID, v bool) { *Fields[id].boolOf(&s.values) = v; s.mark(id) }

// SetIPs gives a trusted-IP list, unchecked.
func (s *Settings) SetIPs(id FieldID, v TrustedIPs) { *Fields[id].ipsOf(&s.values) = v; s.mark(id) }

func (s *Settings) mark(id FieldID) { s.given |= 1 << id }

// Apply returns c with every given field replaced. It does not check
// cross-field rules; see CheckTTL.
func (s Settings) Apply(c Config) Config {
	for i := range Fields {
		if s.Has(FieldID(i)) {
			Fields[i].copyTo(&c, &s.values)
		}
	}
	return c
}

// Given returns the fields that were given, in list order.
func (s *Settings) Given() []*Field {
	var out []*Field
	for i := range Fields {
		if s.Has(FieldID(i)) {
			out = append(out, &Fields[i])
		}
	}
	return out
}

// InfisicalDefaults returns a Config holding Infisical's documented
// defaults, with no ids or timestamps.
func InfisicalDefaults() Config {
	return Config{
		ClientSecretTrustedIPs:     AnyIP(),
		AccessTokenTrustedIPs:      AnyIP(),
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

// CheckTTL enforces "TTL may not exceed max TTL", where a max TTL of 0 means
// there is no maximum. (Infisical's own schema rejects TTL > 0 with max 0.)
func CheckTTL(ttl, maxTTL int64) error {
	if maxTTL != 0 && ttl > maxTTL {
		return ErrTTLExceedsMax
	}
	return nil
}

// NewConfig builds, without storing it, the configuration that attaching s
// to identityID creates: s over defaults (whose ids and timestamps are
// ignored), a fresh id and client id, and both timestamps at now.
func NewConfig(defaults Config, identityID string, s Settings, now time.Time) (Config, error) {
	c := s.Apply(defaults)
	if err := CheckTTL(c.AccessTokenTTL, c.AccessTokenMaxTTL); err != nil {
		return Config{}, err
	}
	now = WireTime(now)
	c.ID, c.ClientID, c.IdentityID = uuid.NewString(), uuid.NewString(), identityID
	c.CreatedAt, c.UpdatedAt = now, now
	return c, nil
}

// WireTime is t in UTC at millisecond precision, the precision of the wire
// format, so that what is stored is exactly what clients see.
func WireTime(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }
