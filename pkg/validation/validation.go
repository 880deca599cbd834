// Package validation holds the error a request gets when it fails the
// schema (a 422): every problem found, each with the path of the field.
package validation

import (
	"errors"
	"reflect"
	"strings"

	"github.com/go-json-experiment/json"
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

// FromJSON turns an error of decoding a JSON body (encoding/json/v2
// semantics) into the 422 that names the field.
func FromJSON(err error) *Error {
	var se *json.SemanticError
	var syn *jsontext.SyntacticError
	switch {
	case errors.As(err, &syn) && errors.Is(syn.Err, jsontext.ErrDuplicateName):
		return Invalid(pointerPath(syn.JSONPointer), "appears more than once")
	case errors.As(err, &se) && se.JSONPointer != "":
		msg := "has the wrong type"
		if t := se.GoType; t != nil {
			for t.Kind() == reflect.Pointer {
				t = t.Elem()
			}
			msg = "expected " + typeName(t.Kind())
			if se.JSONKind != 0 {
				msg += ", got " + KindName(se.JSONKind)
			}
		}
		return Invalid(pointerPath(se.JSONPointer), msg)
	case errors.As(err, &se) || errors.As(err, &syn):
		return Invalid("", "body must be a JSON object")
	default:
		return Invalid("", "body must be a JSON object: malformed JSON")
	}
}

// typeName names a Go kind the way the contract's messages name types.
func typeName(k reflect.Kind) string {
	switch {
	case k == reflect.String:
		return "a string"
	case k == reflect.Bool:
		return "a boolean"
	case k >= reflect.Int && k <= reflect.Uint64:
		return "an integer"
	case k == reflect.Struct, k == reflect.Map:
		return "an object"
	case k == reflect.Slice:
		return "an array"
	default:
		return k.String()
	}
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

// pointerPath turns a JSON Pointer (/a/0/b) into an issue path (a.0.b).
func pointerPath(p jsontext.Pointer) string {
	var parts []string
	for tok := range p.Tokens() {
		parts = append(parts, tok)
	}
	return strings.Join(parts, ".")
}
