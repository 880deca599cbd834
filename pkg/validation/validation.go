// Package validation holds the error a request gets when it fails the
// schema (a 422): every problem found, each with the path of the field.
package validation

import "strings"

// Issue is one schema problem. Path names the field ("accessTokenTTL",
// "clientSecretTrustedIps.0.ipAddress"), or is empty for the body as a whole.
type Issue struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// Error reports a request that fails the schema: malformed JSON, wrong
// types, out-of-range numbers or a malformed id.
type Error struct {
	Issues []Issue
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("validation failed: ")
	for i, is := range e.Issues {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(is.Path)
		b.WriteString(": ")
		b.WriteString(is.Message)
	}
	return b.String()
}

// Invalid returns an Error with a single issue.
func Invalid(path, message string) *Error {
	return &Error{Issues: []Issue{{Path: path, Message: message}}}
}
