package dynamostore_test

import (
	"context"
	"testing"
	"time"

	"github.com/uauth/uauth/pkg/accesstoken/accesstokentest"
	"github.com/uauth/uauth/pkg/clientsecret"
	"github.com/uauth/uauth/pkg/dynamostore"
	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/login"
	"github.com/uauth/uauth/pkg/login/logintest"
	"github.com/uauth/uauth/pkg/uaconfig"
)

// loginFixture is the store with the writes login's contract sets up
// through, the ones the API and the provisioner make.
type loginFixture struct{ *dynamostore.Store }

func (f loginFixture) Configure(ctx context.Context, org string, c uaconfig.Config) error {
	return f.RecordIdentity(ctx, identity.Identity{ID: c.IdentityID, OrgID: org, CreatedAt: time.Now()}, &c, "test")
}

func (f loginFixture) AddSecret(ctx context.Context, org, identityID string, s clientsecret.Secret) error {
	_, err := f.CreateSecret(ctx, org, identityID, s, "test", nil)
	return err
}

func (f loginFixture) RevokeSecret(ctx context.Context, org, identityID, secretID string) error {
	_, err := f.Store.RevokeSecret(ctx, org, identityID, secretID, time.Now(), "test", nil)
	return err
}

func (f loginFixture) Unconfigure(ctx context.Context, org, identityID string) error {
	_, err := f.DeleteConfig(ctx, org, identityID, time.Now(), "test", nil)
	return err
}

// TestLoginContract: the store keeps the contract login's fake keeps.
func TestLoginContract(t *testing.T) {
	logintest.Contract(t, func(t *testing.T) logintest.Fixture {
		s, _ := newStore(t)
		return loginFixture{s}
	})
}

// tokenFixture is the store with the writes the token contract sets up
// through: the provisioner's, the API's and login's.
type tokenFixture struct{ *dynamostore.Store }

func (f tokenFixture) Configure(ctx context.Context, org string, perms []string, c uaconfig.Config) error {
	return f.RecordIdentity(ctx, identity.Identity{ID: c.IdentityID, OrgID: org, Permissions: perms, CreatedAt: time.Now()}, &c, "test")
}

func (f tokenFixture) AddSecret(ctx context.Context, org, identityID, secretID string) error {
	now := time.Now()
	_, err := f.CreateSecret(ctx, org, identityID, clientsecret.Secret{ID: secretID, MAC: []byte("m"), CreatedAt: now, UpdatedAt: now}, "test", nil)
	return err
}

func (f tokenFixture) RevokeSecret(ctx context.Context, org, identityID, secretID string) error {
	_, err := f.Store.RevokeSecret(ctx, org, identityID, secretID, time.Now(), "test", nil)
	return err
}

func (f tokenFixture) Unconfigure(ctx context.Context, org, identityID string) error {
	_, err := f.DeleteConfig(ctx, org, identityID, time.Now(), "test", nil)
	return err
}

func (f tokenFixture) DeleteIdentity(ctx context.Context, org, identityID string) error {
	return f.Store.DeleteIdentity(ctx, identityID, org, time.Now(), time.Now().Add(time.Hour), "test")
}

func (f tokenFixture) AddTokenRecord(ctx context.Context, jti, identityID, clientID, secretID string, limit int64) error {
	return f.Succeed(ctx, login.Success{IdentityID: identityID, ClientID: clientID, SecretID: secretID, At: time.Now(),
		Token: &login.TokenRecord{JTI: jti, IdentityID: identityID, Limit: limit, KeepUntil: time.Now().Add(time.Hour)}})
}

// TestTokenContract: the store keeps the contract the token rules' fake
// keeps.
func TestTokenContract(t *testing.T) {
	accesstokentest.Contract(t, func(t *testing.T) accesstokentest.Fixture {
		s, _ := newStore(t)
		return tokenFixture{s}
	})
}
