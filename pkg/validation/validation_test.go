package validation_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/uauth/uauth/pkg/validation"
)

func TestErrorMessageListsEveryIssue(t *testing.T) {
	cases := []struct {
		issues []validation.Issue
		want   string
	}{
		{nil, "validation failed: "},
		{[]validation.Issue{{Path: "ttl", Message: "must be an integer from 0 to 10"}}, "validation failed: ttl: must be an integer from 0 to 10"},
		{[]validation.Issue{{Path: "", Message: "body must be a JSON object: got array"}}, "validation failed: : body must be a JSON object: got array"},
		{[]validation.Issue{
			{Path: "a", Message: "first"},
			{Path: "b.0.c", Message: "second"},
			{Path: "", Message: "third"},
		}, "validation failed: a: first; b.0.c: second; : third"},
	}
	for _, c := range cases {
		err := &validation.Error{Issues: c.issues}
		if got := err.Error(); got != c.want {
			t.Errorf("Error() = %q, want %q", got, c.want)
		}
	}
}

func TestInvalidIsAnErrorWithOneIssue(t *testing.T) {
	v := validation.Invalid("clientSecretTrustedIps.0.ipAddress", "is not an IP address")
	want := []validation.Issue{{Path: "clientSecretTrustedIps.0.ipAddress", Message: "is not an IP address"}}
	if !reflect.DeepEqual(v.Issues, want) {
		t.Errorf("Invalid issues %+v, want %+v", v.Issues, want)
	}
	var err error = fmt.Errorf("decoding: %w", v)
	var got *validation.Error
	if !errors.As(err, &got) || got != v {
		t.Errorf("errors.As through a wrap = %v", got)
	}
	if v.Error() != "validation failed: clientSecretTrustedIps.0.ipAddress: is not an IP address" {
		t.Errorf("Error() = %q", v.Error())
	}
	if a, b := validation.Invalid("x", "y"), validation.Invalid("x", "y"); a == b {
		t.Error("Invalid returned the same *Error twice")
	}
}

func TestIssueJSON(t *testing.T) {
	b, err := json.Marshal(validation.Issue{Path: "a.0", Message: "m"})
	if err != nil || string(b) != `{"path":"a.0","message":"m"}` {
		t.Errorf("json = %s, %v", b, err)
	}
}

func TestParseInt(t *testing.T) {
	const maxSafe = 1<<53 - 1
	cases := []struct {
		text     string
		min, max int64
		n        int64
		msg      string
	}{
		// Integers, up to the bounds, which are inclusive.
		{"0", 0, 10, 0, ""},
		{"10", 0, 10, 10, ""},
		{"-0", 0, 10, 0, ""},
		{"-5", -5, 5, -5, ""},
		{"11", 0, 10, 0, "must be an integer from 0 to 10"},
		{"-1", 0, 10, 0, "must be an integer from 0 to 10"},
		{"-6", -5, 5, 0, "must be an integer from -5 to 5"},
		{"6", -5, 5, 0, "must be an integer from -5 to 5"},
		{"9223372036854775807", 0, math.MaxInt64, math.MaxInt64, ""},
		{"-9223372036854775808", math.MinInt64, 0, math.MinInt64, ""},
		{"9007199254740993", 0, math.MaxInt64, maxSafe + 2, ""}, // an integer's text is exact
		{"9007199254740992", 0, maxSafe, 0, "must be an integer from 0 to 9007199254740991"},
		// Beyond int64 and float64: out of range, not malformed.
		{"9223372036854775808", 0, math.MaxInt64, 0, "must be an integer from 0 to 9223372036854775807"},
		{"-9223372036854775809", math.MinInt64, 0, 0, "must be an integer from -9223372036854775808 to 0"},
		{"1e400", 0, 10, 0, "must be an integer from 0 to 10"},
		{"-1e400", -10, 10, 0, "must be an integer from -10 to 10"},
		// Integral floats, as JavaScript clients send them.
		{"3600.0", 0, 3600, 3600, ""},
		{"3.6e3", 0, 3600, 3600, ""},
		{"3.6E+3", 0, 3600, 3600, ""},
		{"360000e-2", 0, 3600, 3600, ""},
		{"0.0", 0, 0, 0, ""},
		{"-0.0", 0, 0, 0, ""},
		{"0e5", 0, 0, 0, ""},
		{"-5.0", -5, 0, -5, ""},
		{"10.0", 0, 10, 10, ""},
		{"11.0", 0, 10, 0, "must be an integer from 0 to 10"},
		{"1.1e1", 0, 10, 0, "must be an integer from 0 to 10"},
		{"-1.0", 0, 10, 0, "must be an integer from 0 to 10"},
		{"-6e0", -5, 5, 0, "must be an integer from -5 to 5"},
		// Up to JavaScript's largest safe integer, and no further.
		{"9007199254740991.0", 0, math.MaxInt64, maxSafe, ""},
		{"-9007199254740991.0", math.MinInt64, 0, -maxSafe, ""},
		{"9.007199254740991e15", 0, maxSafe, maxSafe, ""},
		{"9007199254740992.0", 0, math.MaxInt64, 0, "must be an integer from 0 to 9223372036854775807"},
		{"-9007199254740992.0", math.MinInt64, 0, 0, "must be an integer from -9223372036854775808 to 0"},
		{"1e16", 0, math.MaxInt64, 0, "must be an integer from 0 to 9223372036854775807"},
		{"1e19", 0, math.MaxInt64, 0, "must be an integer from 0 to 9223372036854775807"},
		// Not integers.
		{"1.5", 0, 10, 0, "expected an integer, got 1.5"},
		{"-0.5", -10, 10, 0, "expected an integer, got -0.5"},
		{"3599.9", 0, 3600, 0, "expected an integer, got 3599.9"},
		{"1e-1", 0, 10, 0, "expected an integer, got 1e-1"},
		{"4503599627370495.5", 0, math.MaxInt64, 0, "expected an integer, got 4503599627370495.5"},
		{"123.456", 0, 10, 0, "expected an integer, got 123.456"}, // out of range too: the type comes first
		// A number is read as a float64, as JavaScript reads it: a
		// fraction beyond its precision is lost.
		{"1.0000000000000001", 0, 10, 1, ""},
		{"1e-400", 0, 10, 0, ""},
	}
	for _, c := range cases {
		n, msg := validation.ParseInt(c.text, c.min, c.max)
		if n != c.n || msg != c.msg {
			t.Errorf("ParseInt(%q, %d, %d) = %d, %q; want %d, %q", c.text, c.min, c.max, n, msg, c.n, c.msg)
		}
	}
}

func TestKindName(t *testing.T) {
	cases := map[jsontext.Kind]string{
		'"': "string",
		'{': "object",
		'[': "array",
		't': "boolean",
		'f': "boolean",
		'n': "null",
		'0': "number",
	}
	for k, want := range cases {
		if got := validation.KindName(k); got != want {
			t.Errorf("KindName(%v) = %q, want %q", k, got, want)
		}
	}
	// Every kind a value can start with is named by its own kind.
	for _, v := range []string{`"s"`, `{}`, `[]`, `true`, `false`, `null`, `-1.5e3`} {
		k := jsontext.Value(v).Kind()
		if got := validation.KindName(k); got != cases[k] {
			t.Errorf("KindName(kind of %s) = %q", v, got)
		}
	}
}
