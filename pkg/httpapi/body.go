package httpapi

import (
	"net/url"

	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/strictjson"
	"github.com/uauth/uauth/pkg/validation"
)

// stringMembers reads the named string members of a JSON body, in one
// pass: names are exact, a repeated name is refused, other members are
// ignored, and an empty body has none. It returns the members present.
func stringMembers(body []byte, names ...string) (map[string]string, error) {
	out := make(map[string]string, len(names))
	err := strictjson.Decode(body, true, func(o *strictjson.Object, name string) error {
		for _, n := range names {
			if n == name {
				s, ok, err := o.String(name)
				if ok {
					out[name] = s
				}
				return err
			}
		}
		return o.Skip()
	})
	return out, err
}

// formMembers reads the named fields of an application/x-www-form-urlencoded
// body; a field given twice is refused, as in JSON.
func formMembers(body []byte, names ...string) (map[string]string, error) {
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, validation.Invalid("", "body is not form-encoded: "+err.Error())
	}
	out := make(map[string]string, len(names))
	for _, name := range names {
		switch v := values[name]; len(v) {
		case 0:
		case 1:
			out[name] = v[0]
		default:
			return nil, validation.Invalid(name, "appears more than once")
		}
	}
	return out, nil
}

// matchesPath checks an id a body repeats from the path (the Terraform
// provider sends identityId, and clientSecretId on revoke).
func matchesPath(members map[string]string, name, pathID string) error {
	given, ok := members[name]
	if !ok {
		return nil
	}
	if id, _ := identity.CanonicalID(given); id != pathID {
		return validation.Invalid(name, "does not match the "+name+" in the path")
	}
	return nil
}

// required reports the members that are missing or empty.
func required(members map[string]string, names ...string) error {
	var issues []validation.Issue
	for _, n := range names {
		if members[n] == "" {
			issues = append(issues, validation.Issue{Path: n, Message: "is required"})
		}
	}
	if len(issues) > 0 {
		return &validation.Error{Issues: issues}
	}
	return nil
}
