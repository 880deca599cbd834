package keyring

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// source is a Source whose versions the test replaces, counting reads.
type source struct {
	mu    sync.Mutex
	vers  [][]byte
	err   error
	reads atomic.Int32
}

func (s *source) set(vers ...[]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vers = vers
}

func (s *source) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

func (s *source) read(context.Context) ([][]byte, error) {
	s.reads.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.vers, s.err
}

// clock is a settable clock: nothing in a ring waits on real time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var (
	k1 = []byte("key-1-0123456789abcdef0123456789ab")
	k2 = []byte("key-2-0123456789abcdef0123456789ab")
	k3 = []byte("key-3-0123456789abcdef0123456789ab")
)

func newRing(t *testing.T, src *source) (*Ring[[]byte], *clock) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 11, 7, 5, 0, 0, 0, time.UTC)}
	r := &Ring[[]byte]{source: src.read, parse: Secret, MaxAge: DefaultMaxAge, MinInterval: DefaultMinInterval, Now: clk.now}
	r.attemptedAt = clk.now()
	if err := r.load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r, clk
}

func has(keys [][]byte, k []byte) bool {
	for _, x := range keys {
		if string(x) == string(k) {
			return true
		}
	}
	return false
}

func TestNewRefusesWeakAndMissingKeys(t *testing.T) {
	for name, src := range map[string]Source{
		"short key":   Static([]byte("only-31-bytes-long-0123456789ab")),
		"empty":       Static(),
		"read fails":  func(context.Context) ([][]byte, error) { return nil, errors.New("AccessDenied") },
		"empty value": Static([]byte{}),
	} {
		if _, err := New(context.Background(), src, Secret); err == nil {
			t.Errorf("%s: accepted at cold start", name)
		}
	}
	if _, err := New(context.Background(), Static(k1), Secret); err != nil {
		t.Fatalf("a 34-byte key: %v", err)
	}
}

func TestRefreshFindsARotatedKeyOnceForConcurrentCallers(t *testing.T) {
	src := &source{vers: [][]byte{k1}}
	r, clk := newRing(t, src)
	_, loaded := r.Loaded()
	clk.add(time.Minute)
	src.set(k2, k1) // put-secret-value: AWSCURRENT k2, AWSPREVIOUS k1
	issued := clk.now()
	before := src.reads.Load()
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			keys, newer := r.Refresh(context.Background(), loaded, issued)
			if !newer || !has(keys, k2) || !has(keys, k1) {
				t.Errorf("Refresh = %q, %v; want both keys", keys, newer)
			}
		})
	}
	wg.Wait()
	if n := src.reads.Load() - before; n != 1 {
		t.Fatalf("%d reads for concurrent callers, want 1", n)
	}
}

// TestForgedTokensCannotBlockANewKey is the attack on the reload budget:
// forged tokens that claim to be new trigger reads before a rotation, and
// a genuine token signed with the rotated key must still find it.
func TestForgedTokensCannotBlockANewKey(t *testing.T) {
	src := &source{vers: [][]byte{k1}}
	r, clk := newRing(t, src)

	// A flood of forged tokens, issued "now": one read per MinInterval.
	clk.add(time.Minute)
	_, loaded := r.Loaded()
	for range 5 {
		r.Refresh(context.Background(), loaded, clk.now())
	}
	// Tokens that claim to be older than the last read cause none.
	_, loaded = r.Loaded()
	before := src.reads.Load()
	for range 100 {
		if _, newer := r.Refresh(context.Background(), loaded, clk.now().Add(-time.Second)); newer {
			t.Fatal("a read found keys that cannot be newer")
		}
	}
	if n := src.reads.Load() - before; n != 0 {
		t.Fatalf("100 tokens older than the last read caused %d reads", n)
	}

	// The key rotates right after the forged flood; a token signed with it
	// is issued later than the flood's last read, so it is found at once.
	clk.add(10 * time.Second)
	src.set(k2, k1)
	clk.add(time.Second)
	_, loaded = r.Loaded()
	keys, newer := r.Refresh(context.Background(), loaded, clk.now())
	if !newer || !has(keys, k2) {
		t.Fatalf("the rotated key was not found: %q, %v", keys, newer)
	}
}

func TestKeysRetireAfterMaxAge(t *testing.T) {
	src := &source{vers: [][]byte{k2, k1}}
	r, clk := newRing(t, src)
	src.set(k3, k2)
	if keys := r.Keys(context.Background()); !has(keys, k1) {
		t.Fatal("k1 retired before MaxAge")
	}
	clk.add(DefaultMaxAge)
	if keys := r.Keys(context.Background()); has(keys, k1) || !has(keys, k3) {
		t.Fatalf("after MaxAge: %q, want k3 and k2", keys)
	}
}

func TestFailedReadsKeepTheKeysAndAreSpaced(t *testing.T) {
	src := &source{vers: [][]byte{k1}}
	r, clk := newRing(t, src)
	var reported []error
	r.OnError = func(err error) { reported = append(reported, err) }
	src.fail(errors.New("ThrottlingException"))
	clk.add(DefaultMaxAge)
	before := src.reads.Load()
	for range 20 {
		if keys := r.Keys(context.Background()); !has(keys, k1) {
			t.Fatal("a failed read lost the keys")
		}
	}
	if n := src.reads.Load() - before; n != 1 || len(reported) != 1 {
		t.Fatalf("%d reads and %d reports for 20 calls with a failing source, want 1 and 1", n, len(reported))
	}
	clk.add(staleRetry)
	r.Keys(context.Background())
	if n := src.reads.Load() - before; n != 2 {
		t.Fatalf("no retry after %v", staleRetry)
	}
}

func TestAWeakPreviousVersionIsSkipped(t *testing.T) {
	src := &source{vers: [][]byte{k1, []byte("short")}}
	r, _ := newRing(t, src)
	if keys, _ := r.Loaded(); len(keys) != 1 || !has(keys, k1) {
		t.Fatalf("keys = %q", keys)
	}
}

// TestRefreshWithinMinIntervalIsRefusedAtOnce: within MinInterval of the
// last read, a refresh is refused without a read, and without waiting for
// the interval (the calls return false; a wait would end in a read), even
// for a token that names a key rotated in since. The first token after
// the interval finds that key, with one read.
func TestRefreshWithinMinIntervalIsRefusedAtOnce(t *testing.T) {
	src := &source{vers: [][]byte{k1}}
	r, clk := newRing(t, src)
	_, loaded := r.Loaded()
	before := src.reads.Load()
	src.set(k2, k1)
	clk.add(r.MinInterval - time.Millisecond)
	for _, issued := range []time.Time{clk.now(), clk.now().Add(time.Hour)} {
		if keys, newer := r.Refresh(context.Background(), loaded, issued); newer || has(keys, k2) {
			t.Fatalf("within MinInterval: %q, %v; want the keys in hand and false", keys, newer)
		}
		if n := src.reads.Load() - before; n != 0 {
			t.Fatalf("%d reads within MinInterval", n)
		}
	}
	clk.add(time.Millisecond)
	keys, newer := r.Refresh(context.Background(), loaded, clk.now())
	if n := src.reads.Load() - before; !newer || !has(keys, k2) || n != 1 {
		t.Fatalf("after MinInterval: %q, %v, %d reads; want k2, true, 1 read", keys, newer, n)
	}
}
