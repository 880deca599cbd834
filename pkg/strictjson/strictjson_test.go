package strictjson_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/uauth/uauth/pkg/strictjson"
	"github.com/uauth/uauth/pkg/validation"
)

// issuesOf returns the issues of a *validation.Error, failing the test for
// any other error; nil for a nil error.
func issuesOf(t *testing.T, err error) []validation.Issue {
	t.Helper()
	if err == nil {
		return nil
	}
	var verr *validation.Error
	if !errors.As(err, &verr) {
		t.Fatalf("error %v (%T) is not a *validation.Error", err, err)
	}
	return verr.Issues
}

func one(path, msg string) []validation.Issue {
	return []validation.Issue{{Path: path, Message: msg}}
}

// skipAll is a member function that skips every value.
func skipAll(o *strictjson.Object, _ string) error { return o.Skip() }

// walk reads every value with the reader for its kind, recursing into
// objects and arrays, so that a document goes through every reader.
func walk(o *strictjson.Object, name string) error {
	var err error
	switch o.Kind() {
	case '"', 'n':
		_, _, err = o.String(name)
	case '0':
		_, _, err = o.Number(name)
	case 't', 'f':
		_, _, err = o.Bool(name)
	case '{':
		_, err = o.Object(name, walk)
	case '[':
		_, err = o.Array(name, func(i int) error { return walk(o, fmt.Sprintf("%s.%d", name, i)) })
	default:
		err = o.Skip()
	}
	return err
}

const (
	notAnObject = "body must be a JSON object: "
	malformed   = notAnObject + "malformed JSON"
)

func TestDecodeCallsMemberWithEveryNameInOrder(t *testing.T) {
	var names []string
	err := strictjson.Decode([]byte(` {"b": 1, "a": "x", "c": {"a": [1, 2]}, "d": null} `), false, func(o *strictjson.Object, name string) error {
		names = append(names, name)
		return o.Skip()
	})
	if err != nil {
		t.Fatalf("Decode = %v, want nil", err)
	}
	if want := []string{"b", "a", "c", "d"}; !slices.Equal(names, want) {
		t.Errorf("member called with %q, want %q", names, want)
	}
}

func TestDecodeGivesNamesUnescaped(t *testing.T) {
	var names []string
	err := strictjson.Decode([]byte(`{"a\u0062":1,"\"q\"":2,"caf\u00e9":3}`), false, func(o *strictjson.Object, name string) error {
		names = append(names, name)
		return o.Skip()
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"ab", `"q"`, "café"}; !slices.Equal(names, want) {
		t.Errorf("names = %q, want %q", names, want)
	}
}

// Names are matched exactly: names differing only in case are different
// names, so neither is a duplicate of the other; which of them a caller
// reads (if any) is the caller's business.
func TestDecodeCaseVariantNamesAreDistinctNames(t *testing.T) {
	var names []string
	err := strictjson.Decode([]byte(`{"ttl":1,"TTL":2,"Ttl":3,"tTL":{"ttl":1,"TTL":2}}`), false, func(o *strictjson.Object, name string) error {
		names = append(names, name)
		return o.Skip()
	})
	if err != nil {
		t.Fatalf("Decode = %v, want nil", err)
	}
	if want := []string{"ttl", "TTL", "Ttl", "tTL"}; !slices.Equal(names, want) {
		t.Errorf("names = %q, want %q", names, want)
	}
}

func TestDecodeRefusesDuplicateNames(t *testing.T) {
	cases := []struct{ doc, path string }{
		{`{"a":1,"a":2}`, "a"},
		{`{"a":1,"b":2,"a":1}`, "a"},
		{`{"a":null,"a":null}`, "a"},
		{`{"a":1,"\u0061":2}`, "a"}, // the same name once unescaped
		{`{"a":{"b":1,"b":2}}`, "a.b"},
		{`{"a":[{"b":1,"b":2}]}`, "a.0.b"},
		{`{"a":[0,{"b":{"c":[1,{"d":1,"d":2}]}}]}`, "a.1.b.c.1.d"},
		{`{"a/b":1,"a/b":2}`, "a/b"}, // JSON Pointer escapes undone
		{`{"x~y":{"c":1,"c":2}}`, "x~y.c"},
	}
	for _, c := range cases {
		for name, member := range map[string]func(*strictjson.Object, string) error{"skip": skipAll, "walk": walk} {
			err := strictjson.Decode([]byte(c.doc), false, member)
			if got, want := issuesOf(t, err), one(c.path, "appears more than once"); !reflect.DeepEqual(got, want) {
				t.Errorf("%s %s: issues %+v, want %+v", name, c.doc, got, want)
			}
		}
	}
}

func TestDecodeDocumentThatIsNotAnObject(t *testing.T) {
	cases := []struct {
		doc       string
		allowNull bool
		want      []validation.Issue // nil: no error
	}{
		{"", true, nil},
		{" \t\r\n", true, nil},
		{"null", true, nil},
		{" null\n", true, nil},
		{"{}", true, nil},
		{"{}", false, nil},
		{" { } ", false, nil},
		{"", false, one("", notAnObject+"got nothing")},
		{" \n\t\r", false, one("", notAnObject+"got nothing")},
		{"null", false, one("", notAnObject+"got null")},
		{"[]", true, one("", notAnObject+"got array")},
		{`[{"a":1}]`, false, one("", notAnObject+"got array")},
		{`"{}"`, true, one("", notAnObject+"got string")},
		{"0", true, one("", notAnObject+"got number")},
		{"-1.5e3", true, one("", notAnObject+"got number")},
		{"true", true, one("", notAnObject+"got boolean")},
		{"false", false, one("", notAnObject+"got boolean")},
	}
	for _, c := range cases {
		called := false
		err := strictjson.Decode([]byte(c.doc), c.allowNull, func(o *strictjson.Object, _ string) error {
			called = true
			return o.Skip()
		})
		if c.want == nil && err != nil {
			t.Errorf("Decode(%q, allowNull=%v) = %v, want nil", c.doc, c.allowNull, err)
			continue
		}
		if got := issuesOf(t, err); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Decode(%q, allowNull=%v) issues %+v, want %+v", c.doc, c.allowNull, got, c.want)
		}
		if called {
			t.Errorf("Decode(%q) called member for a document without members", c.doc)
		}
	}
}

func TestDecodeRefusesTrailingData(t *testing.T) {
	cases := []struct {
		doc       string
		allowNull bool
		msg       string
	}{
		{`{} x`, false, malformed + " at byte 3"},
		{`{"a":1}}`, false, malformed + " at byte 7"},
		{`{"a":1},`, false, malformed + " at byte 7"},
		{`{}{}`, false, malformed},
		{`{} []`, false, malformed},
		{`{} 1`, false, malformed},
		{`null null`, true, malformed},
		{`null {}`, true, malformed},
	}
	for _, c := range cases {
		err := strictjson.Decode([]byte(c.doc), c.allowNull, skipAll)
		if got := issuesOf(t, err); !reflect.DeepEqual(got, one("", c.msg)) {
			t.Errorf("Decode(%q) issues %+v, want %q", c.doc, got, c.msg)
		}
	}
}

func TestDecodeMalformedJSONNamesTheByteOffset(t *testing.T) {
	cases := []struct {
		doc    string
		offset int
	}{
		{`{"a":1 "b":2}`, 7},    // missing comma: the second name
		{`{"a":tru}`, 8},        // bad literal: where it stops matching
		{`{"a":-}`, 6},          // bad number
		{`{"a":01}`, 6},         // leading zero
		{`{"a":'x'}`, 5},        // single quotes
		{`{a:1}`, 1},            // unquoted name
		{`{"a":1,}`, 6},         // trailing comma: the comma
		{"{\"a\":\"\xff\"}", 6}, // invalid UTF-8 in a string
		{"{\"\xff\":1}", 2},     // invalid UTF-8 in a name
		{`{"a":"\x"}`, 6},       // invalid escape
		{"{\"a\":\"\t\"}", 6},   // raw control character
		{`nul`, 3},
		{`{"a" 1}`, 5},
		{`{"a":[1 2]}`, 8},
		{`{"a":[1,]}`, 7},
	}
	for _, c := range cases {
		for _, member := range []func(*strictjson.Object, string) error{skipAll, walk} {
			err := strictjson.Decode([]byte(c.doc), true, member)
			want := one("", fmt.Sprintf("%s at byte %d", malformed, c.offset))
			if got := issuesOf(t, err); !reflect.DeepEqual(got, want) {
				t.Errorf("Decode(%q) issues %+v, want %+v", c.doc, got, want)
			}
		}
	}
}

// Every proper prefix of a document is a malformed document, whatever
// reader is part way through it.
func TestDecodeRefusesEveryTruncation(t *testing.T) {
	doc := `{"s":"x\u00e9y","n":-12.5e3,"b":true,"f":false,"z":null,"o":{"a":[1,{"b":"c"}],"e":{}},"l":[],"ls":["a","b"]}`
	readers := map[string]func(*strictjson.Object, string) error{
		"skip": skipAll,
		"walk": walk,
		"raw": func(o *strictjson.Object, _ string) error {
			_, err := o.Raw()
			return err
		},
		"typed": func(o *strictjson.Object, name string) error {
			var err error
			switch name {
			case "n":
				_, _, err = o.Int(name, -1e9, 1e9)
			case "ls":
				_, _, err = o.Strings(name)
			default:
				err = walk(o, name)
			}
			return err
		},
	}
	for name, member := range readers {
		if err := strictjson.Decode([]byte(doc), false, member); err != nil {
			t.Fatalf("%s: the whole document: %v", name, err)
		}
		for n := 1; n < len(doc); n++ {
			err := strictjson.Decode([]byte(doc[:n]), true, member)
			got := issuesOf(t, err)
			if len(got) != 1 || got[0].Path != "" || !strings.HasPrefix(got[0].Message, malformed) {
				t.Fatalf("%s: Decode(%q) = %v, want one malformed-JSON issue", name, doc[:n], err)
			}
		}
	}
}

func TestDecodeRefusesNestingTooDeep(t *testing.T) {
	const depth = 10001 // jsontext's limit is 10000
	for _, open := range []string{`{"a":`, `[`} {
		close := "}"
		if open == "[" {
			close = "]"
		}
		doc := "{\"x\":" + strings.Repeat(open, depth) + "1" + strings.Repeat(close, depth) + "}"
		got := issuesOf(t, strictjson.Decode([]byte(doc), false, skipAll))
		if len(got) != 1 || got[0].Path != "" || !strings.HasPrefix(got[0].Message, malformed+" at byte ") {
			t.Errorf("nesting %d deep with %s: issues %+v, want malformed", depth, open, got)
		}
	}
	shallow := "{\"x\":" + strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100) + "}"
	if err := strictjson.Decode([]byte(shallow), false, walk); err != nil {
		t.Errorf("nesting 100 deep: %v", err)
	}
}

// value decodes {"v": <value>, "after": true}, reading v with read, and
// returns the issues. It fails the test unless the member after v was
// read too, which shows read consumed v.
func value(t *testing.T, v string, read func(o *strictjson.Object) error) []validation.Issue {
	t.Helper()
	after := false
	err := strictjson.Decode([]byte(`{"v":`+v+`,"after":true}`), false, func(o *strictjson.Object, name string) error {
		switch name {
		case "v":
			return read(o)
		case "after":
			b, ok, err := o.Bool(name)
			after = b && ok
			return err
		}
		t.Errorf("member called with %q", name)
		return o.Skip()
	})
	issues := issuesOf(t, err)
	if !after {
		t.Errorf("value %s: the member after it was not read (%v)", v, err)
	}
	return issues
}

func wrongType(want, got string) []validation.Issue {
	return one("v", "expected "+want+", got "+got)
}

func TestString(t *testing.T) {
	cases := []struct {
		v      string
		s      string
		ok     bool
		issues []validation.Issue
	}{
		{`"x"`, "x", true, nil},
		{`""`, "", true, nil},
		{`"a\u0062\n\"\\"`, "ab\n\"\\", true, nil},
		{`"é😀"`, "é😀", true, nil},
		{`null`, "", false, nil}, // absent: no issue
		{`1`, "", false, wrongType("a string", "number")},
		{`true`, "", false, wrongType("a string", "boolean")},
		{`false`, "", false, wrongType("a string", "boolean")},
		{`{"a":"x"}`, "", false, wrongType("a string", "object")},
		{`["x"]`, "", false, wrongType("a string", "array")},
	}
	for _, c := range cases {
		var s string
		var ok bool
		issues := value(t, c.v, func(o *strictjson.Object) (err error) {
			s, ok, err = o.String("v")
			return err
		})
		if s != c.s || ok != c.ok || !reflect.DeepEqual(issues, c.issues) {
			t.Errorf("String(%s) = %q, %v, issues %+v; want %q, %v, %+v", c.v, s, ok, issues, c.s, c.ok, c.issues)
		}
	}
}

func TestStrings(t *testing.T) {
	cases := []struct {
		v      string
		list   []string
		ok     bool
		issues []validation.Issue
	}{
		{`["a","b",""]`, []string{"a", "b", ""}, true, nil},
		{`[ ]`, []string{}, true, nil}, // present and empty: not nil
		{`null`, nil, false, nil},
		{`"a"`, nil, false, wrongType("an array of strings", "string")},
		{`{"0":"a"}`, nil, false, wrongType("an array of strings", "object")},
		{`1`, nil, false, wrongType("an array of strings", "number")},
		{`["a",1,"c",[],{}]`, nil, false, []validation.Issue{
			{Path: "v.1", Message: "expected a string, got number"},
			{Path: "v.3", Message: "expected a string, got array"},
			{Path: "v.4", Message: "expected a string, got object"},
		}},
		{`[true]`, nil, false, one("v.0", "expected a string, got boolean")},
	}
	for _, c := range cases {
		var list []string
		var ok bool
		issues := value(t, c.v, func(o *strictjson.Object) (err error) {
			list, ok, err = o.Strings("v")
			return err
		})
		elementIssues := len(c.issues) > 0 && c.issues[0].Path != "v" // the list is then unspecified
		if ok != c.ok || !reflect.DeepEqual(issues, c.issues) || (!elementIssues && !reflect.DeepEqual(list, c.list)) {
			t.Errorf("Strings(%s) = %#v, %v, issues %+v; want %#v, %v, %+v", c.v, list, ok, issues, c.list, c.ok, c.issues)
		}
	}
}

// A null element of a string array is neither a string nor absent: it
// should be refused like any other non-string element, so that a list
// with a hole can never be read as a list of strings.
func TestStringsRefusesNullElements(t *testing.T) {
	var ok bool
	issues := value(t, `["a",null]`, func(o *strictjson.Object) (err error) {
		_, ok, err = o.Strings("v")
		return err
	})
	if want := one("v.1", "expected a string, got null"); ok || !reflect.DeepEqual(issues, want) {
		t.Errorf(`Strings(["a",null]): ok %v, issues %+v; want false, %+v`, ok, issues, want)
	}
}

func TestBool(t *testing.T) {
	cases := []struct {
		v      string
		b, ok  bool
		issues []validation.Issue
	}{
		{`true`, true, true, nil},
		{`false`, false, true, nil},
		{`null`, false, false, nil},
		{`"true"`, false, false, wrongType("a boolean", "string")},
		{`1`, false, false, wrongType("a boolean", "number")},
		{`0`, false, false, wrongType("a boolean", "number")},
		{`[true]`, false, false, wrongType("a boolean", "array")},
		{`{}`, false, false, wrongType("a boolean", "object")},
	}
	for _, c := range cases {
		var b, ok bool
		issues := value(t, c.v, func(o *strictjson.Object) (err error) {
			b, ok, err = o.Bool("v")
			return err
		})
		if b != c.b || ok != c.ok || !reflect.DeepEqual(issues, c.issues) {
			t.Errorf("Bool(%s) = %v, %v, issues %+v; want %v, %v, %+v", c.v, b, ok, issues, c.b, c.ok, c.issues)
		}
	}
}

func TestNumberGivesTheTextAsWritten(t *testing.T) {
	cases := []struct {
		v, text string
		ok      bool
		issues  []validation.Issue
	}{
		{`0`, "0", true, nil},
		{`-0`, "-0", true, nil},
		{`3600.0`, "3600.0", true, nil},
		{`3.6E+3`, "3.6E+3", true, nil},
		{`123456789012345678901234567890`, "123456789012345678901234567890", true, nil},
		{`null`, "", false, nil},
		{`"1"`, "", false, wrongType("a number", "string")},
		{`true`, "", false, wrongType("a number", "boolean")},
		{`[1]`, "", false, wrongType("a number", "array")},
		{`{}`, "", false, wrongType("a number", "object")},
	}
	for _, c := range cases {
		var text string
		var ok bool
		issues := value(t, c.v, func(o *strictjson.Object) (err error) {
			text, ok, err = o.Number("v")
			return err
		})
		if text != c.text || ok != c.ok || !reflect.DeepEqual(issues, c.issues) {
			t.Errorf("Number(%s) = %q, %v, issues %+v; want %q, %v, %+v", c.v, text, ok, issues, c.text, c.ok, c.issues)
		}
	}
}

func TestInt(t *testing.T) {
	const min, max = -5, 3600
	rng := one("v", "must be an integer from -5 to 3600")
	cases := []struct {
		v      string
		n      int64
		ok     bool
		issues []validation.Issue
	}{
		{`3600`, 3600, true, nil},
		{`3600.0`, 3600, true, nil}, // JavaScript clients send integral floats
		{`3.6e3`, 3600, true, nil},
		{`36E2`, 3600, true, nil},
		{`360000e-2`, 3600, true, nil},
		{`-5`, -5, true, nil},
		{`-5.0`, -5, true, nil},
		{`0`, 0, true, nil},
		{`-0`, 0, true, nil},
		{`1.5`, 0, false, one("v", "expected an integer, got 1.5")},
		{`3599.9`, 0, false, one("v", "expected an integer, got 3599.9")},
		{`3601`, 0, false, rng},
		{`3600.0001e0`, 0, false, one("v", "expected an integer, got 3600.0001e0")},
		{`3.601e3`, 0, false, rng},
		{`-6`, 0, false, rng},
		{`-6e0`, 0, false, rng},
		{`1e400`, 0, false, rng},
		{`99999999999999999999`, 0, false, rng},
		{`null`, 0, false, nil}, // absent: no issue
		{`"5"`, 0, false, wrongType("an integer", "string")},
		{`true`, 0, false, wrongType("an integer", "boolean")},
		{`[5]`, 0, false, wrongType("an integer", "array")},
		{`{}`, 0, false, wrongType("an integer", "object")},
	}
	for _, c := range cases {
		var n int64
		var ok bool
		issues := value(t, c.v, func(o *strictjson.Object) (err error) {
			n, ok, err = o.Int("v", min, max)
			return err
		})
		if n != c.n || ok != c.ok || !reflect.DeepEqual(issues, c.issues) {
			t.Errorf("Int(%s) = %d, %v, issues %+v; want %d, %v, %+v", c.v, n, ok, issues, c.n, c.ok, c.issues)
		}
	}
}

func TestObjectReadsMembersWithPathsRelativeToIt(t *testing.T) {
	doc := `{
		"a": {"s": 1, "b": {"c": "x", "d": true}, "e": 2},
		"f": 3,
		"g": [{"h": {"i": false}}, {"h": {"i": "x"}}]
	}`
	var got []string
	var element func(o *strictjson.Object, name string) error
	element = func(o *strictjson.Object, name string) error {
		got = append(got, name)
		switch o.Kind() {
		case '{':
			_, err := o.Object(name, element)
			return err
		case '[':
			_, err := o.Array(name, func(i int) error {
				_, err := o.Object(fmt.Sprintf("%s.%d", name, i), element)
				return err
			})
			return err
		default:
			_, _, err := o.String(name) // everything else is the wrong type
			return err
		}
	}
	err := strictjson.Decode([]byte(doc), false, element)
	want := []validation.Issue{
		{Path: "a.s", Message: "expected a string, got number"},
		{Path: "a.b.d", Message: "expected a string, got boolean"},
		{Path: "a.e", Message: "expected a string, got number"}, // a.b's prefix is gone
		{Path: "f", Message: "expected a string, got number"},   // and a's
		{Path: "g.0.h.i", Message: "expected a string, got boolean"},
	}
	if issues := issuesOf(t, err); !reflect.DeepEqual(issues, want) {
		t.Errorf("issues\n got  %+v\n want %+v", issues, want)
	}
	if names := []string{"a", "s", "b", "c", "d", "e", "f", "g", "h", "i", "h", "i"}; !slices.Equal(got, names) {
		t.Errorf("member called with %q, want %q", got, names)
	}
}

func TestObject(t *testing.T) {
	cases := []struct {
		v       string
		present bool
		names   []string
		issues  []validation.Issue
	}{
		{`{"x":1,"y":2}`, true, []string{"x", "y"}, nil},
		{`{}`, true, nil, nil},
		{`null`, false, nil, nil},
		{`[{"x":1}]`, false, nil, wrongType("an object", "array")},
		{`"{}"`, false, nil, wrongType("an object", "string")},
		{`0`, false, nil, wrongType("an object", "number")},
		{`false`, false, nil, wrongType("an object", "boolean")},
	}
	for _, c := range cases {
		var present bool
		var names []string
		issues := value(t, c.v, func(o *strictjson.Object) (err error) {
			present, err = o.Object("v", func(o *strictjson.Object, name string) error {
				names = append(names, name)
				return o.Skip()
			})
			return err
		})
		if present != c.present || !slices.Equal(names, c.names) || !reflect.DeepEqual(issues, c.issues) {
			t.Errorf("Object(%s) = %v, names %q, issues %+v; want %v, %q, %+v", c.v, present, names, issues, c.present, c.names, c.issues)
		}
	}
}

func TestArray(t *testing.T) {
	cases := []struct {
		v       string
		present bool
		indices []int
		issues  []validation.Issue
	}{
		{`[10,11,12]`, true, []int{0, 1, 2}, nil},
		{`[ ]`, true, nil, nil},
		{`[[1],{"a":[]},null,"s"]`, true, []int{0, 1, 2, 3}, nil},
		{`null`, false, nil, nil},
		{`{"0":1}`, false, nil, wrongType("an array", "object")},
		{`"[]"`, false, nil, wrongType("an array", "string")},
		{`1`, false, nil, wrongType("an array", "number")},
		{`true`, false, nil, wrongType("an array", "boolean")},
	}
	for _, c := range cases {
		var present bool
		var indices []int
		issues := value(t, c.v, func(o *strictjson.Object) (err error) {
			present, err = o.Array("v", func(i int) error {
				indices = append(indices, i)
				return o.Skip()
			})
			return err
		})
		if present != c.present || !slices.Equal(indices, c.indices) || !reflect.DeepEqual(issues, c.issues) {
			t.Errorf("Array(%s) = %v, indices %v, issues %+v; want %v, %v, %+v", c.v, present, indices, issues, c.present, c.indices, c.issues)
		}
	}
}

func TestArrayOfObjectsGivesElementPaths(t *testing.T) {
	doc := `{"list":[{"b":1},{"b":"ok"},{"b":{"c":1}}]}`
	err := strictjson.Decode([]byte(doc), false, func(o *strictjson.Object, name string) error {
		_, err := o.Array(name, func(i int) error {
			_, err := o.Object(name+"."+fmt.Sprint(i), func(o *strictjson.Object, name string) error {
				_, _, err := o.String(name)
				return err
			})
			return err
		})
		return err
	})
	want := []validation.Issue{
		{Path: "list.0.b", Message: "expected a string, got number"},
		{Path: "list.2.b", Message: "expected a string, got object"},
	}
	if got := issuesOf(t, err); !reflect.DeepEqual(got, want) {
		t.Errorf("issues %+v, want %+v", got, want)
	}
}

// Every schema problem is reported at once, in document order; the
// document is read to its end.
func TestDecodeCollectsEveryIssue(t *testing.T) {
	doc := `{"s":1,"n":"1","b":null,"i":1.5,"l":["a",2],"o":{"x":[]},"r":7,"last":true}`
	var last bool
	err := strictjson.Decode([]byte(doc), false, func(o *strictjson.Object, name string) error {
		var err error
		switch name {
		case "s":
			_, _, err = o.String(name)
		case "n":
			_, _, err = o.Number(name)
		case "b":
			_, _, err = o.Bool(name)
		case "i":
			_, _, err = o.Int(name, 0, 10)
		case "l":
			_, _, err = o.Strings(name)
		case "o":
			_, err = o.Object(name, func(o *strictjson.Object, name string) error {
				_, _, err := o.Bool(name)
				return err
			})
		case "r":
			o.Issue(name, "is reserved") // a caller's own rule
			err = o.Skip()
		case "last":
			last, _, err = o.Bool(name)
		}
		return err
	})
	want := []validation.Issue{
		{Path: "s", Message: "expected a string, got number"},
		{Path: "n", Message: "expected a number, got string"},
		{Path: "i", Message: "expected an integer, got 1.5"},
		{Path: "l.1", Message: "expected a string, got number"},
		{Path: "o.x", Message: "expected a boolean, got array"},
		{Path: "r", Message: "is reserved"},
	}
	if got := issuesOf(t, err); !reflect.DeepEqual(got, want) {
		t.Errorf("issues\n got  %+v\n want %+v", got, want)
	}
	if !last {
		t.Error("the member after the issues was not read")
	}
	wantMsg := "validation failed: s: expected a string, got number; n: expected a number, got string; " +
		"i: expected an integer, got 1.5; l.1: expected a string, got number; o.x: expected a boolean, got array; r: is reserved"
	if err == nil || err.Error() != wantMsg {
		t.Errorf("message %q, want %q", err, wantMsg)
	}
}

// A malformed document is reported alone: issues found before the
// problem are not reported.
func TestDecodeMalformedReplacesIssues(t *testing.T) {
	for doc, want := range map[string][]validation.Issue{
		`{"s":1,"s":2}`:  one("s", "appears more than once"),
		`{"s":1,"t":2,}`: one("", malformed+" at byte 12"),
	} {
		err := strictjson.Decode([]byte(doc), false, func(o *strictjson.Object, name string) error {
			_, _, err := o.String(name)
			return err
		})
		if got := issuesOf(t, err); !reflect.DeepEqual(got, want) {
			t.Errorf("Decode(%s) issues %+v, want %+v", doc, got, want)
		}
	}
}

func TestIssueAndWrongType(t *testing.T) {
	doc := `{"a":{"b":[1,{"x":"y"}]},"c":"d"}`
	var kinds []jsontext.Kind
	err := strictjson.Decode([]byte(doc), false, func(o *strictjson.Object, name string) error {
		kinds = append(kinds, o.Kind())
		if name == "c" {
			o.Issue("", "the object itself")
			o.Issue("c.z", "deeper")
			return o.WrongType(name, "a widget")
		}
		_, err := o.Object(name, func(o *strictjson.Object, name string) error {
			kinds = append(kinds, o.Kind())
			o.Issue(name, "first")
			return o.WrongType(name, "a thing") // records and skips the array
		})
		return err
	})
	want := []validation.Issue{
		{Path: "a.b", Message: "first"},
		{Path: "a.b", Message: "expected a thing, got array"},
		{Path: "", Message: "the object itself"},
		{Path: "c.z", Message: "deeper"},
		{Path: "c", Message: "expected a widget, got string"},
	}
	if got := issuesOf(t, err); !reflect.DeepEqual(got, want) {
		t.Errorf("issues\n got  %+v\n want %+v", got, want)
	}
	if want := []jsontext.Kind{'{', '[', '"'}; !slices.Equal(kinds, want) {
		t.Errorf("kinds %q, want %q", kinds, want)
	}
}

func TestKind(t *testing.T) {
	want := map[string]jsontext.Kind{
		"s": '"', "n": '0', "t": 't', "f": 'f', "z": 'n', "o": '{', "a": '[',
	}
	got := map[string]jsontext.Kind{}
	err := strictjson.Decode([]byte(`{"s":"","n":-1,"t":true,"f":false,"z":null,"o":{},"a":[]}`), false, func(o *strictjson.Object, name string) error {
		got[name] = o.Kind()
		if o.Kind() != got[name] {
			t.Errorf("Kind of %s changed when asked again", name)
		}
		return o.Skip()
	})
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("kinds %q, %v; want %q", got, err, want)
	}
}

func TestRawGivesTheValueAsWrittenAndKeepsIt(t *testing.T) {
	doc := []byte(`{"a": {"b" : 1, "c":[1, "x"]} , "s":"t\u0065xt","n":1.50,"z":null}`)
	raws := map[string]jsontext.Value{}
	err := strictjson.Decode(doc, false, func(o *strictjson.Object, name string) error {
		v, err := o.Raw()
		raws[name] = v
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range doc {
		doc[i] = 'X' // the values must not alias the document
	}
	want := map[string]string{"a": `{"b" : 1, "c":[1, "x"]}`, "s": `"t\u0065xt"`, "n": "1.50", "z": "null"}
	for name, w := range want {
		if string(raws[name]) != w {
			t.Errorf("Raw of %s = %s, want %s", name, raws[name], w)
		}
	}
}

func TestRawAndSkipRefuseDuplicatesInside(t *testing.T) {
	for name, read := range map[string]func(o *strictjson.Object) error{
		"raw":  func(o *strictjson.Object) error { _, err := o.Raw(); return err },
		"skip": func(o *strictjson.Object) error { return o.Skip() },
	} {
		err := strictjson.Decode([]byte(`{"v":{"x":[{"d":1,"d":2}]}}`), false, func(o *strictjson.Object, _ string) error {
			return read(o)
		})
		if got := issuesOf(t, err); !reflect.DeepEqual(got, one("v.x.0.d", "appears more than once")) {
			t.Errorf("%s: issues %+v", name, got)
		}
	}
}

func TestSkipSkipsAnyValue(t *testing.T) {
	for _, v := range []string{`1`, `"x"`, `null`, `true`, `{}`, `[]`, `{"a":[1,{"b":null}],"c":"d"}`, `[[[]],{}]`} {
		if issues := value(t, v, func(o *strictjson.Object) error { return o.Skip() }); issues != nil {
			t.Errorf("Skip(%s): issues %+v", v, issues)
		}
	}
}

// A reader that meets malformed JSON returns the decoder's error; the
// member function returns it, and Decode reports a malformed document.
func TestReadersReturnSyntaxErrors(t *testing.T) {
	readers := map[string]struct {
		read func(o *strictjson.Object) error
		vals []string
	}{
		"String": {func(o *strictjson.Object) error { _, _, err := o.String("v"); return err }, []string{`"abc`, "\"\xff\"", `"\q"`}},
		"Strings": {func(o *strictjson.Object) error { _, _, err := o.Strings("v"); return err },
			[]string{`["a"`, `["a",`, `["a" "b"]`, `["a",]`, `["\q"]`, `[1`}},
		"Bool":   {func(o *strictjson.Object) error { _, _, err := o.Bool("v"); return err }, []string{`tru}`, `fals`, `trux`}},
		"Number": {func(o *strictjson.Object) error { _, _, err := o.Number("v"); return err }, []string{`-}`, `1.}`, `1e}`, `1e+`}},
		"Int":    {func(o *strictjson.Object) error { _, _, err := o.Int("v", 0, 9); return err }, []string{`-}`, `1.}`, `nul`}},
		"Object": {func(o *strictjson.Object) error {
			_, err := o.Object("v", func(o *strictjson.Object, name string) error { return o.Skip() })
			return err
		}, []string{`{"b":1,`, `{"b" 1}`, `{"b":1,}`, `{1:2}`, `nul`}},
		"Array": {func(o *strictjson.Object) error {
			_, err := o.Array("v", func(int) error { return o.Skip() })
			return err
		}, []string{`[1`, `[1,]`, `[1 2]`, `nul`}},
		"Raw":  {func(o *strictjson.Object) error { _, err := o.Raw(); return err }, []string{`{"b":`, `[1,]`, `tru`}},
		"Skip": {func(o *strictjson.Object) error { return o.Skip() }, []string{`[1,`, `{"a"}`, `"x`}},
	}
	for name, r := range readers {
		for _, v := range r.vals {
			var readErr error
			err := strictjson.Decode([]byte(`{"v":`+v+`}`), false, func(o *strictjson.Object, _ string) error {
				readErr = r.read(o)
				return readErr
			})
			if readErr == nil {
				t.Errorf("%s(%s) returned no error", name, v)
			}
			var se *jsontext.SyntacticError
			if !errors.As(readErr, &se) {
				t.Errorf("%s(%s) returned %v, not the decoder's *jsontext.SyntacticError", name, v, readErr)
			}
			got := issuesOf(t, err)
			if len(got) != 1 || got[0].Path != "" || !strings.HasPrefix(got[0].Message, malformed) {
				t.Errorf("%s(%s): Decode issues %+v, want malformed", name, v, got)
			}
		}
	}
}

// A member function's error stops the decoding: no other member is read
// and Decode fails.
func TestMemberErrorStopsDecoding(t *testing.T) {
	boom := errors.New("boom")
	for _, c := range []struct {
		doc   string
		calls int
	}{
		{`{"a":1,"b":2,"c":3}`, 2},
		{`{"o":{"a":1,"b":2},"c":3}`, 2},
		{`{"l":[1,2,3],"c":3}`, 2},
	} {
		calls := 0
		fail := func(name string) error {
			calls++
			if calls == 2 {
				return boom
			}
			return nil
		}
		err := strictjson.Decode([]byte(c.doc), false, func(o *strictjson.Object, name string) error {
			switch name {
			case "o":
				_, err := o.Object(name, func(o *strictjson.Object, name string) error {
					if err := o.Skip(); err != nil {
						return err
					}
					return fail(name)
				})
				return err
			case "l":
				_, err := o.Array(name, func(i int) error {
					if err := o.Skip(); err != nil {
						return err
					}
					return fail(name)
				})
				return err
			}
			if err := o.Skip(); err != nil {
				return err
			}
			return fail(name)
		})
		if err == nil {
			t.Errorf("%s: Decode = nil, want the member's failure", c.doc)
		}
		if calls != c.calls {
			t.Errorf("%s: %d calls after the error, want %d", c.doc, calls, c.calls)
		}
	}
}

// A member function's own error (not the decoder's) is what Decode
// returns, so that a caller can tell it from a malformed document.
func TestMemberErrorPropagates(t *testing.T) {
	boom := errors.New("boom")
	err := strictjson.Decode([]byte(`{"a":1}`), false, func(o *strictjson.Object, _ string) error {
		_ = o.Skip()
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("Decode = %v, want %v", err, boom)
	}
	rule := validation.Invalid("a", "is not allowed")
	err = strictjson.Decode([]byte(`{"a":1}`), false, func(o *strictjson.Object, _ string) error {
		_ = o.Skip()
		return rule
	})
	if got := issuesOf(t, err); !reflect.DeepEqual(got, rule.Issues) {
		t.Errorf("issues %+v, want %+v", got, rule.Issues)
	}
}

// Only JSON's own whitespace (space, tab, CR, LF) makes an empty document.
func TestDecodeEmptyMeansJSONWhitespaceOnly(t *testing.T) {
	for _, doc := range []string{"\v", "\f", "\u00a0", "\u0085", " \v "} {
		err := strictjson.Decode([]byte(doc), true, skipAll)
		got := issuesOf(t, err)
		if len(got) != 1 || !strings.HasPrefix(got[0].Message, malformed) {
			t.Errorf("Decode(%q) = %v, want malformed JSON", doc, err)
		}
	}
}

// Decoders are pooled: concurrent decodes do not see each other's state.
func TestDecodeConcurrently(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				want := fmt.Sprintf("g%d-%d", g, i)
				doc := fmt.Sprintf(`{"x":{"y":[%q]}}`, want)
				if i%3 == 0 {
					doc = doc[:len(doc)-2] // a failure part way leaves the decoder mid-document
				}
				var got []string
				err := strictjson.Decode([]byte(doc), false, func(o *strictjson.Object, _ string) error {
					_, err := o.Object("x", func(o *strictjson.Object, name string) error {
						var err error
						got, _, err = o.Strings(name)
						return err
					})
					return err
				})
				if i%3 == 0 {
					if err == nil {
						t.Errorf("Decode(%s) = nil", doc)
					}
					continue
				}
				if err != nil || !slices.Equal(got, []string{want}) {
					t.Errorf("Decode(%s) = %q, %v", doc, got, err)
				}
			}
		}()
	}
	wg.Wait()
}
