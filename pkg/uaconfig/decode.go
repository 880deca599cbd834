package uaconfig

import (
	"bytes"
	"errors"
	"io"
	"math"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/validation"
)

// DecodeSettings parses a request body (a JSON object of configuration
// fields, all optional) in one pass and in two stages, as the contract
// orders them: first the schema, reporting every problem at once as a
// *validation.Error; then the semantics of the trusted IPs (ErrInvalidIP).
//
// Names are matched exactly and may not repeat. Unknown fields and null
// values are ignored, and an empty body is an empty object.
//
// If the body carries "identityId" it must be the same UUID as identityID
// (canonical, see identity.CanonicalID); pass "" where no identity is in
// scope (a default configuration).
func DecodeSettings(body []byte, identityID string) (Settings, error) {
	var s Settings
	d := decoder{identityID: identityID}
	var ips [numFields][]string
	err := d.object(body, func(name string) error {
		f := FieldByName(name)
		if f == nil {
			return d.member(name)
		}
		switch f.Kind {
		case Int:
			if n, ok, err := d.int(f.Name, f.Min, f.Max); ok {
				s.SetInt(f.ID, n)
			} else if err != nil {
				return err
			}
		case Bool:
			if b, ok, err := d.bool(f.Name); ok {
				s.SetBool(f.ID, b)
			} else if err != nil {
				return err
			}
		case IPList:
			list, ok, err := d.ipList(f.Name)
			if err != nil {
				return err
			}
			if ok {
				ips[f.ID] = list
				s.mark(f.ID)
			}
		}
		return nil
	})
	if err != nil {
		return Settings{}, err
	}
	for id, list := range ips {
		if list == nil {
			continue
		}
		parsed := make(TrustedIPs, len(list))
		for i, text := range list {
			if parsed[i], err = ParseTrustedIP(text); err != nil {
				return Settings{}, err
			}
		}
		*Fields[id].ipsOf(&s.values) = parsed
	}
	return s, nil
}

// CheckBodyIdentity validates the optional body of a request that takes no
// fields (DELETE, revoke): it must be a JSON object, if anything, and an
// identityId in it must match the path. Every other field is ignored.
func CheckBodyIdentity(body []byte, identityID string) error {
	d := decoder{identityID: identityID}
	return d.object(body, d.member)
}

// decoder walks one JSON object with jsontext, collecting schema issues.
// Messages are formatted only when there is a problem.
type decoder struct {
	dec        *jsontext.Decoder
	identityID string
	issues     []validation.Issue
}

func (d *decoder) issue(path, msg string) {
	d.issues = append(d.issues, validation.Issue{Path: path, Message: msg})
}

// object decodes body as one JSON object, calling field for each member
// name; field must consume the member's value. An empty body is an empty
// object. It returns a *validation.Error if the body failed the schema.
func (d *decoder) object(body []byte, field func(name string) error) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	d.dec = jsontext.NewDecoder(bytes.NewReader(body))
	tok, err := d.dec.ReadToken()
	if err != nil {
		return d.syntax(err)
	}
	switch tok.Kind() {
	case '{':
	case 'n': // a null body, as some clients send on DELETE: nothing given
		return d.end()
	default:
		return validation.Invalid("", "body must be a JSON object: got "+kindName(tok.Kind()))
	}
	for d.dec.PeekKind() != '}' {
		name, err := d.dec.ReadToken()
		if err != nil {
			return d.syntax(err)
		}
		if err := field(name.String()); err != nil {
			return d.syntax(err)
		}
	}
	if _, err := d.dec.ReadToken(); err != nil { // the closing brace
		return d.syntax(err)
	}
	return d.end()
}

// end checks that nothing follows the body's value, and reports the issues
// found.
func (d *decoder) end() error {
	if _, err := d.dec.ReadToken(); err != io.EOF {
		return d.syntax(err)
	}
	if len(d.issues) > 0 {
		return &validation.Error{Issues: d.issues}
	}
	return nil
}

// member consumes a member that carries no settings: identityId, which
// clients such as the Terraform provider repeat from the path, is checked;
// anything else is skipped.
func (d *decoder) member(name string) error {
	if name != "identityId" || d.identityID == "" {
		return d.dec.SkipValue()
	}
	switch d.dec.PeekKind() {
	case 'n':
		_, err := d.dec.ReadToken()
		return err
	case '"':
		tok, err := d.dec.ReadToken()
		if err != nil {
			return err
		}
		if id, _ := identity.CanonicalID(tok.String()); id != d.identityID {
			d.issue("identityId", "does not match the identity id in the path")
		}
		return nil
	default:
		return d.wrongType("identityId", "a string")
	}
}

// int decodes an integer field. JavaScript clients may send 3600.0 or
// 3.6e3, so any JSON number with an integral value is accepted. ok is
// false for null and for a value that failed (an issue is recorded).
func (d *decoder) int(name string, min, max int64) (n int64, ok bool, err error) {
	switch d.dec.PeekKind() {
	case 'n':
		_, err = d.dec.ReadToken()
		return 0, false, err
	case '0':
	default:
		return 0, false, d.wrongType(name, "an integer")
	}
	tok, err := d.dec.ReadToken()
	if err != nil {
		return 0, false, err
	}
	n, msg := ParseInt(tok.String(), min, max)
	if msg != "" {
		d.issue(name, msg)
		return 0, false, nil
	}
	return n, true, nil
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

func rangeMessage(min, max int64) string {
	return "must be an integer from " + strconv.FormatInt(min, 10) + " to " + strconv.FormatInt(max, 10)
}

func (d *decoder) bool(name string) (b, ok bool, err error) {
	switch d.dec.PeekKind() {
	case 'n':
		_, err = d.dec.ReadToken()
		return false, false, err
	case 't', 'f':
		tok, err := d.dec.ReadToken()
		if err != nil {
			return false, false, err
		}
		return tok.Bool(), true, nil
	default:
		return false, false, d.wrongType(name, "a boolean")
	}
}

// ipList checks the shape of a trusted-IP list: a non-empty array of
// objects with a string ipAddress. The addresses are parsed later, once the
// whole body has passed the schema.
func (d *decoder) ipList(name string) (list []string, ok bool, err error) {
	switch d.dec.PeekKind() {
	case 'n':
		_, err = d.dec.ReadToken()
		return nil, false, err
	case '[':
	default:
		return nil, false, d.wrongType(name, "an array")
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return nil, false, err
	}
	list = []string{}
	valid := true
	for i := 0; d.dec.PeekKind() != ']'; i++ {
		addr, entryOK, err := d.ipEntry(name, i)
		if err != nil {
			return nil, false, err
		}
		valid = valid && entryOK
		list = append(list, addr)
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return nil, false, err
	}
	if len(list) == 0 {
		d.issue(name, "must contain at least 1 entry")
		return nil, false, nil
	}
	return list, valid, nil
}

// ipEntry decodes {"ipAddress": "..."}; other members are ignored. ok is
// false if the entry failed (an issue is recorded).
func (d *decoder) ipEntry(list string, i int) (addr string, ok bool, err error) {
	path := func() string { return list + "." + strconv.Itoa(i) }
	if d.dec.PeekKind() != '{' {
		return "", false, d.wrongType(path(), "an object")
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return "", false, err
	}
	found, bad := false, false
	for d.dec.PeekKind() != '}' {
		name, err := d.dec.ReadToken()
		if err != nil {
			return "", false, err
		}
		switch {
		case name.String() != "ipAddress":
			err = d.dec.SkipValue()
		case d.dec.PeekKind() == 'n':
			_, err = d.dec.ReadToken()
		case d.dec.PeekKind() == '"':
			var tok jsontext.Token
			if tok, err = d.dec.ReadToken(); err == nil {
				addr, found = tok.String(), true
			}
		default:
			found, bad = true, true
			err = d.wrongType(path()+".ipAddress", "a string")
		}
		if err != nil {
			return "", false, err
		}
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return "", false, err
	}
	if !found {
		d.issue(path()+".ipAddress", "is required")
	}
	return addr, found && !bad, nil
}

// wrongType records "expected X, got Y" for the next value and skips it.
func (d *decoder) wrongType(path, want string) error {
	d.issue(path, "expected "+want+", got "+kindName(d.dec.PeekKind()))
	return d.dec.SkipValue()
}

// syntax turns a decoding error into the 422 for a malformed body.
func (d *decoder) syntax(err error) error {
	var invalid *validation.Error
	if errors.As(err, &invalid) {
		return err
	}
	var se *jsontext.SyntacticError
	switch {
	case errors.As(err, &se) && errors.Is(se.Err, jsontext.ErrDuplicateName):
		return validation.Invalid(jsonPath(se.JSONPointer), "appears more than once")
	case se != nil:
		return validation.Invalid("", "body must be a JSON object: malformed JSON at byte "+strconv.FormatInt(se.ByteOffset, 10))
	default: // a truncated body: io.ErrUnexpectedEOF
		return validation.Invalid("", "body must be a JSON object: malformed JSON")
	}
}

// jsonPath turns a JSON Pointer (/a/0/b) into the issue path style (a.0.b).
func jsonPath(p jsontext.Pointer) string {
	var b []byte
	for tok := range p.Tokens() {
		if len(b) > 0 {
			b = append(b, '.')
		}
		b = append(b, tok...)
	}
	return string(b)
}

func kindName(k jsontext.Kind) string { return validation.KindName(k) }
