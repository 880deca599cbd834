// Package clientsecret holds the client secrets of a Universal Auth
// configuration: how they are made, how they are stored without being
// kept, and the rules for creating, listing and revoking them.
//
// A secret is 32 random bytes, shown once as 64 hex characters. uauth
// keeps only its first 4 characters and an HMAC-SHA256 of it under a
// server key. A 256-bit random value cannot be guessed, so a slow password
// hash (bcrypt, Argon2) would add cost and no strength: those exist to
// slow down guessing of low-entropy passwords. The HMAC's key, held
// outside the table, means a copy of the table alone does not let anyone
// check a guess at all.
//
// The secret's id is derived from the secret too, with the same key and a
// different label, so that login, which is given only the secret, finds
// its record with one key lookup: no index, no scan.
package clientsecret

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/keyring"
	"github.com/uauth/uauth/pkg/strictjson"
	"github.com/uauth/uauth/pkg/uaconfig"
)

// Secret is a client secret's record; the secret itself is never stored.
type Secret struct {
	ID string
	// ClientID and ConfigID are the configuration the secret belongs to:
	// its client id and its id (identityUAId on the wire).
	ClientID     string
	ConfigID     string
	Description  string
	Prefix       string
	MAC          []byte
	NumUses      int64
	NumUsesLimit int64
	TTL          int64 // seconds; 0 never expires
	Revoked      bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Expired reports whether the secret's TTL has run out at now.
func (s *Secret) Expired(now time.Time) bool {
	return s.TTL > 0 && !now.Before(s.CreatedAt.Add(time.Duration(s.TTL)*time.Second))
}

// Exhausted reports whether a limited secret has no uses left.
func (s *Secret) Exhausted() bool {
	return s.NumUsesLimit > 0 && s.NumUses >= s.NumUsesLimit
}

// NotFoundError: no secret with that id under the identity's configuration.
type NotFoundError struct{ ID string }

func (e *NotFoundError) Error() string { return "Failed to find client secret with ID " + e.ID }

// Hasher derives a secret's id and MAC under the server key.
type Hasher struct{ key []byte }

// NewHasher returns a Hasher; the key must be at least 256 bits.
func NewHasher(key []byte) (*Hasher, error) {
	k, err := keyring.Secret(key)
	if err != nil {
		return nil, fmt.Errorf("client secret key: %w", err)
	}
	return &Hasher{key: k}, nil
}

func (h *Hasher) sum(label, secret string) []byte {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(label))
	m.Write([]byte(secret))
	return m.Sum(nil)
}

// MAC is what is stored to recognise the secret.
func (h *Hasher) MAC(secret string) []byte { return h.sum("uauth client secret v1\x00", secret) }

// ID is the secret's id: a UUID (version 8) made from a keyed hash of the
// secret, so that it reveals nothing about the secret and login can find
// the record from the secret alone.
func (h *Hasher) ID(secret string) string {
	b := h.sum("uauth client secret id v1\x00", secret)
	b[6] = b[6]&0x0f | 0x80 // version 8
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	u, _ := uuid.FromBytes(b[:16])
	return u.String()
}

// Matches reports, in constant time, whether secret is the one mac records.
func (h *Hasher) Matches(secret string, mac []byte) bool {
	return hmac.Equal(h.MAC(secret), mac)
}

// Generate returns a new secret: 32 random bytes as 64 lower-case hex.
func Generate() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// Store persists secrets. Every method is scoped to an organization and an
// identity: identity.ErrNotFound if it is not a live identity of the org,
// uaconfig.ErrNotConfigured if it has no configuration. guard is the
// caller's permission boundary, applied to the identity's permissions once
// it is found (see uaconfig.Store).
type Store interface {
	// CreateSecret records s under the identity's configuration, atomically
	// with the check that the configuration is still there, and returns it
	// with ClientID and ConfigID set.
	CreateSecret(ctx context.Context, orgID, identityID string, s Secret, actor string, guard identity.Guard) (Secret, error)
	// ListSecrets returns the configuration's secrets that are not revoked.
	ListSecrets(ctx context.Context, orgID, identityID string, guard identity.Guard) ([]Secret, error)
	// GetSecret returns one secret, revoked or not: *NotFoundError if the
	// configuration has none with that id.
	GetSecret(ctx context.Context, orgID, identityID, secretID string, guard identity.Guard) (Secret, error)
	// RevokeSecret marks a secret revoked (again, if it was) and returns it.
	RevokeSecret(ctx context.Context, orgID, identityID, secretID string, now time.Time, actor string, guard identity.Guard) (Secret, error)
}

// Service applies the rules for client secrets.
type Service struct {
	Store  Store
	Hasher *Hasher
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (svc *Service) now() time.Time {
	if svc.Now != nil {
		return uaconfig.WireTime(svc.Now())
	}
	return uaconfig.WireTime(time.Now())
}

// CreateRequest is the body of a create.
type CreateRequest struct {
	Description  string
	NumUsesLimit int64
	TTL          int64
}

// maxDescription caps a description; the body cap bounds it anyway.
const maxDescription = 1024

// DecodeCreate reads a create body, {description, numUsesLimit, ttl}, all
// optional, in one pass: names exact, none repeated, unknown ones ignored.
// Numbers are read as the configuration's are (3600.0 is 3600). If the
// body repeats the path's identityId (the Terraform provider does), it
// must match. Every schema problem is reported at once (a 422).
func DecodeCreate(body []byte, identityID string) (CreateRequest, error) {
	var r CreateRequest
	err := strictjson.Decode(body, true, func(o *strictjson.Object, name string) error {
		var err error
		switch name {
		case "description":
			r.Description, _, err = o.String(name)
			if len(r.Description) > maxDescription {
				o.Issue(name, "must be at most 1024 bytes")
			}
		case "numUsesLimit":
			r.NumUsesLimit, _, err = o.Int(name, 0, 1<<53-1)
		case "ttl":
			r.TTL, _, err = o.Int(name, 0, uaconfig.MaxTTLSeconds)
		case "identityId":
			var id string
			var ok bool
			if id, ok, err = o.String(name); ok {
				if canonical, _ := identity.CanonicalID(id); canonical != identityID {
					o.Issue(name, "does not match the identity id in the path")
				}
			}
		default:
			err = o.Skip()
		}
		return err
	})
	if err != nil {
		return CreateRequest{}, err
	}
	return r, nil
}

// Create makes a new secret and returns it, the only time it is ever
// shown, with its record.
func (svc *Service) Create(ctx context.Context, orgID, identityID string, r CreateRequest, actor string, guard identity.Guard) (string, Secret, error) {
	secret := Generate()
	now := svc.now()
	s := Secret{
		ID: svc.Hasher.ID(secret), Description: r.Description, Prefix: secret[:4], MAC: svc.Hasher.MAC(secret),
		NumUsesLimit: r.NumUsesLimit, TTL: r.TTL, CreatedAt: now, UpdatedAt: now,
	}
	s, err := svc.Store.CreateSecret(ctx, orgID, identityID, s, actor, guard)
	if err != nil {
		return "", Secret{}, err
	}
	return secret, s, nil
}

// List returns the identity's secrets that are not revoked.
func (svc *Service) List(ctx context.Context, orgID, identityID string, guard identity.Guard) ([]Secret, error) {
	return svc.Store.ListSecrets(ctx, orgID, identityID, guard)
}

// Get returns one secret, revoked or not.
func (svc *Service) Get(ctx context.Context, orgID, identityID, secretID string, guard identity.Guard) (Secret, error) {
	return svc.Store.GetSecret(ctx, orgID, identityID, secretID, guard)
}

// Revoke revokes a secret; revoking it again returns it unchanged.
func (svc *Service) Revoke(ctx context.Context, orgID, identityID, secretID, actor string, guard identity.Guard) (Secret, error) {
	return svc.Store.RevokeSecret(ctx, orgID, identityID, secretID, svc.now(), actor, guard)
}
