// Package identity holds the machine identities uauth knows of, as the
// provisioner records them from the platform's lifecycle events, and the
// rules for their ids.
package identity

import (
	"errors"
	"time"

	"github.com/google/uuid"
)

// Identity is a machine identity.
type Identity struct {
	ID    string
	OrgID string
	Name  string
	// Permissions are what the identity's own access tokens may do (see
	// package caller). Empty: it can log in, and do nothing else.
	Permissions []string
	// PermissionsVersion orders changes of Permissions: a change is
	// applied only over an older version (see provisioner.PermissionsVersion).
	PermissionsVersion string
	CreatedAt          time.Time
}

// Errors. ErrNotFound's text is what API clients see.
var (
	// ErrNotFound: no such identity in the caller's organization. Another
	// organization's identity is reported the same way.
	ErrNotFound = errors.New("Identity not found")
	// ErrExists: a create for an identity already recorded (a redelivered
	// or duplicate event).
	ErrExists = errors.New("identity already recorded")
	// ErrDeleted: an event for an identity whose delete was seen first;
	// the tombstone keeps it deleted.
	ErrDeleted = errors.New("identity was deleted")
	// ErrOrgMismatch: an event names an organization other than the one
	// the identity was recorded in.
	ErrOrgMismatch = errors.New("identity belongs to another organization")
	// ErrNotRecorded: an update for an identity not recorded yet, because
	// its create has not arrived. It is worth retrying.
	ErrNotRecorded = errors.New("identity not recorded yet")
	// ErrStale: an update older than what is already applied.
	ErrStale = errors.New("a newer update is already applied")
	// ErrConflict: concurrent requests kept changing the identity's item
	// while a change was being made; trying again will do.
	ErrConflict = errors.New("The identity was changed by concurrent requests, please try again")
)

// Guard decides whether a caller may act on the auth method of an identity
// holding permissions (see caller.Actor.Guard). A store calls it with the
// permissions it read, before it reads back or writes anything else, and
// makes its write conditional on them being unchanged. A nil Guard allows
// every identity and costs no read: the caller holds org:admin, or is the
// provisioner.
type Guard func(permissions []string) error

// CanonicalID returns the lower-case form of a UUID given in its
// 36-character form (in any case), and false for anything else. IDs are
// DynamoDB keys, so each must have exactly one spelling.
func CanonicalID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	u, err := uuid.Parse(s)
	if err != nil {
		return "", false
	}
	return u.String(), true
}
