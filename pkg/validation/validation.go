// Package validation holds the error a request gets when it fails the
// schema (a 422): every problem found, each with the path of the field.
package validation

import (
	"math"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

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

// ParseInt reads the text of a JSON number as an integer from min to max.
// JavaScript clients may send 3600.0 or 3.6e3, so any number with an
// integral value is accepted. It returns the issue's message otherwise.
func ParseInt(text string, min, max int64) (int64, string) {
	n, perr := strconv.ParseInt(text, 10, 64)
	if perr != nil {
		f, ferr := strconv.ParseFloat(text, 64)
		switch {
		case ferr == nil && f != math.Trunc(f):
			return 0, "expected an integer, got " + text
		case ferr == nil && math.Abs(f) <= maxSafeInt:
			n = int64(f)
		default: // beyond int64 or float64
			return 0, rangeMessage(min, max)
		}
	}
	if n < min || n > max {
		return 0, rangeMessage(min, max)
	}
	return n, ""
}

// maxSafeInt is JavaScript's Number.MAX_SAFE_INTEGER: the largest count
// every client can represent exactly.
const maxSafeInt = 1<<53 - 1

func rangeMessage(min, max int64) string {
	return "must be an integer from " + strconv.FormatInt(min, 10) + " to " + strconv.FormatInt(max, 10)
}

// KindName names a JSON kind for messages.
func KindName(k jsontext.Kind) string {
	switch k {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "number"
	}
}
