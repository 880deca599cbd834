// Package accesstokentest holds an in-memory accesstoken.Store, for the
// token rules' own fast tests, and the contract every accesstoken.Store
// keeps (Contract), which runs against both the fake and dynamostore on
// DynamoDB Local, so that the fake cannot drift from the real store.
package accesstokentest

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/uauth/uauth/pkg/accesstoken"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/uaconfig"
)

// Fixture is an accesstoken.Store with the writes of the rest of uauth
// that token checks read.
type Fixture interface {
	accesstoken.Store
	// Configure records identity c.IdentityID in org, holding perms, with
	// configuration c.
	Configure(ctx context.Context, org string, perms []string, c uaconfig.Config) error
	// AddSecret creates secret id under the identity's configuration.
	AddSecret(ctx context.Context, org, identityID, secretID string) error
	RevokeSecret(ctx context.Context, org, identityID, secretID string) error
	// Unconfigure revokes the identity's configuration.
	Unconfigure(ctx context.Context, org, identityID string) error
	// DeleteIdentity deletes the identity, leaving a tombstone.
	DeleteIdentity(ctx context.Context, org, identityID string) error
	// AddTokenRecord creates a limited token's record, as a login does.
	AddTokenRecord(ctx context.Context, jti, identityID, clientID, secretID string, limit int64) error
}

type identityState struct {
	org     string
	deleted bool
	perms   []string
	config  *uaconfig.Config
}

// Fake is an in-memory Fixture, with the rules of dynamostore's
// conditions.
type Fake struct {
	mu         sync.Mutex
	identities map[string]*identityState
	secrets    map[string]bool // clientID/secretID -> revoked
	tokens     map[string]*accesstoken.Record
}

var _ Fixture = (*Fake)(nil)

// NewFake returns an empty Fake.
func NewFake() *Fake {
	return &Fake{identities: map[string]*identityState{}, secrets: map[string]bool{}, tokens: map[string]*accesstoken.Record{}}
}

func key(a, b string) string { return a + "/" + b }

// Configure implements Fixture.
func (f *Fake) Configure(_ context.Context, org string, perms []string, c uaconfig.Config) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.identities[c.IdentityID] = &identityState{org: org, perms: slices.Clone(perms), config: &c}
	return nil
}

func (f *Fake) configured(org, identityID string) (*identityState, error) {
	id := f.identities[identityID]
	switch {
	case id == nil || id.deleted || id.org != org:
		return nil, identity.ErrNotFound
	case id.config == nil:
		return nil, uaconfig.ErrNotConfigured
	}
	return id, nil
}

// AddSecret implements Fixture.
func (f *Fake) AddSecret(_ context.Context, org, identityID, secretID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, err := f.configured(org, identityID)
	if err == nil {
		f.secrets[key(id.config.ClientID, secretID)] = false
	}
	return err
}

// RevokeSecret implements Fixture.
func (f *Fake) RevokeSecret(_ context.Context, org, identityID, secretID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, err := f.configured(org, identityID)
	if err == nil {
		f.secrets[key(id.config.ClientID, secretID)] = true
	}
	return err
}

// Unconfigure implements Fixture.
func (f *Fake) Unconfigure(_ context.Context, org, identityID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, err := f.configured(org, identityID)
	if err == nil {
		id.config = nil
	}
	return err
}

// DeleteIdentity implements Fixture.
func (f *Fake) DeleteIdentity(_ context.Context, org, identityID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.identities[identityID] = &identityState{org: org, deleted: true}
	return nil
}

// AddTokenRecord implements Fixture.
func (f *Fake) AddTokenRecord(_ context.Context, jti, identityID, clientID, secretID string, limit int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens[jti] = &accesstoken.Record{Limit: limit}
	return nil
}

func (f *Fake) state(ref accesstoken.Ref) accesstoken.State {
	st := accesstoken.State{Identity: &accesstoken.IdentityState{Missing: true}, Secret: &accesstoken.SecretState{Missing: true},
		Token: &accesstoken.Record{Missing: true}}
	if id := f.identities[ref.IdentityID]; id != nil {
		st.Identity = &accesstoken.IdentityState{Deleted: id.deleted, OrgID: id.org, Permissions: slices.Clone(id.perms)}
		if id.config != nil {
			c := *id.config
			st.Identity.Config = &c
		}
		if id.deleted {
			st.Identity.OrgID, st.Identity.Permissions = id.org, nil
		}
	}
	if revoked, ok := f.secrets[key(ref.ClientID, ref.SecretID)]; ok {
		st.Secret = &accesstoken.SecretState{Revoked: revoked}
	}
	if t := f.tokens[ref.JTI]; t != nil {
		r := *t
		st.Token = &r
	}
	return st
}

// TokenState implements accesstoken.Store.
func (f *Fake) TokenState(_ context.Context, ref accesstoken.Ref) (accesstoken.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state(ref), nil
}

// UseLimited implements accesstoken.Store: all or nothing, and a refusal
// names only the parts whose checks failed.
func (f *Fake) UseLimited(_ context.Context, ref accesstoken.Ref, nets []string, perm caller.Permission) (*accesstoken.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.state(ref)
	refused := &accesstoken.State{}
	if t := st.Token; t.Missing || t.Revoked || t.Uses >= t.Limit {
		refused.Token = t
	}
	id := st.Identity
	idOK := !id.Missing && !id.Deleted && id.OrgID == ref.OrgID && id.Config != nil && id.Config.ClientID == ref.ClientID &&
		(perm == "" || caller.HasPermission(id.Permissions, perm)) &&
		slices.ContainsFunc(nets, func(n string) bool { return slices.Contains(id.Config.AccessTokenTrustedIPs.Nets(), n) })
	if !idOK {
		refused.Identity = id
	}
	if s := st.Secret; s.Missing || s.Revoked {
		refused.Secret = s
	}
	if refused.Token != nil || refused.Identity != nil || refused.Secret != nil {
		return refused, nil
	}
	f.tokens[ref.JTI].Uses++
	return nil, nil
}

// RevokeToken implements accesstoken.Store.
func (f *Fake) RevokeToken(_ context.Context, jti string, _, _ time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.tokens[jti] == nil {
		f.tokens[jti] = &accesstoken.Record{}
	}
	f.tokens[jti].Revoked = true
	return nil
}

// ExtendRecord implements accesstoken.Store.
func (f *Fake) ExtendRecord(_ context.Context, jti string, _ time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t := f.tokens[jti]; t == nil || t.Revoked {
		return accesstoken.ErrRenewRevoked
	}
	return nil
}

// IdentityPermissions implements accesstoken.Store.
func (f *Fake) IdentityPermissions(_ context.Context, org, identityID string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.identities[identityID]
	if id == nil || id.deleted || id.org != org {
		return nil, identity.ErrNotFound
	}
	return slices.Clone(id.perms), nil
}
