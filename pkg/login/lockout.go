package login

import (
	"net/netip"
	"time"

	"github.com/uauth/uauth/pkg/uaconfig"
)

// Lockout is the record of failed logins for one client id from one
// address. It is kept per address, not per client id as in Infisical: an
// attacker who knows a client id can then lock out only themselves, never
// the workload that uses it.
//
// The record holds a count and the time of the last failure; everything
// else follows from the configuration in force when it is read. Failures
// count while each comes within lockoutCounterResetSeconds of the one
// before. The failure that reaches lockoutThreshold locks the client, from
// that address, for lockoutDurationSeconds; a success deletes the record.
type Lockout struct {
	Exists     bool
	Fails      int64
	LastFailAt time.Time
}

// Locked reports whether the record locks the client at now.
func (l Lockout) Locked(c *uaconfig.Config, now time.Time) bool {
	return l.Fails >= c.LockoutThreshold && now.Before(l.LastFailAt.Add(seconds(c.LockoutDurationSeconds)))
}

// Counting reports whether a failure at now adds to the record's count,
// rather than starting a new one: the count is below the threshold and the
// last failure is within the reset window.
func (l Lockout) Counting(c *uaconfig.Config, now time.Time) bool {
	return l.Fails < c.LockoutThreshold && now.Before(l.LastFailAt.Add(seconds(c.LockoutCounterResetSeconds)))
}

// Live reports whether the record still matters at now: counting or locked.
func (l Lockout) Live(c *uaconfig.Config, now time.Time) bool {
	return l.Counting(c, now) || l.Locked(c, now)
}

// Failure is one failed login to record.
type Failure struct {
	At time.Time
	// Add: add to the count (Counting held when it was read); otherwise
	// start a new count at 1 (no live record was read). The store writes
	// only if that still holds, so that concurrent failures all count.
	Add bool
	// The configuration's lockout settings.
	Threshold             int64
	ResetAfter, LockedFor time.Duration
}

// KeepUntil is when the record may expire, whatever happens next.
func (f Failure) KeepUntil() time.Time { return f.At.Add(max(f.ResetAfter, f.LockedFor)) }

func failure(c *uaconfig.Config, l Lockout, now time.Time) Failure {
	return Failure{At: now, Add: l.Counting(c, now), Threshold: c.LockoutThreshold,
		ResetAfter: seconds(c.LockoutCounterResetSeconds), LockedFor: seconds(c.LockoutDurationSeconds)}
}

func seconds(n int64) time.Duration { return time.Duration(n) * time.Second }

// Bucket is the address a lockout is kept for: an IPv4 address, or the /64
// of an IPv6 address, since one IPv6 client commonly holds a whole /64.
func Bucket(addr netip.Addr) string {
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}
