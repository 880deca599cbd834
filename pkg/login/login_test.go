package login_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/uauth/uauth/pkg/accesstoken"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/clientsecret"
	"github.com/uauth/uauth/pkg/keyring"
	"github.com/uauth/uauth/pkg/login"
	"github.com/uauth/uauth/pkg/login/logintest"
	"github.com/uauth/uauth/pkg/testkeys"
	"github.com/uauth/uauth/pkg/uaconfig"
)

var (
	ipA = netip.MustParseAddr("192.0.2.1")
	ipB = netip.MustParseAddr("192.0.2.2")
	t0  = time.Date(2036, 11, 7, 5, 31, 56, 0, time.UTC)
)

// fixture is a login Service over the fake store, on a clock tests move.
type fixture struct {
	t      *testing.T
	store  *logintest.Fake
	svc    *login.Service
	hasher *clientsecret.Hasher
	now    time.Time
}

func newFixture(t *testing.T) *fixture {
	hasher, err := clientsecret.NewHasher([]byte(testkeys.ClientSecretKey))
	if err != nil {
		t.Fatal(err)
	}
	ring, err := keyring.New(context.Background(), keyring.Static(testkeys.SigningKeyPEM()), accesstoken.ParseSigningKey)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, store: logintest.NewFake(), hasher: hasher, now: t0}
	f.svc = &login.Service{Store: f.store, Hasher: hasher, Signer: accesstoken.NewSigner(ring, "uauth"), Now: func() time.Time { return f.now }}
	return f
}

// client configures an identity with body (an attach body) and a secret
// made by mod; it returns the client id and the secret.
func (f *fixture) client(body string, mod func(*clientsecret.Secret)) (string, string) {
	f.t.Helper()
	settings, err := uaconfig.DecodeSettings([]byte(body), "")
	if err != nil {
		f.t.Fatal(err)
	}
	c, err := uaconfig.NewConfig(uaconfig.InfisicalDefaults(), uuid.NewString(), settings, f.now)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.store.Configure(context.Background(), logintest.Org, c); err != nil {
		f.t.Fatal(err)
	}
	secret := clientsecret.Generate()
	s := clientsecret.Secret{ID: f.hasher.ID(secret), MAC: f.hasher.MAC(secret), Prefix: secret[:4], CreatedAt: f.now, UpdatedAt: f.now}
	if mod != nil {
		mod(&s)
	}
	if err := f.store.AddSecret(context.Background(), logintest.Org, c.IdentityID, s); err != nil {
		f.t.Fatal(err)
	}
	return c.ClientID, secret
}

func (f *fixture) login(clientID, secret string, from netip.Addr) (accesstoken.Issued, error) {
	return f.svc.Login(context.Background(), login.Request{ClientID: clientID, ClientSecret: secret,
		From: caller.Origin{IP: from, Issuer: "https://uauth.example"}})
}

func (f *fixture) expect(clientID, secret string, from netip.Addr, want error) {
	f.t.Helper()
	_, err := f.login(clientID, secret, from)
	if !errors.Is(err, want) {
		f.t.Fatalf("login: %v, want %v", err, want)
	}
}

// TestChecksRunInInfisicalsOrder: each refusal wins over the ones after
// it, with Infisical's message.
func TestChecksRunInInfisicalsOrder(t *testing.T) {
	f := newFixture(t)
	fenced := `{"clientSecretTrustedIps": [{"ipAddress": "10.0.0.0/8"}], "lockoutThreshold": 1}`
	expired := func(s *clientsecret.Secret) { s.TTL = 60; s.CreatedAt = t0.Add(-time.Hour) }
	exhausted := func(s *clientsecret.Secret) { s.NumUsesLimit, s.NumUses = 1, 1 }

	// 1. An unknown client id, whatever else is wrong.
	f.expect(uuid.NewString(), "wrong", ipA, login.ErrInvalidCredentials)
	f.expect("not-a-uuid", "wrong", ipA, login.ErrInvalidCredentials)
	// 2. An untrusted address, before the lockout and the secret.
	cid, secret := f.client(fenced, expired)
	f.expect(cid, "wrong", ipA, uaconfig.ErrIPNotTrusted)
	// 3. Locked out, even with the right secret: one failure locks here.
	in := netip.MustParseAddr("10.1.1.1")
	f.expect(cid, "wrong", in, login.ErrInvalidCredentials)
	f.expect(cid, secret, in, login.ErrLocked)
	// 4. A wrong secret, before its expiry and uses are looked at.
	cid, _ = f.client(`{}`, exhausted)
	f.expect(cid, "wrong", ipA, login.ErrInvalidCredentials)
	// 5. Expired, before the use limit.
	cid, secret = f.client(`{}`, func(s *clientsecret.Secret) { expired(s); exhausted(s) })
	f.expect(cid, secret, ipA, login.ErrSecretExpired)
	// 6. Used up.
	cid, secret = f.client(`{}`, exhausted)
	f.expect(cid, secret, ipA, login.ErrSecretExhausted)
	// A revoked secret is a wrong one, and counts.
	cid, secret = f.client(`{"lockoutThreshold": 2}`, func(s *clientsecret.Secret) { s.Revoked = true })
	f.expect(cid, secret, ipA, login.ErrInvalidCredentials)
	if got := f.store.Lockouts(); len(got) == 0 {
		t.Fatal("a revoked secret's failure was not counted")
	}
}

func TestMessagesAreInfisicals(t *testing.T) {
	for err, want := range map[error]string{
		login.ErrInvalidCredentials: "Invalid credentials",
		login.ErrLocked:             "This identity auth method is temporarily locked, please try again later",
		login.ErrSecretExpired:      "Access denied due to expired client secret",
		login.ErrSecretExhausted:    "Access denied due to client secret usage limit reached",
	} {
		var u *caller.UnauthorizedError
		if !errors.As(err, &u) || err.Error() != want {
			t.Errorf("%v: want a 401 with %q", err, want)
		}
	}
}

func TestASuccessIssuesAToken(t *testing.T) {
	f := newFixture(t)
	cid, secret := f.client(`{"accessTokenTTL": 600, "accessTokenMaxTTL": 3600, "accessTokenNumUsesLimit": 7}`, nil)
	issued, err := f.login(cid, secret, ipA)
	if err != nil {
		t.Fatal(err)
	}
	if issued.ExpiresIn != 600 || issued.AccessTokenMaxTTL != 3600 {
		t.Fatalf("issued = %+v", issued)
	}
	tok, err := caller.Parse(issued.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	c := tok.Claims
	if c.ClientID != cid || c.NumUsesLimit != 7 || c.OrgID != logintest.Org || !c.AuthTime.Equal(t0) || c.Issuer != "https://uauth.example" {
		t.Fatalf("claims = %+v", c)
	}
	// A limited token's record is created with the login; an unlimited
	// token has none.
	if rec, ok := f.store.Token(c.ID); !ok || rec.Limit != 7 || !rec.KeepUntil.Equal(t0.Add(accesstoken.MaxLifetime)) {
		t.Fatalf("token record = %+v, %v", rec, ok)
	}
	cid, secret = f.client(`{}`, nil)
	issued, err = f.login(cid, secret, ipA)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ = caller.Parse(issued.AccessToken)
	if _, ok := f.store.Token(tok.Claims.ID); ok {
		t.Fatal("an unlimited token got a record")
	}
}

// TestLockoutWindows holds the lockout's arithmetic at its boundaries.
func TestLockoutWindows(t *testing.T) {
	f := newFixture(t)
	cid, secret := f.client(`{"lockoutThreshold": 2, "lockoutCounterResetSeconds": 30, "lockoutDurationSeconds": 300}`, nil)
	f.expect(cid, "wrong", ipA, login.ErrInvalidCredentials)
	f.now = f.now.Add(30 * time.Second) // the window ends: the count starts over
	f.expect(cid, "wrong", ipA, login.ErrInvalidCredentials)
	f.now = f.now.Add(30*time.Second - time.Millisecond) // last instant of the window: this one locks
	f.expect(cid, "wrong", ipA, login.ErrInvalidCredentials)
	locked := f.now
	f.expect(cid, secret, ipA, login.ErrLocked)
	f.expect(cid, secret, ipB, nil) // locks are per address
	f.now = locked.Add(300*time.Second - time.Millisecond)
	f.expect(cid, secret, ipA, login.ErrLocked)
	f.now = locked.Add(300 * time.Second)
	f.expect(cid, secret, ipA, nil)
	// The success cleared the record: a wrong secret starts a new count.
	f.expect(cid, "wrong", ipA, login.ErrInvalidCredentials)
	f.expect(cid, secret, ipA, nil)
}

func TestLockoutDisabledCountsNothing(t *testing.T) {
	f := newFixture(t)
	cid, secret := f.client(`{"lockoutEnabled": false, "lockoutThreshold": 1}`, nil)
	for range 3 {
		f.expect(cid, "wrong", ipA, login.ErrInvalidCredentials)
	}
	f.expect(cid, secret, ipA, nil)
	if f.store.Calls["RecordFailure"] != 0 {
		t.Fatal("failures were recorded")
	}
}

// TestConcurrentGuessesLearnAtMostTheThreshold: however many wrong secrets
// arrive at once, only lockoutThreshold are answered as wrong.
func TestConcurrentGuessesLearnAtMostTheThreshold(t *testing.T) {
	f := newFixture(t)
	cid, secret := f.client(`{"lockoutThreshold": 3}`, nil)
	var invalid, locked atomic.Int32
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			_, err := f.login(cid, fmt.Sprintf("%064x", i+1), ipA)
			switch {
			case errors.Is(err, login.ErrInvalidCredentials):
				invalid.Add(1)
			case errors.Is(err, login.ErrLocked):
				locked.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if invalid.Load() != 3 || locked.Load() != 37 {
		t.Fatalf("%d invalid, %d locked; want 3 and 37", invalid.Load(), locked.Load())
	}
	f.expect(cid, secret, ipA, login.ErrLocked)
}

// TestUnlimitedSecretsUsesAreFlushed: an unlimited secret's uses are
// written at most once per interval, with every use counted.
func TestUnlimitedSecretsUsesAreFlushed(t *testing.T) {
	f := newFixture(t)
	f.svc.FlushInterval = 5 * time.Second
	cid, secret := f.client(`{}`, nil)
	id := f.hasher.ID(secret)
	uses := func() int64 {
		att, _ := f.store.ReadAttempt(context.Background(), cid, id, "x")
		return att.Secret.NumUses
	}
	f.expect(cid, secret, ipA, nil) // the first use is due at once
	if got := uses(); got != 1 {
		t.Fatalf("uses = %d after the first login", got)
	}
	succeeds := f.store.Calls["Succeed"]
	for range 4 {
		f.now = f.now.Add(time.Second)
		f.expect(cid, secret, ipA, nil)
	}
	if got := uses(); got != 1 {
		t.Fatalf("uses = %d within the interval, want the first only", got)
	}
	f.now = f.now.Add(time.Second) // 5 s after the flush
	f.expect(cid, secret, ipA, nil)
	if got := uses(); got != 6 {
		t.Fatalf("uses = %d after the interval, want all 6", got)
	}
	if got := f.store.Calls["Succeed"] - succeeds; got != 5 {
		t.Fatalf("Succeed called %d times", got)
	}
}

// TestTheDefaultFlushIntervalIsFiveSeconds.
func TestTheDefaultFlushIntervalIsFiveSeconds(t *testing.T) {
	f := newFixture(t)
	cid, secret := f.client(`{}`, nil)
	f.expect(cid, secret, ipA, nil)
	f.now = f.now.Add(login.DefaultFlushInterval - time.Millisecond)
	f.expect(cid, secret, ipA, nil)
	att, _ := f.store.ReadAttempt(context.Background(), cid, f.hasher.ID(secret), "x")
	if att.Secret.NumUses != 1 {
		t.Fatalf("uses = %d, want 1: written within the default interval", att.Secret.NumUses)
	}
}

// TestAFailedWriteOfNoUsesKeepsTheInterval: a login that failed while its
// use was not due leaves the next flush where it was.
func TestAFailedWriteOfNoUsesKeepsTheInterval(t *testing.T) {
	f := newFixture(t)
	cid, secret := f.client(`{}`, nil)
	f.expect(cid, secret, ipA, nil) // flushed: 1
	failing := &failOnce{Fake: f.store, err: errors.New("injected")}
	f.svc.Store = failing
	f.now = f.now.Add(time.Second)
	if _, err := f.login(cid, secret, ipA); !errors.Is(err, failing.err) {
		t.Fatalf("login: %v", err)
	}
	f.now = f.now.Add(time.Second)
	f.expect(cid, secret, ipA, nil) // not due: nothing written
	uses := func() int64 {
		att, _ := f.store.ReadAttempt(context.Background(), cid, f.hasher.ID(secret), "x")
		return att.Secret.NumUses
	}
	if got := uses(); got != 1 {
		t.Fatalf("uses = %d, want 1", got)
	}
	f.now = f.now.Add(5 * time.Second)
	f.expect(cid, secret, ipA, nil)
	if got := uses(); got != 3 {
		t.Fatalf("uses = %d, want the 3 logins that succeeded", got)
	}
}

// TestALoginWhoseWriteFailsCountsNoUse: the uses taken for a write that
// did not land are pending again, less the failed login's own.
func TestALoginWhoseWriteFailsCountsNoUse(t *testing.T) {
	f := newFixture(t)
	cid, secret := f.client(`{}`, nil)
	failing := &failOnce{Fake: f.store, err: errors.New("injected")}
	f.svc.Store = failing
	if _, err := f.login(cid, secret, ipA); !errors.Is(err, failing.err) {
		t.Fatalf("login: %v", err)
	}
	f.expect(cid, secret, ipA, nil)
	att, _ := f.store.ReadAttempt(context.Background(), cid, f.hasher.ID(secret), "x")
	if att.Secret.NumUses != 1 {
		t.Fatalf("uses = %d, want 1 (the failed login's own is not counted)", att.Secret.NumUses)
	}
}

// TestAConfigurationRevokedMeanwhile: a success that writes, on a
// configuration revoked since its read, is refused as unknown.
func TestAConfigurationRevokedMeanwhile(t *testing.T) {
	f := newFixture(t)
	cid, secret := f.client(`{"accessTokenNumUsesLimit": 2}`, nil)
	f.svc.Store = &revokeBeforeSucceed{Fake: f.store}
	f.expect(cid, secret, ipA, login.ErrInvalidCredentials)
}

func TestBucket(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.1":            "192.0.2.1",
		"::ffff:192.0.2.1":     "192.0.2.1",
		"2001:db8::1":          "2001:db8::/64",
		"2001:db8::ffff:1":     "2001:db8::/64",
		"2001:db8:0:1::1":      "2001:db8:0:1::/64",
		"fe80::1%eth0":         "fe80::/64",
		"2001:db8:a:b:c:d:e:f": "2001:db8:a:b::/64",
	} {
		if got := login.Bucket(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Bucket(%s) = %s, want %s", addr, got, want)
		}
	}
}

func TestLockoutStates(t *testing.T) {
	c := uaconfig.InfisicalDefaults() // threshold 3, reset 30 s, lock 300 s
	at := func(fails int64, ago time.Duration) login.Lockout {
		return login.Lockout{Exists: true, Fails: fails, LastFailAt: t0.Add(-ago)}
	}
	cases := []struct {
		l                       login.Lockout
		locked, counting, alive bool
	}{
		{login.Lockout{}, false, false, false},
		{at(1, 0), false, true, true},
		{at(2, 30*time.Second-time.Nanosecond), false, true, true},
		{at(2, 30*time.Second), false, false, false},
		{at(3, 0), true, false, true},
		{at(3, 300*time.Second-time.Nanosecond), true, false, true},
		{at(3, 300*time.Second), false, false, false},
		{at(4, time.Second), true, false, true},
	}
	for _, tc := range cases {
		if got := tc.l.Locked(&c, t0); got != tc.locked {
			t.Errorf("%+v: Locked = %v", tc.l, got)
		}
		if got := tc.l.Counting(&c, t0); got != tc.counting {
			t.Errorf("%+v: Counting = %v", tc.l, got)
		}
		if got := tc.l.Live(&c, t0); got != tc.alive {
			t.Errorf("%+v: Live = %v", tc.l, got)
		}
	}
}

type failOnce struct {
	*logintest.Fake
	err  error
	done bool
}

func (f *failOnce) Succeed(ctx context.Context, s login.Success) error {
	if !f.done {
		f.done = true
		return f.err
	}
	return f.Fake.Succeed(ctx, s)
}

type revokeBeforeSucceed struct{ *logintest.Fake }

func (r *revokeBeforeSucceed) Succeed(ctx context.Context, s login.Success) error {
	if err := r.Fake.Unconfigure(ctx, logintest.Org, s.IdentityID); err != nil {
		return err
	}
	return r.Fake.Succeed(ctx, s)
}

// TestStoreFailuresAreReturned: a failure to read, to record a failure or
// to write a success is the login's error, never a verdict.
func TestStoreFailuresAreReturned(t *testing.T) {
	f := newFixture(t)
	cid, secret := f.client(`{}`, nil)
	broken := &brokenStore{Fake: f.store, err: errors.New("injected")}
	f.svc.Store = broken
	for _, op := range []string{"ReadAttempt", "RecordFailure", "Succeed"} {
		broken.op = op
		try := secret
		if op == "RecordFailure" {
			try = "wrong"
		}
		if _, err := f.login(cid, try, ipA); !errors.Is(err, broken.err) {
			t.Errorf("%s failing: %v", op, err)
		}
	}
}

type brokenStore struct {
	*logintest.Fake
	op  string
	err error
}

func (b *brokenStore) ReadAttempt(ctx context.Context, c, s, k string) (login.Attempt, error) {
	if b.op == "ReadAttempt" {
		return login.Attempt{}, b.err
	}
	return b.Fake.ReadAttempt(ctx, c, s, k)
}

func (b *brokenStore) RecordFailure(ctx context.Context, c, k string, fl login.Failure) (*login.Lockout, error) {
	if b.op == "RecordFailure" {
		return nil, b.err
	}
	return b.Fake.RecordFailure(ctx, c, k, fl)
}

func (b *brokenStore) Succeed(ctx context.Context, s login.Success) error {
	if b.op == "Succeed" {
		return b.err
	}
	return b.Fake.Succeed(ctx, s)
}
