package universalauth

import (
	"errors"
	"strings"
)

// Domain errors. Their text is the message clients see; the HTTP mapping
// lives in one place, package httpapi.
var (
	// ErrIdentityNotFound: no such identity in the caller's organization.
	// Another organization's identity is reported the same way.
	ErrIdentityNotFound = errors.New("Identity not found")
	// ErrAlreadyConfigured: attach on an identity that has a configuration.
	ErrAlreadyConfigured = errors.New("Failed to add universal auth to already configured identity")
	// ErrNotConfigured: read, update or revoke without a configuration.
	ErrNotConfigured = errors.New("The identity does not have universal auth")
	// ErrTTLExceedsMax: the (merged) TTL is above a non-zero max TTL.
	ErrTTLExceedsMax = errors.New("Access token TTL cannot be greater than max TTL")
	// ErrInvalidIP: a trusted-IP entry is not an address or CIDR block.
	ErrInvalidIP = errors.New("The IP is not a valid IPv4, IPv6, or CIDR block")
)

// Issue is one schema problem in a request: Path names the field
// ("accessTokenTTL", "clientSecretTrustedIps.0.ipAddress"), or is empty for
// the body as a whole.
type Issue struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// ValidationError reports a request that fails the schema: malformed JSON,
// wrong types, out-of-range numbers or a malformed id.
type ValidationError struct {
	Issues []Issue
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Issues))
	for i, is := range e.Issues {
		parts[i] = is.Path + ": " + is.Message
	}
	return "validation failed: " + strings.Join(parts, "; ")
}

// Invalid returns a ValidationError with a single issue.
func Invalid(path, message string) *ValidationError {
	return &ValidationError{Issues: []Issue{{Path: path, Message: message}}}
}

// Identity lifecycle outcomes, reported by the store to the provisioner.
var (
	// ErrIdentityExists: a create for an identity that is already recorded
	// (a redelivered or duplicate event).
	ErrIdentityExists = errors.New("identity already recorded")
	// ErrIdentityDeleted: a create for an identity whose delete was seen
	// first; the tombstone keeps it deleted.
	ErrIdentityDeleted = errors.New("identity was deleted")
	// ErrOrgMismatch: an event names an organization other than the one
	// the identity was recorded in.
	ErrOrgMismatch = errors.New("identity belongs to another organization")
)
