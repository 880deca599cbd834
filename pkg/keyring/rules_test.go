package keyring

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestSecretIsAtLeast32Bytes: a symmetric key of MinSecretBytes (32)
// bytes or more is accepted as it is; a shorter one is refused.
func TestSecretIsAtLeast32Bytes(t *testing.T) {
	for n, ok := range map[int]bool{0: false, 1: false, MinSecretBytes - 1: false, MinSecretBytes: true, MinSecretBytes + 1: true, 64: true} {
		key := bytes.Repeat([]byte{'k'}, n)
		got, err := Secret(key)
		if (err == nil) != ok || (ok && !bytes.Equal(got, key)) {
			t.Errorf("%d bytes: %q, %v; want accepted = %v", n, got, err, ok)
		}
	}
}

// TestAnUnusablePreviousVersionIsReportedOnce: a previous version that
// does not parse is reported to OnError when a re-read first finds it, not
// again on the re-reads that find it still there (after a first rotation
// it is the stack's placeholder), and again once it is another value.
func TestAnUnusablePreviousVersionIsReportedOnce(t *testing.T) {
	src := &source{vers: [][]byte{k1}}
	r, clk := newRing(t, src)
	var reported []error
	r.OnError = func(err error) { reported = append(reported, err) }
	reread := func() [][]byte {
		clk.add(r.MaxAge)
		return r.Keys(context.Background())
	}

	src.set(k2, []byte("placeholder"))
	for i := range 3 {
		if keys := reread(); len(keys) != 1 || !has(keys, k2) {
			t.Fatalf("re-read %d: keys %q, want k2 alone", i, keys)
		}
	}
	if len(reported) != 1 || !strings.Contains(reported[0].Error(), "previous key skipped") {
		t.Fatalf("%d reports for one unusable previous version over 3 re-reads, want 1: %v", len(reported), reported)
	}
	src.set(k3, []byte("another bad one"))
	reread()
	reread()
	if len(reported) != 2 {
		t.Fatalf("%d reports after a second unusable previous version, want 2: %v", len(reported), reported)
	}
}
