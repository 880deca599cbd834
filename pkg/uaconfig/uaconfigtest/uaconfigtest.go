// Package uaconfigtest holds test cases shared by every decoder of
// configuration settings: the attach and PATCH bodies, organization
// defaults and the provisioner's per-event override all read trusted-IP
// lists with the same code, and each is tested with the same table.
package uaconfigtest

import (
	"errors"
	"fmt"
	"slices"

	"github.com/uauth/uauth/pkg/validation"
)

// MalformedIPList is a trusted-IP list the schema must refuse (422).
type MalformedIPList struct {
	Name string
	// List is the list's JSON.
	List string
	// Paths are the issues it must give, relative to the list's field: "0"
	// names the first element, "0.ipAddress" its address.
	Paths []string
}

// MalformedIPLists fail open if a decoder takes them for "not given": the
// default list admits every address. JSON.stringify([undefined, ...])
// gives the first.
var MalformedIPLists = []MalformedIPList{
	{"null element first", `[null, {"ipAddress": "10.9.9.9"}]`, []string{"0"}},
	{"null element last", `[{"ipAddress": "10.9.9.9"}, null]`, []string{"1"}},
	{"null element only", `[null]`, []string{"0"}},
	{"two null elements", `[null, null]`, []string{"0", "1"}},
	{"number element", `[{"ipAddress": "10.9.9.9"}, 7]`, []string{"1"}},
	{"string element", `["10.9.9.9"]`, []string{"0"}},
	{"array element", `[[{"ipAddress": "10.9.9.9"}]]`, []string{"0"}},
	{"array of null element", `[[null]]`, []string{"0"}},
	{"boolean element", `[true]`, []string{"0"}},
	{"no ipAddress", `[{"address": "10.9.9.9"}]`, []string{"0.ipAddress"}},
	{"empty object", `[{}]`, []string{"0.ipAddress"}},
	{"null ipAddress", `[{"ipAddress": null}]`, []string{"0.ipAddress"}},
	{"number ipAddress", `[{"ipAddress": 10}]`, []string{"0.ipAddress"}},
	{"object ipAddress", `[{"ipAddress": {"ipAddress": "10.9.9.9"}}]`, []string{"0.ipAddress"}},
	{"nulls at both levels", `[{"ipAddress": "10.9.9.9"}, {"ipAddress": null}, null]`, []string{"1.ipAddress", "2"}},
}

// Fields are the names of the trusted-IP lists.
var Fields = []string{"clientSecretTrustedIps", "accessTokenTrustedIps"}

// Case is a body a decoder must refuse, with the paths of its issues.
type Case struct {
	Name, Body string
	Paths      []string
}

// Body is a body with list as field, beside a valid TTL, so that the list
// alone is wrong (and the TTL must not be applied either).
func Body(field, list string) string {
	return `{"accessTokenTTL": 60, "` + field + `": ` + list + `}`
}

// Cases puts each of MalformedIPLists under each of Fields, and adds a body
// with both lists malformed, which must report both.
func Cases() []Case {
	var cases []Case
	for _, m := range MalformedIPLists {
		for _, f := range Fields {
			cases = append(cases, Case{f + ": " + m.Name, Body(f, m.List), prefixed(f, m.Paths)})
		}
	}
	first, second := MalformedIPLists[0], MalformedIPLists[len(MalformedIPLists)-1]
	return append(cases, Case{
		Name:  "both lists",
		Body:  `{"clientSecretTrustedIps": ` + first.List + `, "accessTokenTrustedIps": ` + second.List + `}`,
		Paths: append(prefixed(Fields[0], first.Paths), prefixed(Fields[1], second.Paths)...),
	})
}

func prefixed(field string, paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = field + "." + p
	}
	return out
}

// Check reports what is wrong with err as a decoder's answer to c: nil
// when it is a 422 (*validation.Error) with exactly the issues of c.
func (c Case) Check(err error) error {
	var v *validation.Error
	if !errors.As(err, &v) {
		return fmt.Errorf("got %v, want a 422 naming %v", err, c.Paths)
	}
	paths := make([]string, len(v.Issues))
	for i, is := range v.Issues {
		paths[i] = is.Path
	}
	return c.CheckPaths(paths)
}

// CheckPaths is Check for the paths of the issues a 422 reports.
func (c Case) CheckPaths(got []string) error {
	if !slices.Equal(got, c.Paths) {
		return fmt.Errorf("issues at %q, want %q", got, c.Paths)
	}
	return nil
}
