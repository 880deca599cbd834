package logintest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/uauth/uauth/pkg/clientsecret"
	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/login"
	"github.com/uauth/uauth/pkg/uaconfig"
)

// Org is the organization the contract's identities belong to.
const Org = "cccccccc-cccc-4ccc-8ccc-cccccccccccc"

// base is the contract's clock: ten years ahead, because DynamoDB Local
// deletes items whose TTL attribute is past by the real clock.
var base = time.Date(2036, 11, 7, 5, 31, 56, 123e6, time.UTC)

// failure is a failure at t under a threshold of 3, a reset window of 30 s
// and a lock of 300 s.
func failure(t time.Time, add bool) login.Failure {
	return login.Failure{At: t, Add: add, Threshold: 3, ResetAfter: 30 * time.Second, LockedFor: 300 * time.Second}
}

// Contract runs the cases every login.Store must pass on a fresh fixture
// each. A fake that passes it behaves as the real store does for login.
func Contract(t *testing.T, newFixture func(t *testing.T) Fixture) {
	ctx := context.Background()
	// setUp configures an identity with a secret of use limit limit.
	setUp := func(t *testing.T, f Fixture, limit int64) (identityID, clientID, secretID string) {
		t.Helper()
		c, err := uaconfig.NewConfig(uaconfig.InfisicalDefaults(), uuid.NewString(), uaconfig.Settings{}, base)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Configure(ctx, Org, c); err != nil {
			t.Fatal(err)
		}
		sec := clientsecret.Secret{ID: uuid.NewString(), Prefix: "abcd", MAC: []byte("mac"), NumUsesLimit: limit, TTL: 60,
			ConfigID: c.ID, CreatedAt: base, UpdatedAt: base}
		if err := f.AddSecret(ctx, Org, c.IdentityID, sec); err != nil {
			t.Fatal(err)
		}
		return c.IdentityID, c.ClientID, sec.ID
	}
	read := func(t *testing.T, f Fixture, clientID, secretID, bucket string) login.Attempt {
		t.Helper()
		att, err := f.ReadAttempt(ctx, clientID, secretID, bucket)
		if err != nil {
			t.Fatal(err)
		}
		return att
	}
	record := func(t *testing.T, f Fixture, clientID string, fl login.Failure) *login.Lockout {
		t.Helper()
		l, err := f.RecordFailure(ctx, clientID, "192.0.2.1", fl)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	fails := func(t *testing.T, f Fixture, clientID string) int64 {
		t.Helper()
		return read(t, f, clientID, "none", "192.0.2.1").Lockout.Fails
	}

	t.Run("login's view of a configuration, its secret and no lockout", func(t *testing.T) {
		f := newFixture(t)
		id, cid, sid := setUp(t, f, 5)
		att := read(t, f, cid, sid, "192.0.2.1")
		if att.Client == nil || att.Client.IdentityID != id || att.Client.OrgID != Org || att.Client.Config.ClientID != cid ||
			att.Client.Config.LockoutThreshold != 3 || !att.Client.Config.AccessTokenTrustedIPs.AllowsAll() {
			t.Fatalf("client = %+v", att.Client)
		}
		if s := att.Secret; s == nil || s.ID != sid || string(s.MAC) != "mac" || s.NumUsesLimit != 5 || s.TTL != 60 || s.Revoked || !s.CreatedAt.Equal(base) {
			t.Fatalf("secret = %+v", att.Secret)
		}
		if att.Lockout.Exists {
			t.Fatalf("lockout = %+v", att.Lockout)
		}
		if att := read(t, f, cid, uuid.NewString(), "b"); att.Client == nil || att.Secret != nil {
			t.Fatalf("another secret id: %+v", att)
		}
		if att := read(t, f, uuid.NewString(), sid, "b"); att.Client != nil || att.Secret != nil {
			t.Fatalf("an unknown client id: %+v", att)
		}
	})

	t.Run("a revoked configuration is unknown to login at once", func(t *testing.T) {
		f := newFixture(t)
		id, cid, sid := setUp(t, f, 0)
		if err := f.Unconfigure(ctx, Org, id); err != nil {
			t.Fatal(err)
		}
		if att := read(t, f, cid, sid, "b"); att.Client != nil {
			t.Fatalf("login still sees the configuration: %+v", att.Client)
		}
	})

	t.Run("failures count within the reset window, up to the threshold", func(t *testing.T) {
		f := newFixture(t)
		_, cid, _ := setUp(t, f, 0)
		if l := record(t, f, cid, failure(base, true)); l == nil || l.Exists {
			t.Fatalf("adding to no record: %+v, want refused with no record", l)
		}
		if l := record(t, f, cid, failure(base, false)); l != nil {
			t.Fatalf("starting a count: %+v", l)
		}
		got := read(t, f, cid, "none", "192.0.2.1").Lockout
		if !got.Exists || got.Fails != 1 || !got.LastFailAt.Equal(base) {
			t.Fatalf("after one failure: %+v", got)
		}
		if l := record(t, f, cid, failure(base.Add(time.Second), false)); l == nil || l.Fails != 1 {
			t.Fatalf("starting over a live count: %+v, want refused with the count", l)
		}
		for i := range 2 {
			if l := record(t, f, cid, failure(base.Add(time.Duration(i+1)*time.Second), true)); l != nil {
				t.Fatalf("adding failure %d: %+v", i+2, l)
			}
		}
		if n := fails(t, f, cid); n != 3 {
			t.Fatalf("fails = %d, want 3", n)
		}
		if l := record(t, f, cid, failure(base.Add(3*time.Second), true)); l == nil || l.Fails != 3 {
			t.Fatalf("adding past the threshold: %+v, want refused with the count", l)
		}
		// Locked until 300 s after the last failure: no new count before.
		if l := record(t, f, cid, failure(base.Add(2*time.Second+300*time.Second-time.Millisecond), false)); l == nil {
			t.Fatal("a new count started while locked")
		}
		if l := record(t, f, cid, failure(base.Add(2*time.Second+300*time.Second), false)); l != nil {
			t.Fatalf("a new count when the lock ends: %+v", l)
		}
		if n := fails(t, f, cid); n != 1 {
			t.Fatalf("fails = %d after the lock, want 1", n)
		}
	})

	t.Run("a count past its reset window starts over", func(t *testing.T) {
		f := newFixture(t)
		_, cid, _ := setUp(t, f, 0)
		record(t, f, cid, failure(base, false))
		if l := record(t, f, cid, failure(base.Add(30*time.Second), true)); l == nil {
			t.Fatal("added to a count at the end of its window")
		}
		if l := record(t, f, cid, failure(base.Add(30*time.Second-time.Millisecond), true)); l != nil {
			t.Fatalf("adding within the window: %+v", l)
		}
		if l := record(t, f, cid, failure(base.Add(30*time.Second-time.Millisecond+30*time.Second), false)); l != nil {
			t.Fatalf("starting over after the window: %+v", l)
		}
		if n := fails(t, f, cid); n != 1 {
			t.Fatalf("fails = %d, want 1", n)
		}
	})

	t.Run("a success with nothing to write writes and checks nothing", func(t *testing.T) {
		f := newFixture(t)
		id, cid, sid := setUp(t, f, 0)
		if err := f.Unconfigure(ctx, Org, id); err != nil {
			t.Fatal(err)
		}
		if err := f.Succeed(ctx, login.Success{IdentityID: id, ClientID: cid, SecretID: sid, At: base}); err != nil {
			t.Fatalf("Succeed: %v", err)
		}
	})

	t.Run("a limited secret's uses are counted exactly", func(t *testing.T) {
		f := newFixture(t)
		id, cid, sid := setUp(t, f, 2)
		use := login.Success{IdentityID: id, ClientID: cid, SecretID: sid, At: base, CountUse: true, NumUsesLimit: 2}
		for range 2 {
			if err := f.Succeed(ctx, use); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.Succeed(ctx, use); !errors.Is(err, login.ErrNoUsesLeft) {
			t.Fatalf("third use: %v, want ErrNoUsesLeft", err)
		}
		if s := read(t, f, cid, sid, "b").Secret; s.NumUses != 2 {
			t.Fatalf("uses = %d, want 2", s.NumUses)
		}
	})

	t.Run("a success that writes checks the secret and the configuration", func(t *testing.T) {
		f := newFixture(t)
		id, cid, sid := setUp(t, f, 5)
		if err := f.RevokeSecret(ctx, Org, id, sid); err != nil {
			t.Fatal(err)
		}
		for _, s := range []login.Success{
			{IdentityID: id, ClientID: cid, SecretID: sid, At: base, CountUse: true, NumUsesLimit: 5},
			{IdentityID: id, ClientID: cid, SecretID: sid, At: base, AddUses: 3},
			{IdentityID: id, ClientID: cid, SecretID: uuid.NewString(), At: base, AddUses: 1},
		} {
			if err := f.Succeed(ctx, s); !errors.Is(err, login.ErrSecretRevoked) {
				t.Fatalf("%+v: %v, want ErrSecretRevoked", s, err)
			}
		}
		id2, cid2, sid2 := setUp(t, f, 0)
		if err := f.Unconfigure(ctx, Org, id2); err != nil {
			t.Fatal(err)
		}
		if err := f.Succeed(ctx, login.Success{IdentityID: id2, ClientID: cid2, SecretID: sid2, At: base, AddUses: 1}); !errors.Is(err, login.ErrGone) {
			t.Fatalf("a revoked configuration: %v, want ErrGone", err)
		}
	})

	t.Run("a success clears its lockout and records a limited token", func(t *testing.T) {
		f := newFixture(t)
		id, cid, sid := setUp(t, f, 0)
		record(t, f, cid, failure(base, false))
		jti := uuid.NewString()
		err := f.Succeed(ctx, login.Success{IdentityID: id, ClientID: cid, SecretID: sid, At: base, ClearLockout: "192.0.2.1",
			Token: &login.TokenRecord{JTI: jti, IdentityID: id, Limit: 3, KeepUntil: base.Add(time.Hour)}})
		if err != nil {
			t.Fatal(err)
		}
		if att := read(t, f, cid, sid, "192.0.2.1"); att.Lockout.Exists {
			t.Fatalf("lockout kept: %+v", att.Lockout)
		}
	})

	t.Run("clearing lockouts counts and deletes the configuration's", func(t *testing.T) {
		f := newFixture(t)
		id, cid, _ := setUp(t, f, 0)
		for _, bucket := range []string{"192.0.2.1", "192.0.2.2", "2001:db8::/64"} {
			if l, err := f.RecordFailure(ctx, cid, bucket, failure(base, false)); err != nil || l != nil {
				t.Fatalf("%s: %+v %v", bucket, l, err)
			}
		}
		other, ocid, _ := setUp(t, f, 0)
		record(t, f, ocid, failure(base, false))
		if n, err := f.ClearLockouts(ctx, Org, id, nil); err != nil || n != 3 {
			t.Fatalf("cleared %d, %v; want 3", n, err)
		}
		if n, err := f.ClearLockouts(ctx, Org, id, nil); err != nil || n != 0 {
			t.Fatalf("cleared again %d, %v; want 0", n, err)
		}
		if n := fails(t, f, ocid); n != 1 {
			t.Fatalf("another identity's lockout was cleared")
		}
		refused := errors.New("refused")
		if _, err := f.ClearLockouts(ctx, Org, other, func([]string) error { return refused }); !errors.Is(err, refused) {
			t.Fatalf("guard: %v", err)
		}
		if _, err := f.ClearLockouts(ctx, "dddddddd-dddd-4ddd-8ddd-dddddddddddd", other, nil); !errors.Is(err, identity.ErrNotFound) {
			t.Fatalf("another org: %v", err)
		}
		if err := f.Unconfigure(ctx, Org, other); err != nil {
			t.Fatal(err)
		}
		if _, err := f.ClearLockouts(ctx, Org, other, nil); !errors.Is(err, uaconfig.ErrNotConfigured) {
			t.Fatalf("unconfigured: %v", err)
		}
	})
}
