package caller

import (
	"slices"

	"github.com/uauth/uauth/pkg/identity"
)

// BoundaryError refuses an action on the auth method of an identity that
// holds permissions its actor does not. Whoever can give an identity a
// client secret can log in as it, so acting on an identity's auth method
// is acting as that identity: without this rule, identity:edit-auth would
// be a path to org:admin.
type BoundaryError struct {
	// Action is what was refused, e.g. "create client secret".
	Action string
	// Missing are the target's permissions the actor lacks.
	Missing []string
}

func (e *BoundaryError) Error() string {
	return "Failed to " + e.Action + " for identity with more privileged permissions"
}

// Missing returns the permissions of target that actor lacks: none if
// actor holds org:admin, which covers every permission.
func Missing(actor, target []string) []string {
	if slices.Contains(actor, string(OrgAdmin)) {
		return nil
	}
	var missing []string
	for _, p := range target {
		if !slices.Contains(actor, p) && !slices.Contains(missing, p) {
			missing = append(missing, p)
		}
	}
	return missing
}

// Guard is the actor's permission boundary for action on another
// identity's auth method: the target's permissions must be a subset of the
// actor's. It is nil, which stores take as "no read needed", for an actor
// known to hold org:admin. An actor whose permissions are Partial is
// refused: its whole set must be read first (Authenticator.Complete).
func (a Actor) Guard(action string) identity.Guard {
	if !a.Partial && a.Can(OrgAdmin) {
		return nil
	}
	return func(target []string) error {
		if a.Partial {
			return &BoundaryError{Action: action, Missing: target}
		}
		if missing := Missing(a.Permissions, target); len(missing) > 0 {
			return &BoundaryError{Action: action, Missing: missing}
		}
		return nil
	}
}
