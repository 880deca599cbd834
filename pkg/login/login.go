// Package login is Universal Auth login: a client id and a client secret
// in, an access token out, with every setting of the configuration
// enforced at its step, and the lockout that guards it.
//
// A login costs one DynamoDB round trip when it has nothing to write, two
// when it has: one BatchGetItem reads what the decision needs (login's view
// of the configuration, the secret's record and the lockout record, all
// under the client id), then one request records the outcome. Login's view
// is live exactly while the identity has the configuration: revoking the
// configuration or deleting the identity deletes it in the same
// transaction, so the read alone decides. A success that writes (a limited
// secret or token, a lockout to clear, a use count due) also checks, in
// the same transaction, that the identity still has this configuration.
package login

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/uauth/uauth/pkg/accesstoken"
	"github.com/uauth/uauth/pkg/audit"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/clientsecret"
	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/metrics"
	"github.com/uauth/uauth/pkg/uaconfig"
)

// Errors, with Infisical's messages.
var (
	ErrInvalidCredentials = &caller.UnauthorizedError{Message: "Invalid credentials"}
	ErrLocked             = &caller.UnauthorizedError{Message: "This identity auth method is temporarily locked, please try again later"}
	ErrSecretExpired      = &caller.UnauthorizedError{Message: "Access denied due to expired client secret"}
	ErrSecretExhausted    = &caller.UnauthorizedError{Message: "Access denied due to client secret usage limit reached"}
)

// Errors of Store.Succeed.
var (
	// ErrGone: the identity no longer has this configuration.
	ErrGone = errors.New("login: the configuration is gone")
	// ErrSecretRevoked: the secret was revoked meanwhile.
	ErrSecretRevoked = errors.New("login: the secret was revoked")
	// ErrNoUsesLeft: another login took the secret's last use meanwhile.
	ErrNoUsesLeft = errors.New("login: the secret's uses ran out")
)

// Client is login's view of a configuration.
type Client struct {
	IdentityID string
	OrgID      string
	Config     uaconfig.Config
}

// Attempt is what a login decides on.
type Attempt struct {
	Client  *Client              // nil: unknown client id
	Secret  *clientsecret.Secret // nil: no secret with the presented one's id
	Lockout Lockout
}

// Success is what a successful login writes.
type Success struct {
	IdentityID, ClientID, SecretID string
	At                             time.Time
	// CountUse: the secret is limited, so this use is counted exactly, on
	// the condition that uses are left.
	CountUse     bool
	NumUsesLimit int64
	// AddUses adds to an unlimited secret's approximate count.
	AddUses int64
	// Token is the record of a limited token, created with the login.
	Token *TokenRecord
	// ClearLockout deletes the lockout record of this bucket.
	ClearLockout string
}

// TokenRecord is a limited token's record.
type TokenRecord struct {
	JTI, IdentityID string
	Limit           int64
	KeepUntil       time.Time
}

// Store is what login needs from storage.
type Store interface {
	// ReadAttempt reads, in one round trip, the view of clientID's
	// configuration, the secret secretID under it, and the lockout record
	// of bucket.
	ReadAttempt(ctx context.Context, clientID, secretID, bucket string) (Attempt, error)
	// RecordFailure adds a failure to the lockout record, if it still is
	// as f assumed; otherwise it returns the record as it now is.
	RecordFailure(ctx context.Context, clientID, bucket string, f Failure) (*Lockout, error)
	// Succeed writes a success in one round trip, on the condition that
	// the identity still has the configuration: ErrGone, ErrSecretRevoked
	// or ErrNoUsesLeft otherwise, with nothing written. A success with
	// nothing to write costs no round trip.
	Succeed(ctx context.Context, s Success) error
	// ClearLockouts deletes every lockout record of the identity's
	// configuration, and returns how many there were; guard is the
	// caller's permission boundary (see uaconfig.Store).
	ClearLockouts(ctx context.Context, orgID, identityID string, guard identity.Guard) (int, error)
}

// DefaultFlushInterval is how often at most one instance writes an
// unlimited secret's use count.
const DefaultFlushInterval = 5 * time.Second

// Service logs machine identities in.
type Service struct {
	Store  Store
	Hasher *clientsecret.Hasher
	Signer *accesstoken.Signer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// FlushInterval spaces the writes of unlimited secrets' use counts; 0
	// means DefaultFlushInterval.
	FlushInterval time.Duration

	mu    sync.Mutex
	usage map[string]*pendingUses // by client id and secret id
}

// pendingUses are uses of an unlimited secret not written yet.
type pendingUses struct {
	n         int64
	flushedAt time.Time
}

// Request is one login.
type Request struct {
	ClientID     string
	ClientSecret string
	From         caller.Origin
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Login checks a client id and secret, in Infisical's order, and issues an
// access token.
//
// Every login is a metric (Logins by outcome, LoginLatency) and an audit
// record, success or failure; a failure that locks starts a lockout, a
// metric and an audit record of its own.
func (s *Service) Login(ctx context.Context, r Request) (accesstoken.Issued, error) {
	start := time.Now()
	var seen attempt
	issued, err := s.login(ctx, r, &seen)
	m := metrics.FromContext(ctx)
	outcome := Outcome(err)
	m.Count(metrics.Logins, outcome)
	m.Observe(metrics.LoginLatency, float64(time.Since(start).Microseconds())/1000)
	m.Property("clientId", seen.clientID)
	m.Property("identityId", seen.identityID)
	ev := audit.Event{Event: audit.Login, Outcome: audit.Success, ClientID: seen.clientID, IdentityID: seen.identityID,
		OrgID: seen.orgID, Actor: seen.identityID, SecretID: seen.secretID, JTI: seen.jti}
	if err != nil {
		ev.Outcome, ev.Reason, ev.JTI = audit.Failure, outcome, ""
	}
	audit.Record(ctx, ev)
	return issued, err
}

// attempt is what a login learned of whom it was for, for its metric and
// audit record.
type attempt struct{ clientID, identityID, orgID, secretID, jti string }

// Outcome names a login's outcome for metrics and the audit trail.
func Outcome(err error) string {
	switch {
	case err == nil:
		return "success"
	case errors.Is(err, ErrInvalidCredentials):
		return "invalid_credentials"
	case errors.Is(err, ErrLocked):
		return "locked"
	case errors.Is(err, uaconfig.ErrIPNotTrusted):
		return "ip_refused"
	case errors.Is(err, ErrSecretExpired):
		return "secret_expired"
	case errors.Is(err, ErrSecretExhausted):
		return "secret_exhausted"
	default:
		return "error"
	}
}

func (s *Service) login(ctx context.Context, r Request, seen *attempt) (accesstoken.Issued, error) {
	clientID, ok := identity.CanonicalID(r.ClientID)
	if !ok {
		return accesstoken.Issued{}, ErrInvalidCredentials
	}
	seen.clientID = clientID
	now := s.now()
	secretID := s.Hasher.ID(r.ClientSecret)
	bucket := Bucket(r.From.IP)
	att, err := s.Store.ReadAttempt(ctx, clientID, secretID, bucket)
	if err != nil {
		return accesstoken.Issued{}, err
	}
	// 1. Unknown client id.
	if att.Client == nil {
		return accesstoken.Issued{}, ErrInvalidCredentials
	}
	cl, cfg := att.Client, &att.Client.Config
	seen.identityID, seen.orgID = cl.IdentityID, cl.OrgID
	// 2. Trusted IPs. Not a failure for the lockout.
	if !cfg.ClientSecretTrustedIPs.Allows(r.From.IP) {
		return accesstoken.Issued{}, uaconfig.ErrIPNotTrusted
	}
	// 3. Locked out: even the right secret is refused.
	if cfg.LockoutEnabled && att.Lockout.Locked(cfg, now) {
		return accesstoken.Issued{}, ErrLocked
	}
	// 4. Wrong or revoked secret: counts towards the lockout.
	sec := att.Secret
	if sec == nil || sec.Revoked || !s.Hasher.Matches(r.ClientSecret, sec.MAC) {
		if cfg.LockoutEnabled {
			return accesstoken.Issued{}, s.recordFailure(ctx, cl, cfg, bucket, att.Lockout, now)
		}
		return accesstoken.Issued{}, ErrInvalidCredentials
	}
	// 5. Expired, 6. used up.
	if sec.Expired(now) {
		return accesstoken.Issued{}, ErrSecretExpired
	}
	if sec.Exhausted() {
		return accesstoken.Issued{}, ErrSecretExhausted
	}

	seen.secretID = sec.ID
	grant := accesstoken.Grant{IdentityID: cl.IdentityID, OrgID: cl.OrgID, ClientID: clientID, ClientSecretID: sec.ID,
		JTI: uuid.NewString(), AuthTime: now, NumUsesLimit: cfg.AccessTokenNumUsesLimit}
	success := Success{IdentityID: cl.IdentityID, ClientID: clientID, SecretID: sec.ID, At: now}
	if sec.NumUsesLimit > 0 {
		success.CountUse, success.NumUsesLimit = true, sec.NumUsesLimit
	} else {
		success.AddUses = s.takeUses(clientID+"/"+sec.ID, now)
	}
	if grant.NumUsesLimit > 0 {
		success.Token = &TokenRecord{JTI: grant.JTI, IdentityID: cl.IdentityID, Limit: grant.NumUsesLimit, KeepUntil: now.Add(accesstoken.MaxLifetime)}
	}
	if att.Lockout.Exists && att.Lockout.Live(cfg, now) {
		success.ClearLockout = bucket
	}
	err = s.Store.Succeed(ctx, success)
	if err != nil && !success.CountUse {
		s.untakeUses(clientID+"/"+sec.ID, success.AddUses)
	}
	switch {
	case errors.Is(err, ErrGone), errors.Is(err, ErrSecretRevoked):
		return accesstoken.Issued{}, ErrInvalidCredentials
	case errors.Is(err, ErrNoUsesLeft):
		return accesstoken.Issued{}, ErrSecretExhausted
	case err != nil:
		return accesstoken.Issued{}, err
	}
	// Issue refuses only once max TTL has passed since the token's auth
	// time, which at login is now: a max TTL is at least a second.
	issued, _, err := s.Signer.Issue(ctx, r.From.Issuer, grant, cfg, now)
	seen.jti = grant.JTI
	return issued, err
}

// recordFailure adds a wrong secret's failure to the lockout and returns
// the answer its login gets. The failure's conditional write is the slot
// that lets a wrong guess learn it was wrong: only a failure that was
// counted is answered ErrInvalidCredentials. A guess that finds the count
// at the threshold, because concurrent guesses got there first, is
// answered ErrLocked, as if it had come a moment later. So at most
// lockoutThreshold guesses per window learn anything, however many arrive
// at once, and a correct secret is refused once the lockout holds: the
// record read before the comparison cannot be outrun.
//
// Each lost race means another failure was counted, and the count stops
// at the threshold, so the loop ends; should it not, the guess is refused
// as locked rather than with an error, which would say nothing wrong about
// the secret either way.
//
// The failure that reaches the threshold starts a lockout: a metric and an
// audit record.
func (s *Service) recordFailure(ctx context.Context, cl *Client, cfg *uaconfig.Config, bucket string, l Lockout, now time.Time) error {
	clientID := cl.Config.ClientID
	for range cfg.LockoutThreshold + 2 {
		if l.Locked(cfg, now) {
			return ErrLocked
		}
		f := failure(cfg, l, now)
		current, err := s.Store.RecordFailure(ctx, clientID, bucket, f)
		switch {
		case err != nil:
			return err
		case current == nil: // counted
			fails := int64(1)
			if f.Add {
				fails = l.Fails + 1
			}
			if fails >= cfg.LockoutThreshold {
				metrics.FromContext(ctx).Count(metrics.LockoutsStarted, "")
				audit.Record(ctx, audit.Event{Event: audit.LockoutStarted, Outcome: audit.Success, ClientID: clientID,
					IdentityID: cl.IdentityID, OrgID: cl.OrgID})
			}
			return ErrInvalidCredentials
		}
		l = *current
	}
	return ErrLocked
}

// takeUses counts one use of an unlimited secret and returns how many to
// write now: none until FlushInterval has passed since this instance last
// wrote the secret's count. A shared secret is then written at most once
// per interval per instance, however many logins it serves.
func (s *Service) takeUses(key string, now time.Time) int64 {
	interval := s.FlushInterval
	if interval <= 0 {
		interval = DefaultFlushInterval
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.usage == nil {
		s.usage = map[string]*pendingUses{}
	}
	p := s.usage[key]
	if p == nil {
		p = &pendingUses{}
		s.usage[key] = p
	}
	p.n++
	if now.Sub(p.flushedAt) < interval {
		return 0
	}
	n := p.n
	p.n, p.flushedAt = 0, now
	return n
}

// untakeUses undoes takeUses for a login whose write did not land: its own
// use is not counted, and the others taken for the write (n-1 of them) are
// pending again, to be written by the next login.
func (s *Service) untakeUses(key string, n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.usage[key]; p != nil {
		p.n += n - 1
		if n > 0 {
			p.flushedAt = time.Time{}
		}
	}
}

// ClearLockouts deletes the lockout records of an identity's configuration.
func (s *Service) ClearLockouts(ctx context.Context, orgID, identityID string, guard identity.Guard) (int, error) {
	return s.Store.ClearLockouts(ctx, orgID, identityID, guard)
}
