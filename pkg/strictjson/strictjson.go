// Package strictjson decodes JSON objects in one pass over a jsontext token
// stream (the tokenizer of encoding/json/v2): names match exactly, a name
// that repeats is refused, unknown names are skipped, and every schema
// problem is collected, with its path, into a validation.Error. Messages are
// formatted only when there is a problem.
//
// It is what request bodies, token claims and events are read with: no
// reflection, few allocations, and no reader that could disagree with
// another about what a document says.
package strictjson

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"sync"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/uauth/uauth/pkg/validation"
)

// Object is an object being decoded, handed to the member function.
type Object struct {
	dec    *jsontext.Decoder
	issues []validation.Issue
	prefix string
}

var decoders = sync.Pool{New: func() any { return jsontext.NewDecoder(bytes.NewBuffer(nil)) }}

// Decode reads data as one JSON object, calling member with each member's
// name; member must consume the value, with one of Object's readers. An
// empty or null document is an empty object when allowNull is set.
// Schema problems come back as a *validation.Error.
func Decode(data []byte, allowNull bool, member func(o *Object, name string) error) error {
	if len(bytes.Trim(data, jsonSpace)) == 0 {
		if allowNull {
			return nil
		}
		return validation.Invalid("", "body must be a JSON object: got nothing")
	}
	dec := decoders.Get().(*jsontext.Decoder)
	defer decoders.Put(dec)
	dec.Reset(bytes.NewBuffer(data)) // read in place, not copied
	o := &Object{dec: dec}
	tok, err := dec.ReadToken()
	if err != nil {
		return syntax(err)
	}
	switch k := tok.Kind(); {
	case k == '{':
		if err := o.members(member); err != nil {
			return syntax(err)
		}
	case k == 'n' && allowNull:
	default:
		return validation.Invalid("", "body must be a JSON object: got "+validation.KindName(k))
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return syntax(err)
	}
	if len(o.issues) > 0 {
		return &validation.Error{Issues: o.issues}
	}
	return nil
}

// members reads the members of an object whose opening brace is read.
func (o *Object) members(member func(o *Object, name string) error) error {
	for o.dec.PeekKind() != '}' {
		name, err := o.dec.ReadToken()
		if err != nil {
			return err
		}
		if err := member(o, name.String()); err != nil {
			return err
		}
	}
	_, err := o.dec.ReadToken()
	return err
}

// Object reads a nested object member at path, calling member for each of
// its members (paths are then relative to path). null is absent.
func (o *Object) Object(path string, member func(o *Object, name string) error) (present bool, err error) {
	switch o.dec.PeekKind() {
	case 'n':
		_, err = o.dec.ReadToken()
		return false, err
	case '{':
	default:
		return false, o.WrongType(path, "an object")
	}
	if _, err := o.dec.ReadToken(); err != nil {
		return false, err
	}
	outer := o.prefix
	o.prefix = o.path(path) + "."
	err = o.members(member)
	o.prefix = outer
	return true, err
}

// Array reads an array member at path, calling elem with each element's
// index; elem must consume the element. null is absent.
func (o *Object) Array(path string, elem func(i int) error) (present bool, err error) {
	switch o.dec.PeekKind() {
	case 'n':
		_, err = o.dec.ReadToken()
		return false, err
	case '[':
	default:
		return false, o.WrongType(path, "an array")
	}
	if _, err := o.dec.ReadToken(); err != nil {
		return false, err
	}
	for i := 0; o.dec.PeekKind() != ']'; i++ {
		if err := elem(i); err != nil {
			return true, err
		}
	}
	_, err = o.dec.ReadToken()
	return true, err
}

// Issue records a schema problem at path (relative to the current object).
func (o *Object) Issue(path, msg string) {
	o.issues = append(o.issues, validation.Issue{Path: o.path(path), Message: msg})
}

func (o *Object) path(p string) string { return o.prefix + p }

// Kind is the kind of the next value.
func (o *Object) Kind() jsontext.Kind { return o.dec.PeekKind() }

// Skip skips the next value.
func (o *Object) Skip() error { return o.dec.SkipValue() }

// Raw reads the next value as it is (for a part decoded later).
func (o *Object) Raw() (jsontext.Value, error) {
	v, err := o.dec.ReadValue()
	return v.Clone(), err
}

// WrongType records "expected X, got Y" for the next value and skips it.
func (o *Object) WrongType(path, want string) error {
	o.Issue(path, "expected "+want+", got "+validation.KindName(o.dec.PeekKind()))
	return o.dec.SkipValue()
}

// String reads a string member. ok is false for null and for a value of
// another type (an issue is recorded).
func (o *Object) String(path string) (s string, ok bool, err error) {
	switch o.dec.PeekKind() {
	case 'n':
		_, err = o.dec.ReadToken()
		return "", false, err
	case '"':
		tok, err := o.dec.ReadToken()
		if err != nil {
			return "", false, err
		}
		return tok.String(), true, nil
	default:
		return "", false, o.WrongType(path, "a string")
	}
}

// Strings reads an array of strings.
func (o *Object) Strings(path string) (list []string, ok bool, err error) {
	switch o.dec.PeekKind() {
	case 'n':
		_, err = o.dec.ReadToken()
		return nil, false, err
	case '[':
	default:
		return nil, false, o.WrongType(path, "an array of strings")
	}
	if _, err := o.dec.ReadToken(); err != nil {
		return nil, false, err
	}
	list, ok = []string{}, true
	for i := 0; o.dec.PeekKind() != ']'; i++ {
		elem := path + "." + strconv.Itoa(i)
		if o.dec.PeekKind() == 'n' { // in a list, null is not "not given"
			ok = false
			if err := o.WrongType(elem, "a string"); err != nil {
				return nil, false, err
			}
			continue
		}
		s, isString, err := o.String(elem)
		if err != nil {
			return nil, false, err
		}
		ok = ok && isString
		list = append(list, s)
	}
	if _, err := o.dec.ReadToken(); err != nil {
		return nil, false, err
	}
	return list, ok, nil
}

// Bool reads a boolean member.
func (o *Object) Bool(path string) (b, ok bool, err error) {
	switch o.dec.PeekKind() {
	case 'n':
		_, err = o.dec.ReadToken()
		return false, false, err
	case 't', 'f':
		tok, err := o.dec.ReadToken()
		if err != nil {
			return false, false, err
		}
		return tok.Bool(), true, nil
	default:
		return false, false, o.WrongType(path, "a boolean")
	}
}

// Number reads a number member as its text.
func (o *Object) Number(path string) (text string, ok bool, err error) {
	switch o.dec.PeekKind() {
	case 'n':
		_, err = o.dec.ReadToken()
		return "", false, err
	case '0':
		tok, err := o.dec.ReadToken()
		if err != nil {
			return "", false, err
		}
		return tok.String(), true, nil
	default:
		return "", false, o.WrongType(path, "a number")
	}
}

// Int reads an integer member from min to max. JavaScript clients may send
// 3600.0 or 3.6e3, so any number with an integral value is accepted.
func (o *Object) Int(path string, min, max int64) (n int64, ok bool, err error) {
	if o.dec.PeekKind() != '0' && o.dec.PeekKind() != 'n' {
		return 0, false, o.WrongType(path, "an integer")
	}
	text, ok, err := o.Number(path)
	if !ok || err != nil {
		return 0, false, err
	}
	n, msg := validation.ParseInt(text, min, max)
	if msg != "" {
		o.Issue(path, msg)
		return 0, false, nil
	}
	return n, true, nil
}

// jsonSpace is JSON's whitespace (RFC 8259 §2); bytes.TrimSpace would also
// take \v, \f and Unicode spaces, which make a document malformed.
const jsonSpace = " \t\r\n"

// syntax turns a decoding error into the 422 of a malformed document. Any
// other error is a member function's own, returned as it is.
func syntax(err error) error {
	var se *jsontext.SyntacticError
	switch {
	case errors.As(err, &se) && errors.Is(se.Err, jsontext.ErrDuplicateName):
		return validation.Invalid(pointerPath(se.JSONPointer), "appears more than once")
	case se != nil:
		return validation.Invalid("", "body must be a JSON object: malformed JSON at byte "+strconv.FormatInt(se.ByteOffset, 10))
	case err == nil || errors.Is(err, io.ErrUnexpectedEOF): // a second value after the object, or a truncated one
		return validation.Invalid("", "body must be a JSON object: malformed JSON")
	default:
		return err
	}
}

// pointerPath turns a JSON Pointer (/a/0/b) into an issue path (a.0.b).
func pointerPath(p jsontext.Pointer) string {
	var b []byte
	for tok := range p.Tokens() {
		if len(b) > 0 {
			b = append(b, '.')
		}
		b = append(b, tok...)
	}
	return string(b)
}
