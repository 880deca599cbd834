package httpapi

import (
	"bytes"
	"errors"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/validation"
)

// decodeBody decodes a small JSON body into v in one pass: names are
// exact, a repeated name is refused, unknown names are ignored, and an
// empty body leaves v as it is. Failures are 422s naming the field.
func decodeBody(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	err := json.Unmarshal(body, v)
	if err == nil {
		return nil
	}
	var se *json.SemanticError
	var syn *jsontext.SyntacticError
	switch {
	case errors.As(err, &syn) && errors.Is(syn.Err, jsontext.ErrDuplicateName):
		return validation.Invalid(pointerPath(syn.JSONPointer), "appears more than once")
	case errors.As(err, &se) && se.JSONPointer != "":
		msg := "has the wrong type"
		if t := se.GoType; t != nil {
			for t.Kind() == reflect.Pointer {
				t = t.Elem()
			}
			msg = "expected " + jsonTypeName(t.Kind().String())
			if se.JSONKind != 0 {
				msg += ", got " + kindName(se.JSONKind)
			}
		}
		return validation.Invalid(pointerPath(se.JSONPointer), msg)
	case errors.As(err, &se) || errors.As(err, &syn):
		return validation.Invalid("", "body must be a JSON object")
	default:
		return validation.Invalid("", "body must be a JSON object: malformed JSON")
	}
}

// jsonTypeName names a Go kind the way the contract's messages name types.
func jsonTypeName(kind string) string {
	switch {
	case kind == "string":
		return "a string"
	case kind == "bool":
		return "a boolean"
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"):
		return "an integer"
	case kind == "struct", kind == "map":
		return "an object"
	case kind == "slice":
		return "an array"
	default:
		return kind
	}
}

func kindName(k jsontext.Kind) string {
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

func pointerPath(p jsontext.Pointer) string {
	var parts []string
	for tok := range p.Tokens() {
		parts = append(parts, tok)
	}
	return strings.Join(parts, ".")
}

// decodeForm decodes an application/x-www-form-urlencoded body into the
// named string fields; a field given twice is refused, as in JSON.
func decodeForm(body []byte, fields map[string]*string) error {
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return validation.Invalid("", "body is not form-encoded: "+err.Error())
	}
	for name, dst := range fields {
		switch v := values[name]; len(v) {
		case 0:
		case 1:
			*dst = v[0]
		default:
			return validation.Invalid(name, "appears more than once")
		}
	}
	return nil
}

// matchesPath checks an id a body repeats from the path (the Terraform
// provider sends identityId, and clientSecretId on revoke).
func matchesPath(name string, given *string, pathID string) error {
	if given == nil {
		return nil
	}
	if id, _ := identity.CanonicalID(*given); id != pathID {
		return validation.Invalid(name, "does not match the "+name+" in the path")
	}
	return nil
}

// required reports a missing string field.
func required(fields ...requiredField) error {
	var issues []validation.Issue
	for _, f := range fields {
		if f.value == nil || *f.value == "" {
			issues = append(issues, validation.Issue{Path: f.name, Message: "is required"})
		}
	}
	if len(issues) > 0 {
		return &validation.Error{Issues: issues}
	}
	return nil
}

type requiredField struct {
	name  string
	value *string
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
