package uaconfig

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/uauth/uauth/pkg/uaconfig/uaconfigtest"
	"github.com/uauth/uauth/pkg/validation"
)

const pathID = "8c1f4b8e-5d2a-4b7e-9f3c-2a6d1e0b7c45"

func TestDecodeSettingsAcceptsTheContract(t *testing.T) {
	body := `{
		"identityId": "` + pathID + `",
		"clientSecretTrustedIps": [{"ipAddress": "10.0.0.0/8"}, {"ipAddress": "192.168.1.5", "description": "office"}],
		"accessTokenTrustedIps": [{"ipAddress": "::/0"}],
		"accessTokenTTL": 3600, "accessTokenMaxTTL": 7200.0, "accessTokenNumUsesLimit": 5,
		"accessTokenPeriod": 0, "lockoutEnabled": false, "lockoutThreshold": 30,
		"lockoutDurationSeconds": 3e1, "lockoutCounterResetSeconds": 3600,
		"isClientSecretRotationEnabled": true, "somethingElse": {"nested": [1]}
	}`
	s, err := DecodeSettings([]byte(body), pathID)
	if err != nil {
		t.Fatal(err)
	}
	eight := 8
	var want Settings
	want.SetIPs(ClientSecretTrustedIPs, TrustedIPs{{"10.0.0.0", IPv4, &eight}, {"192.168.1.5", IPv4, nil}})
	want.SetIPs(AccessTokenTrustedIPs, TrustedIPs{{"::", IPv6, ptr(0)}})
	want.SetInt(AccessTokenTTL, 3600)
	want.SetInt(AccessTokenMaxTTL, 7200)
	want.SetInt(AccessTokenNumUsesLimit, 5)
	want.SetInt(AccessTokenPeriod, 0)
	want.SetBool(LockoutEnabled, false)
	want.SetInt(LockoutThreshold, 30)
	want.SetInt(LockoutDurationSeconds, 30)
	want.SetInt(LockoutCounterResetSeconds, 3600)
	if !reflect.DeepEqual(s, want) {
		t.Errorf("got  %+v\nwant %+v", s, want)
	}
}

func ptr[T any](v T) *T { return &v }

func TestDecodeSettingsEmptyAndNull(t *testing.T) {
	for _, body := range []string{"", "  ", "{}", `{"accessTokenTTL": null, "clientSecretTrustedIps": null}`} {
		s, err := DecodeSettings([]byte(body), pathID)
		if err != nil || !reflect.DeepEqual(s, Settings{}) {
			t.Errorf("DecodeSettings(%q) = %+v, %v; want empty settings", body, s, err)
		}
	}
}

func TestDecodeSettingsSchemaFailures(t *testing.T) {
	cases := []struct {
		body string
		path string // the first issue's path
		msg  string // a fragment of its message
	}{
		{`{`, "", "malformed JSON"},
		{`[]`, "", "JSON object"},
		{`"x"`, "", "JSON object"},
		{`{} x`, "", "malformed JSON"},
		{`{"accessTokenTTL": "3600"}`, "accessTokenTTL", "expected an integer, got string"},
		{`{"accessTokenTTL": 1.5}`, "accessTokenTTL", "expected an integer"},
		{`{"accessTokenTTL": -1}`, "accessTokenTTL", "from 0 to 315360000"},
		{`{"accessTokenTTL": 315360001}`, "accessTokenTTL", "from 0 to 315360000"},
		{`{"accessTokenTTL": 1e400}`, "accessTokenTTL", "from 0 to 315360000"},
		{`{"accessTokenTTL": 99999999999999999999}`, "accessTokenTTL", "from 0 to 315360000"},
		{`{"accessTokenMaxTTL": true}`, "accessTokenMaxTTL", "got boolean"},
		{`{"accessTokenNumUsesLimit": -5}`, "accessTokenNumUsesLimit", "from 0 to"},
		{`{"accessTokenPeriod": 315360001}`, "accessTokenPeriod", "from 0 to 315360000"},
		{`{"lockoutThreshold": 0}`, "lockoutThreshold", "from 1 to 30"},
		{`{"lockoutThreshold": 31}`, "lockoutThreshold", "from 1 to 30"},
		{`{"lockoutDurationSeconds": 29}`, "lockoutDurationSeconds", "from 30 to 86400"},
		{`{"lockoutDurationSeconds": 86401}`, "lockoutDurationSeconds", "from 30 to 86400"},
		{`{"lockoutCounterResetSeconds": 4}`, "lockoutCounterResetSeconds", "from 5 to 3600"},
		{`{"lockoutCounterResetSeconds": 3601}`, "lockoutCounterResetSeconds", "from 5 to 3600"},
		{`{"lockoutEnabled": "true"}`, "lockoutEnabled", "expected a boolean, got string"},
		{`{"clientSecretTrustedIps": []}`, "clientSecretTrustedIps", "at least 1 entry"},
		{`{"clientSecretTrustedIps": "10.0.0.0/8"}`, "clientSecretTrustedIps", "expected an array"},
		{`{"accessTokenTrustedIps": ["10.0.0.0/8"]}`, "accessTokenTrustedIps.0", "expected an object"},
		{`{"accessTokenTrustedIps": [null]}`, "accessTokenTrustedIps.0", "expected an object, got null"},
		{`{"accessTokenTrustedIps": [{"ip": "10.0.0.0/8"}]}`, "accessTokenTrustedIps.0.ipAddress", "is required"},
		{`{"accessTokenTrustedIps": [{"ipAddress": 10}]}`, "accessTokenTrustedIps.0.ipAddress", "expected a string"},
		{`{"identityId": "d7a1e7a4-0000-4000-8000-000000000000"}`, "identityId", "does not match"},
		{`{"identityId": 5}`, "identityId", "expected a string"},
		// Names are exact and may not repeat: a case variant is an unknown
		// field (ignored), a second accessTokenTTL is refused.
		{`{"accessTokenTTL": 1, "accessTokenTTL": 2}`, "accessTokenTTL", "appears more than once"},
		{`{"clientSecretTrustedIps": [{"ipAddress": "1.2.3.4", "ipAddress": "5.6.7.8"}]}`, "clientSecretTrustedIps.0.ipAddress", "appears more than once"},
		{"{\"description\": \"\xff\"}", "", "malformed JSON"},
	}
	for _, tc := range cases {
		_, err := DecodeSettings([]byte(tc.body), pathID)
		var v *validation.Error
		if !errors.As(err, &v) {
			t.Errorf("%s: got %v, want a ValidationError", tc.body, err)
			continue
		}
		if v.Issues[0].Path != tc.path || !strings.Contains(v.Issues[0].Message, tc.msg) {
			t.Errorf("%s: got issue %+v, want path %q and message containing %q", tc.body, v.Issues[0], tc.path, tc.msg)
		}
	}
}

func TestDecodeSettingsReportsEveryIssueBeforeSemantics(t *testing.T) {
	// An invalid IP is a 400, but only once the schema passes: here the
	// schema fails, so every schema issue is reported and the IP is not.
	body := `{"accessTokenTTL": "x", "lockoutThreshold": 99, "clientSecretTrustedIps": [{"ipAddress": "nope"}]}`
	_, err := DecodeSettings([]byte(body), pathID)
	var v *validation.Error
	if !errors.As(err, &v) || len(v.Issues) != 2 {
		t.Fatalf("got %v, want 2 schema issues", err)
	}
	_, err = DecodeSettings([]byte(`{"clientSecretTrustedIps": [{"ipAddress": "10.0.0.0/8x"}]}`), pathID)
	if !errors.Is(err, ErrInvalidIP) {
		t.Fatalf("got %v, want ErrInvalidIP", err)
	}
}

func TestDecodeSettingsWithoutIdentityScope(t *testing.T) {
	// DEFAULT_UA_CONFIG has no identity in scope: identityId is not checked.
	if _, err := DecodeSettings([]byte(`{"identityId": "anything"}`), ""); err != nil {
		t.Fatal(err)
	}
}

func TestCheckBodyIdentity(t *testing.T) {
	for body, ok := range map[string]bool{
		``: true, `{}`: true, `{"identityId": "` + pathID + `"}`: true, `{"accessTokenTTL": "ignored"}`: true,
		`{"identityId": "other"}`: false, `{`: false, `[1]`: false,
	} {
		err := CheckBodyIdentity([]byte(body), pathID)
		if (err == nil) != ok {
			t.Errorf("CheckBodyIdentity(%q) = %v, want ok=%v", body, err, ok)
		}
	}
}

func TestCheckTTL(t *testing.T) {
	for _, tc := range []struct {
		ttl, max int64
		ok       bool
	}{{3600, 7200, true}, {7200, 7200, true}, {7201, 7200, false}, {315360000, 0, true}, {0, 0, true}} {
		if err := CheckTTL(tc.ttl, tc.max); (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrTTLExceedsMax)) {
			t.Errorf("CheckTTL(%d, %d) = %v, want ok=%v", tc.ttl, tc.max, err, tc.ok)
		}
	}
}

// FuzzDecodeSettings: the decoder never panics, fails only with the two
// documented kinds of error, and what it accepts is within the ranges; a
// trusted-IP list in the body is refused or given, never dropped (which
// would leave every address trusted).
func FuzzDecodeSettings(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"accessTokenTTL": 3600, "accessTokenMaxTTL": 0}`, `{"clientSecretTrustedIps": [{"ipAddress": "10.0.0.0/8"}]}`,
		`{"lockoutThreshold": 1e1}`, `{"accessTokenTTL": "x"}`, `[`, `{"identityId": "` + pathID + `"}`, `null`,
		`{"accessTokenTrustedIps": [null, {"ipAddress": "10.9.9.9"}]}`, // JSON.stringify([undefined, ...])
		`{"clientSecretTrustedIps": [{"ipAddress": "10.0.0.1"}, {"ipAddress": null}, null]}`, `{"accessTokenTrustedIps": null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := DecodeSettings(body, pathID)
		var v *validation.Error
		switch {
		case err == nil:
		case errors.As(err, &v):
			if len(v.Issues) == 0 {
				t.Fatal("ValidationError without issues")
			}
			return
		case errors.Is(err, ErrInvalidIP):
			return
		default:
			t.Fatalf("unexpected error %v", err)
		}
		for _, f := range s.Given() {
			switch f.Kind {
			case Int:
				if n := *f.IntOf(s.Values()); n < f.Min || n > f.Max {
					t.Fatalf("%s = %d accepted outside [%d, %d]", f.Name, n, f.Min, f.Max)
				}
			case IPList:
				if len(*f.IPsOf(s.Values())) == 0 {
					t.Fatalf("%s accepted empty", f.Name)
				}
			}
		}
		var fields map[string]json.RawMessage
		if json.Unmarshal(body, &fields) != nil {
			return
		}
		for _, f := range Fields {
			if raw, ok := fields[f.Name]; ok && f.Kind == IPList && string(raw) != "null" && !s.Has(f.ID) {
				t.Fatalf("%s: %s accepted and dropped", body, f.Name)
			}
		}
	})
}

func TestDecodeSettingsMatchesNamesExactly(t *testing.T) {
	s, err := DecodeSettings([]byte(`{"ACCESSTOKENTTL": 5, "accesstokenttl": 6}`), pathID)
	if err != nil || !s.Empty() {
		t.Fatalf("case variants: got %+v, %v; want them ignored as unknown fields", s, err)
	}
}

func TestDecodeSettingsTruncated(t *testing.T) {
	for _, body := range []string{`{"accessTokenTTL":`, `{"a":[1,2`, `{`, `[`} {
		var v *validation.Error
		if _, err := DecodeSettings([]byte(body), pathID); !errors.As(err, &v) || v.Issues[0].Path != "" {
			t.Errorf("%q: got %v, want a body-level ValidationError", body, err)
		}
	}
}

// FuzzDecodersAgree compares DecodeSettings with the decoder it replaced
// (decodeSettingsV1). They must accept and refuse the same bodies, with the
// same settings and the same issues (in any order), except where the new
// one is stricter by design: a repeated name, or invalid UTF-8. Messages
// about malformed JSON may differ in the byte offset.
func FuzzDecodersAgree(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"accessTokenTTL": 3600, "accessTokenMaxTTL": 0}`, `{"clientSecretTrustedIps": [{"ipAddress": "10.0.0.0/8"}]}`,
		`{"lockoutThreshold": 1e1, "lockoutEnabled": false}`, `{"lockoutThreshold": 0, "accessTokenTTL": "x"}`, `[`, `null`,
		`{"identityId": "` + pathID + `"}`, `{"accessTokenTrustedIps": [{"ipAddress": 5}, "x", {"ipAddress": null}]}`,
		`{"accessTokenTTL": 1, "accessTokenTTL": 2}`, `{"clientSecretTrustedIps": [{"ipAddress": "1.2.3.4/8x"}]}`,
		`{"accessTokenTrustedIps": [null, {"ipAddress": "10.9.9.9"}]}`, `{"clientSecretTrustedIps": [{"ipAddress": "10.0.0.1"}, null]}`,
		`{"accessTokenTrustedIps": [null], "clientSecretTrustedIps": [{"ipAddress": null}, [null], {}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, gotErr := DecodeSettings(body, pathID)
		want, wantErr := decodeSettingsV1(body, pathID)
		var gv, wv *validation.Error
		errors.As(gotErr, &gv)
		errors.As(wantErr, &wv)
		if !utf8.Valid(body) || (gv != nil && slices.ContainsFunc(gv.Issues, func(i validation.Issue) bool { return i.Message == "appears more than once" })) {
			return
		}
		switch {
		case (gotErr == nil) != (wantErr == nil) || (gv == nil) != (wv == nil):
			t.Fatalf("%q: new %v, old %v", body, gotErr, wantErr)
		case gv != nil:
			if issueSet(gv) != issueSet(wv) {
				t.Fatalf("%q: new %v, old %v", body, gv.Issues, wv.Issues)
			}
		case gotErr != nil:
			if !errors.Is(gotErr, ErrInvalidIP) || !errors.Is(wantErr, ErrInvalidIP) {
				t.Fatalf("%q: new %v, old %v", body, gotErr, wantErr)
			}
		case !reflect.DeepEqual(got, want):
			t.Fatalf("%q:\nnew %+v\nold %+v", body, got, want)
		}
	})
}

// issueSet is the issues in a comparable, order-free form; a body-level
// issue (malformed JSON) counts by its path alone.
func issueSet(v *validation.Error) string {
	var out []string
	for _, is := range v.Issues {
		if is.Path == "" {
			out = append(out, "<body>")
			continue
		}
		out = append(out, is.Path+": "+is.Message)
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

// TestMalformedTrustedIPListsAreRefused: a list the schema refuses is a
// 422 naming each bad element, never a list "not given", which would leave
// the default (every address) in force. The same cases run through every
// decoder of settings (orgdefaults, provisioner, httpapi).
func TestMalformedTrustedIPListsAreRefused(t *testing.T) {
	for _, c := range uaconfigtest.Cases() {
		_, err := DecodeSettings([]byte(c.Body), pathID)
		if err := c.Check(err); err != nil {
			t.Errorf("%s: %v", c.Name, err)
		}
	}
}
