package identity_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/uauth/uauth/pkg/identity"
)

const canonical = "8c1f4b8e-5d2a-4b7e-9f3c-2a6d1e0b7c45"

// IDs are DynamoDB keys: only the 36-character form, in any case, is an
// id, and it has exactly one (lower-case) spelling.
func TestCanonicalIDAcceptsThe36CharacterFormInAnyCase(t *testing.T) {
	for _, in := range []string{
		canonical,
		strings.ToUpper(canonical),
		"8C1f4B8e-5D2a-4B7e-9F3c-2A6d1E0b7C45",
		"00000000-0000-0000-0000-000000000000", // nil UUID
		"FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF", // max UUID
		"0d6c4a8e-1b2f-8c3d-9e4f-5a6b7c8d9e0f", // version 8, as client secret ids are
	} {
		got, ok := identity.CanonicalID(in)
		if want := strings.ToLower(in); !ok || got != want {
			t.Errorf("CanonicalID(%q) = %q, %v; want %q, true", in, got, ok, want)
		}
	}
}

func TestCanonicalIDRefusesEveryOtherForm(t *testing.T) {
	for _, in := range []string{
		"",
		"8c1f4b8e5d2a4b7e9f3c2a6d1e0b7c45",       // 32 characters, no hyphens
		"{8c1f4b8e-5d2a-4b7e-9f3c-2a6d1e0b7c45}", // braces
		"urn:uuid:8c1f4b8e-5d2a-4b7e-9f3c-2a6d1e0b7c45", // URN
		"8c1f4b8e-5d2a-4b7e-9f3c-2a6d1e0b7c4",           // 35 characters
		"8c1f4b8e-5d2a-4b7e-9f3c-2a6d1e0b7c456",         // 37 characters
		" 8c1f4b8e-5d2a-4b7e-9f3c-2a6d1e0b7c4",          // 36 with a space
		"8c1f4b8e-5d2a-4b7e-9f3c-2a6d1e0b7c4\n",         // 36 with a newline
		"8c1f4b8e-5d2a-4b7e-9f3c-2a6d1e0b7cg5",          // not hex
		"8c1f4b8e-5d2a-4b7e-9f3c-2a6d1e0b7cZ5",          // not hex
		"8c1f4b8e05d2a04b7e09f3c02a6d1e0b7c45",          // no hyphens, 36 characters
		"8c1f4b8-e5d2a-4b7e-9f3c-2a6d1e0b7c45",          // a hyphen out of place
		"8c1f4b8e-5d2a-4b7e-9f3c-2a6d1e0b7c45"[:35] + "é"[:1],
		"{8c1f4b8e-5d2a-4b7e-9f3c-2a6d1e0b7c}", // braces, 36 characters
		"8c1f4b8e+5d2a+4b7e+9f3c+2a6d1e0b7c45",
	} {
		if got, ok := identity.CanonicalID(in); ok || got != "" {
			t.Errorf("CanonicalID(%q) = %q, %v; want \"\", false", in, got, ok)
		}
	}
}

func TestCanonicalIDIsIdempotent(t *testing.T) {
	once, _ := identity.CanonicalID(strings.ToUpper(canonical))
	twice, ok := identity.CanonicalID(once)
	if !ok || twice != once || once != canonical {
		t.Errorf("CanonicalID twice = %q, %v; once %q", twice, ok, once)
	}
}

// ErrNotFound's text is what API clients see.
func TestErrNotFoundText(t *testing.T) {
	if got := identity.ErrNotFound.Error(); got != "Identity not found" {
		t.Errorf("ErrNotFound = %q", got)
	}
	all := []error{identity.ErrNotFound, identity.ErrExists, identity.ErrDeleted, identity.ErrOrgMismatch,
		identity.ErrNotRecorded, identity.ErrStale, identity.ErrConflict}
	for i, a := range all {
		for j, b := range all {
			if i != j && (errors.Is(a, b) || a.Error() == b.Error()) {
				t.Errorf("%v and %v are not distinct", a, b)
			}
		}
	}
}
