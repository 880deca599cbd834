package uaconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/validation"
)

type Issue = validation.Issue

// decodeSettingsV1 is the decoder DecodeSettings replaced, kept as the
// reference for FuzzDecodersAgree until it is deleted. It parses a request body (a JSON object of configuration
// fields, all optional) in two stages, as the contract orders them: first
// the schema, reporting every problem at once as a *ValidationError; then
// the semantics of the trusted IPs (ErrInvalidIP). Unknown fields and null
// values are ignored, and an empty body is an empty object.
//
// If the body carries "identityId" it must be the same UUID as identityID
// (canonical, see CanonicalID); pass "" where no identity is in scope (the
// deployment's default configuration).
func decodeSettingsV1(body []byte, identityID string) (Settings, error) {
	var s Settings
	fields, err := decodeObject(body)
	if err != nil {
		return s, err
	}
	present := func(name string) (json.RawMessage, bool) {
		raw, ok := fields[name]
		return raw, ok && string(raw) != "null"
	}

	issues := identityIssues(fields, identityID)
	rawIPs := map[FieldID][]string{}
	for _, f := range Fields {
		raw, ok := present(f.Name)
		if !ok {
			continue
		}
		switch f.Kind {
		case Bool:
			var b bool
			if json.Unmarshal(raw, &b) != nil {
				issues = append(issues, Issue{Path: f.Name, Message: "expected a boolean, got " + jsonKind(raw)})
			} else {
				s.SetBool(f.ID, b)
			}
		case Int:
			n, msg := decodeInt(raw, f.Min, f.Max)
			if msg != "" {
				issues = append(issues, Issue{Path: f.Name, Message: msg})
				continue
			}
			s.SetInt(f.ID, n)
		case IPList:
			list, listIssues := decodeIPList(f.Name, raw)
			issues = append(issues, listIssues...)
			rawIPs[f.ID] = list
		}
	}
	if len(issues) > 0 {
		return Settings{}, &validation.Error{Issues: issues}
	}

	for _, f := range Fields {
		list, ok := rawIPs[f.ID]
		if !ok {
			continue
		}
		parsed := make(TrustedIPs, len(list))
		for i, text := range list {
			ip, err := ParseTrustedIP(text)
			if err != nil {
				return Settings{}, err
			}
			parsed[i] = ip
		}
		s.SetIPs(f.ID, parsed)
	}
	return s, nil
}

func decodeObject(body []byte) (map[string]json.RawMessage, error) {
	fields := map[string]json.RawMessage{}
	if len(bytes.Trim(body, " \t\r\n")) == 0 {
		return fields, nil
	}
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, validation.Invalid("", "body must be a JSON object: "+describeJSONError(err))
	}
	return fields, nil
}

// identityIssues checks the identityId that clients such as the Terraform
// provider repeat in the body against the path's.
func identityIssues(fields map[string]json.RawMessage, identityID string) []Issue {
	raw, ok := fields["identityId"]
	if !ok || string(raw) == "null" || identityID == "" {
		return nil
	}
	var got string
	if json.Unmarshal(raw, &got) != nil {
		return []Issue{{Path: "identityId", Message: "expected a string, got " + jsonKind(raw)}}
	}
	if id, _ := identity.CanonicalID(got); id != identityID {
		return []Issue{{Path: "identityId", Message: "does not match the identity id in the path"}}
	}
	return nil
}

// decodeInt accepts any JSON number with an integral value, as JavaScript
// clients may send 3600.0 or 3.6e3, and refuses everything else.
func decodeInt(raw json.RawMessage, min, max int64) (int64, string) {
	rangeMsg := fmt.Sprintf("must be an integer from %d to %d", min, max)
	if !isJSONNumber(raw) {
		return 0, "expected an integer, got " + jsonKind(raw)
	}
	text := string(raw)
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(text, 64)
		switch {
		case ferr == nil && f != math.Trunc(f):
			return 0, "expected an integer, got " + text
		case ferr == nil && math.Abs(f) <= maxSafeInt:
			n = int64(f)
		default: // beyond int64 or float64
			return 0, rangeMsg
		}
	}
	if n < min || n > max {
		return 0, rangeMsg
	}
	return n, ""
}

// decodeIPList checks the shape of a trusted-IP list: a non-empty array of
// objects with a string ipAddress. The addresses are parsed later, once the
// whole body has passed the schema.
func decodeIPList(name string, raw json.RawMessage) ([]string, []Issue) {
	var entries []json.RawMessage
	if raw[0] != '[' || json.Unmarshal(raw, &entries) != nil {
		return nil, []Issue{{Path: name, Message: "expected an array, got " + jsonKind(raw)}}
	}
	if len(entries) == 0 {
		return nil, []Issue{{Path: name, Message: "must contain at least 1 entry"}}
	}
	var issues []Issue
	list := make([]string, len(entries))
	for i, e := range entries {
		path := fmt.Sprintf("%s.%d", name, i)
		var obj map[string]json.RawMessage
		if e[0] != '{' || json.Unmarshal(e, &obj) != nil {
			issues = append(issues, Issue{Path: path, Message: "expected an object, got " + jsonKind(e)})
			continue
		}
		addr, ok := obj["ipAddress"]
		if !ok || string(addr) == "null" {
			issues = append(issues, Issue{Path: path + ".ipAddress", Message: "is required"})
			continue
		}
		if json.Unmarshal(addr, &list[i]) != nil {
			issues = append(issues, Issue{Path: path + ".ipAddress", Message: "expected a string, got " + jsonKind(addr)})
		}
	}
	return list, issues
}

func isJSONNumber(raw json.RawMessage) bool {
	c := raw[0]
	return c == '-' || (c >= '0' && c <= '9')
}

// jsonKind names the JSON type of a valid JSON value, for error messages.
func jsonKind(raw json.RawMessage) string {
	switch c := raw[0]; {
	case c == '"':
		return "string"
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == 't' || c == 'f':
		return "boolean"
	case c == 'n':
		return "null"
	default:
		return "number"
	}
}

func describeJSONError(err error) string {
	switch e := err.(type) {
	case *json.SyntaxError:
		return fmt.Sprintf("malformed JSON at byte %d", e.Offset)
	case *json.UnmarshalTypeError:
		return "got " + e.Value
	default:
		return "malformed JSON"
	}
}
