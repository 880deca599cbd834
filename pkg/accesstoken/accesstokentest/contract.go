package accesstokentest

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/uauth/uauth/pkg/accesstoken"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/uaconfig"
)

// Org is the organization of the contract's identities.
const Org = "eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee"

var base = time.Date(2036, 11, 7, 5, 31, 56, 0, time.UTC)

// Contract runs the cases every accesstoken.Store must pass, each on a
// fresh fixture.
func Contract(t *testing.T, newFixture func(t *testing.T) Fixture) {
	ctx := context.Background()
	trusted := netip.MustParseAddr("10.1.2.3")
	nets := uaconfig.CallerNets(trusted)
	// setUp configures an identity holding perms, trusting 10.0.0.0/8,
	// with a secret and, if limit > 0, a token record.
	setUp := func(t *testing.T, f Fixture, limit int64, perms ...string) accesstoken.Ref {
		t.Helper()
		settings, err := uaconfig.DecodeSettings([]byte(`{"accessTokenTrustedIps": [{"ipAddress": "10.0.0.0/8"}]}`), "")
		if err != nil {
			t.Fatal(err)
		}
		c, err := uaconfig.NewConfig(uaconfig.InfisicalDefaults(), uuid.NewString(), settings, base)
		if err != nil {
			t.Fatal(err)
		}
		ref := accesstoken.Ref{IdentityID: c.IdentityID, OrgID: Org, ClientID: c.ClientID, SecretID: uuid.NewString(), JTI: uuid.NewString()}
		if err := f.Configure(ctx, Org, perms, c); err != nil {
			t.Fatal(err)
		}
		if err := f.AddSecret(ctx, Org, ref.IdentityID, ref.SecretID); err != nil {
			t.Fatal(err)
		}
		if limit > 0 {
			if err := f.AddTokenRecord(ctx, ref.JTI, ref.IdentityID, ref.ClientID, ref.SecretID, limit); err != nil {
				t.Fatal(err)
			}
		}
		return ref
	}
	state := func(t *testing.T, f Fixture, ref accesstoken.Ref) accesstoken.State {
		t.Helper()
		st, err := f.TokenState(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}

	t.Run("the state of a live token", func(t *testing.T) {
		f := newFixture(t)
		ref := setUp(t, f, 0, "a", "b")
		st := state(t, f, ref)
		id := st.Identity
		if id.Missing || id.Deleted || id.OrgID != Org || !slices.Equal(id.Permissions, []string{"a", "b"}) ||
			id.Config == nil || id.Config.ClientID != ref.ClientID || !id.Config.AccessTokenTrustedIPs.Allows(trusted) {
			t.Fatalf("identity = %+v", id)
		}
		if st.Secret.Missing || st.Secret.Revoked || !st.Token.Missing {
			t.Fatalf("secret %+v, token %+v", st.Secret, st.Token)
		}
		limited := setUp(t, f, 3)
		if tok := state(t, f, limited).Token; tok.Missing || tok.Revoked || tok.Uses != 0 || tok.Limit != 3 {
			t.Fatalf("limited token = %+v", tok)
		}
		if perms, err := f.IdentityPermissions(ctx, Org, ref.IdentityID); err != nil || !slices.Equal(perms, []string{"a", "b"}) {
			t.Fatalf("IdentityPermissions = %v, %v", perms, err)
		}
	})

	t.Run("what kills a token shows in its state", func(t *testing.T) {
		f := newFixture(t)
		ref := setUp(t, f, 0)
		if err := f.RevokeSecret(ctx, Org, ref.IdentityID, ref.SecretID); err != nil {
			t.Fatal(err)
		}
		if s := state(t, f, ref).Secret; !s.Revoked {
			t.Fatalf("revoked secret = %+v", s)
		}
		if err := f.RevokeToken(ctx, ref.JTI, base, base.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if tok := state(t, f, ref).Token; tok.Missing || !tok.Revoked {
			t.Fatalf("revoked token = %+v", tok)
		}
		if err := f.Unconfigure(ctx, Org, ref.IdentityID); err != nil {
			t.Fatal(err)
		}
		if id := state(t, f, ref).Identity; id.Config != nil || id.Missing {
			t.Fatalf("unconfigured identity = %+v", id)
		}
		if err := f.DeleteIdentity(ctx, Org, ref.IdentityID); err != nil {
			t.Fatal(err)
		}
		if id := state(t, f, ref).Identity; !id.Deleted || id.Config != nil {
			t.Fatalf("deleted identity = %+v", id)
		}
		if _, err := f.IdentityPermissions(ctx, Org, ref.IdentityID); !errors.Is(err, identity.ErrNotFound) {
			t.Fatalf("a deleted identity's permissions: %v", err)
		}
		unknown := accesstoken.Ref{IdentityID: uuid.NewString(), OrgID: Org, ClientID: uuid.NewString(), SecretID: "s", JTI: "j"}
		if st := state(t, f, unknown); !st.Identity.Missing || !st.Secret.Missing || !st.Token.Missing {
			t.Fatalf("unknown = %+v", st)
		}
	})

	t.Run("a limited token's uses are counted, up to its limit", func(t *testing.T) {
		f := newFixture(t)
		ref := setUp(t, f, 2, "a")
		for i := range 2 {
			if refused, err := f.UseLimited(ctx, ref, nets, "a"); err != nil || refused != nil {
				t.Fatalf("use %d: %+v, %v", i+1, refused, err)
			}
		}
		refused, err := f.UseLimited(ctx, ref, nets, "a")
		if err != nil || refused == nil || refused.Token == nil || refused.Token.Uses != 2 || refused.Identity != nil || refused.Secret != nil {
			t.Fatalf("third use: %+v, %v; want the token alone refused, used up", refused, err)
		}
		if tok := state(t, f, ref).Token; tok.Uses != 2 {
			t.Fatalf("uses = %d", tok.Uses)
		}
	})

	t.Run("a limited token's use checks everything, and a refusal counts nothing", func(t *testing.T) {
		f := newFixture(t)
		cases := []struct {
			name     string
			spoil    func(ref accesstoken.Ref) (accesstoken.Ref, []string, caller.Permission)
			identity bool // the identity's part refused
			secret   bool
			token    bool
		}{
			{"an untrusted address", func(ref accesstoken.Ref) (accesstoken.Ref, []string, caller.Permission) {
				return ref, uaconfig.CallerNets(netip.MustParseAddr("192.0.2.1")), "a"
			}, true, false, false},
			{"a missing permission", func(ref accesstoken.Ref) (accesstoken.Ref, []string, caller.Permission) {
				return ref, nets, "b"
			}, true, false, false},
			{"another org", func(ref accesstoken.Ref) (accesstoken.Ref, []string, caller.Permission) {
				ref.OrgID = uuid.NewString()
				return ref, nets, "a"
			}, true, false, false},
			{"another client id", func(ref accesstoken.Ref) (accesstoken.Ref, []string, caller.Permission) {
				ref.ClientID = uuid.NewString()
				return ref, nets, "a"
			}, true, true, false},
			{"a revoked secret", func(ref accesstoken.Ref) (accesstoken.Ref, []string, caller.Permission) {
				if err := f.RevokeSecret(ctx, Org, ref.IdentityID, ref.SecretID); err != nil {
					t.Fatal(err)
				}
				return ref, nets, "a"
			}, false, true, false},
			{"a revoked token", func(ref accesstoken.Ref) (accesstoken.Ref, []string, caller.Permission) {
				if err := f.RevokeToken(ctx, ref.JTI, base, base.Add(time.Hour)); err != nil {
					t.Fatal(err)
				}
				return ref, nets, "a"
			}, false, false, true},
			{"no record", func(ref accesstoken.Ref) (accesstoken.Ref, []string, caller.Permission) {
				ref.JTI = uuid.NewString()
				return ref, nets, "a"
			}, false, false, true},
		}
		for _, tc := range cases {
			ref := setUp(t, f, 5, "a")
			used, n, perm := tc.spoil(ref)
			refused, err := f.UseLimited(ctx, used, n, perm)
			if err != nil || refused == nil || (refused.Identity != nil) != tc.identity || (refused.Secret != nil) != tc.secret || (refused.Token != nil) != tc.token {
				t.Errorf("%s: %+v, %v", tc.name, refused, err)
			}
			if tok := state(t, f, ref).Token; tok.Uses != 0 {
				t.Errorf("%s: a refused use was counted", tc.name)
			}
		}
		// No permission needed: any identity of the configuration will do;
		// org:admin covers every permission.
		for perms, perm := range map[string]caller.Permission{"": "", string(caller.OrgAdmin): "anything"} {
			ref := setUp(t, f, 5, perms)
			if refused, err := f.UseLimited(ctx, ref, nets, perm); err != nil || refused != nil {
				t.Errorf("perms %q, need %q: %+v, %v", perms, perm, refused, err)
			}
		}
	})

	t.Run("a renewal keeps a live record, not a revoked one", func(t *testing.T) {
		f := newFixture(t)
		ref := setUp(t, f, 5)
		if err := f.ExtendRecord(ctx, ref.JTI, base.Add(48*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := f.RevokeToken(ctx, ref.JTI, base, base.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := f.ExtendRecord(ctx, ref.JTI, base.Add(48*time.Hour)); !errors.Is(err, accesstoken.ErrRenewRevoked) {
			t.Fatalf("renewing a revoked token: %v", err)
		}
		if err := f.ExtendRecord(ctx, uuid.NewString(), base); !errors.Is(err, accesstoken.ErrRenewRevoked) {
			t.Fatalf("renewing a token without a record: %v", err)
		}
	})
}
