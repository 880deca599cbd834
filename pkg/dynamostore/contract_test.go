package dynamostore_test

import (
	"context"
	"testing"
	"time"

	"github.com/uauth/uauth/pkg/clientsecret"
	"github.com/uauth/uauth/pkg/dynamostore"
	"github.com/uauth/uauth/pkg/identity"
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
