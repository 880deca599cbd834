// Package keyring keeps key material read from a Source (Secrets Manager in
// AWS, the environment or a file locally) and re-reads it around rotations,
// within a bounded budget.
//
// Keys are re-read when they are older than MaxAge, so that a retired key
// stops working on every instance within that time, and on demand when a
// token names a key the ring does not hold (Refresh), so that an instance
// warm since before a rotation accepts the new key at once. An on-demand
// read happens only for a token that claims to be issued after the last
// read began: a key created after that read cannot be in it, while a token
// older than it was verifiable with what the read found.
//
// On-demand reads are at most one per MinInterval, and a caller within
// MinInterval of the last read is refused at once, never made to wait:
// the token is unauthenticated, and a wait would let junk hold an instance
// for MinInterval per request. So a forged token costs at most one read
// per MinInterval and no time. The price falls on a key that really is
// new: it is found by the first token that names it, unless a read began
// less than MinInterval before that token (and so before the key existed);
// that token is refused, and the first one after the interval finds the
// key. A new key is thus refused for at most MinInterval after it appears.
// The only wait is for a read already in flight, bounded by the Source's
// own call. Verifiers refuse a token that claims an iat in the future
// before they ask (caller.Token.IssuedAt): such a token always claims to
// be newer than the last read.
package keyring

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Source reads the versions of a key, current first: Secrets Manager's
// AWSCURRENT, then AWSPREVIOUS if there is one.
type Source func(ctx context.Context) ([][]byte, error)

// Static is a Source of fixed versions.
func Static(versions ...[]byte) Source {
	return func(context.Context) ([][]byte, error) { return versions, nil }
}

// Defaults for a Ring's re-reads.
const (
	DefaultMaxAge      = 5 * time.Minute
	DefaultMinInterval = time.Second
	// MinSecretBytes is the shortest symmetric key accepted: 256 bits, the
	// strength of HS256 and HMAC-SHA256.
	MinSecretBytes = 32
	// staleRetry spaces the re-reads of keys past MaxAge while the source
	// fails.
	staleRetry = time.Minute
)

// Ring holds the parsed versions of one key, current first.
type Ring[K any] struct {
	source Source
	parse  func([]byte) (K, error)

	// MaxAge, MinInterval and Now may be changed before the ring is shared.
	MaxAge      time.Duration
	MinInterval time.Duration
	Now         func() time.Time
	// OnError, if set, hears of failed re-reads and of versions that do not
	// parse; the keys in hand stay in use.
	OnError func(error)

	reloadMu    sync.Mutex // one read at a time; concurrent callers wait for it
	attemptedAt time.Time  // guarded by reloadMu: when the last read began
	skipped     string     // guarded by reloadMu: the previous version last reported unusable

	mu       sync.RWMutex // guards keys and loadedAt
	keys     []K
	loadedAt time.Time
}

// New reads source once, now: a read that fails, or a current version that
// does not parse, fails here, at cold start. A previous version that does
// not parse is skipped, silently: OnError is not set yet, and a later read
// reports a previous version only once it changes (see load), so a
// rotation's placeholder is not an error on every refresh.
func New[K any](ctx context.Context, source Source, parse func([]byte) (K, error)) (*Ring[K], error) {
	r := &Ring[K]{source: source, parse: parse, MaxAge: DefaultMaxAge, MinInterval: DefaultMinInterval, Now: time.Now}
	r.attemptedAt = r.Now()
	if err := r.load(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Ring[K]) load(ctx context.Context) error {
	versions, err := r.source(ctx)
	if err != nil {
		return fmt.Errorf("keyring: reading keys: %w", err)
	}
	if len(versions) == 0 {
		return errors.New("keyring: no key")
	}
	keys := make([]K, 0, len(versions))
	for i, v := range versions {
		k, err := r.parse(v)
		switch {
		case err != nil && i == 0:
			return fmt.Errorf("keyring: current key: %w", err)
		case err != nil:
			// Reported once, not on every re-read: after a first rotation
			// the previous version is the stack's placeholder.
			if string(v) != r.skipped {
				r.skipped = string(v)
				r.report(fmt.Errorf("keyring: previous key skipped: %w", err))
			}
		default:
			keys = append(keys, k)
		}
	}
	r.mu.Lock()
	r.keys, r.loadedAt = keys, r.Now()
	r.mu.Unlock()
	return nil
}

func (r *Ring[K]) report(err error) {
	if r.OnError != nil {
		r.OnError(err)
	}
}

// Keys returns the keys, current first, re-reading them first if they are
// older than MaxAge. A failed re-read keeps the keys in hand.
func (r *Ring[K]) Keys(ctx context.Context) []K {
	r.mu.RLock()
	keys, loaded := r.keys, r.loadedAt
	r.mu.RUnlock()
	if r.Now().Sub(loaded) < r.MaxAge {
		return keys
	}
	r.reloadMu.Lock()
	defer r.reloadMu.Unlock()
	// Another caller re-read meanwhile, or a read failed lately: a source
	// in trouble is not asked on every request.
	if r.snapshotTime().After(loaded) || r.Now().Sub(r.attemptedAt) < staleRetry {
		return r.current()
	}
	r.attemptedAt = r.Now()
	if err := r.load(ctx); err != nil {
		r.report(err)
	}
	return r.current()
}

// Refresh re-reads the keys for a token that names a key the ring does not
// hold, and returns them and whether they are newer than seen (the load
// time of the keys the caller had, from Loaded). issuedAt is the token's
// unverified iat: the read happens only if it is later than the start of
// the last read, and MinInterval or more after it. Otherwise the caller
// gets the keys in hand and false at once (see the package comment for
// why it never waits); it waits only for a read in flight, and then gets
// that read's keys.
func (r *Ring[K]) Refresh(ctx context.Context, seen, issuedAt time.Time) ([]K, bool) {
	r.reloadMu.Lock()
	defer r.reloadMu.Unlock()
	if r.snapshotTime().After(seen) {
		return r.current(), true
	}
	if !issuedAt.After(r.attemptedAt) || r.Now().Sub(r.attemptedAt) < r.MinInterval {
		return r.current(), false
	}
	r.attemptedAt = r.Now()
	if err := r.load(ctx); err != nil {
		r.report(err)
		return r.current(), false
	}
	return r.current(), true
}

// Loaded returns the keys and when they were read.
func (r *Ring[K]) Loaded() ([]K, time.Time) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.keys, r.loadedAt
}

func (r *Ring[K]) current() []K {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.keys
}

func (r *Ring[K]) snapshotTime() time.Time {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.loadedAt
}

// Secret parses a symmetric key: at least MinSecretBytes bytes.
func Secret(b []byte) ([]byte, error) {
	if len(b) < MinSecretBytes {
		return nil, fmt.Errorf("key is %d bytes, shorter than the %d required", len(b), MinSecretBytes)
	}
	return b, nil
}
