package httpapi

import (
	"bytes"
	"net/url"

	"github.com/go-json-experiment/json"

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
	if err := json.Unmarshal(body, v); err != nil {
		return validation.FromJSON(err)
	}
	return nil
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
