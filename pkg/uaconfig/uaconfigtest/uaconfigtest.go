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

// MalformedIPList is a trusted-IP list the schema must refuse (422), with
// the issue paths it must name.
type MalformedIPList struct {
	Name string
	// List is the JSON of the list, for accessTokenTrustedIps; Body puts it
	// in a body.
	List string
	// Paths are the issues' paths, for accessTokenTrustedIps.
	Paths []string
}

// MalformedIPLists fail open if a decoder takes them for "not given": the
// default list admits every address. JSON.stringify([undefined, ...])
// gives the first.
var MalformedIPLists = []MalformedIPList{
	{"null element first", `[null, {"ipAddress": "10.9.9.9"}]`, []string{"accessTokenTrustedIps.0"}},
	{"null element last", `[{"ipAddress": "10.9.9.9"}, null]`, []string{"accessTokenTrustedIps.1"}},
	{"null element only", `[null]`, []string{"accessTokenTrustedIps.0"}},
	{"two null elements", `[null, null]`, []string{"accessTokenTrustedIps.0", "accessTokenTrustedIps.1"}},
	{"number element", `[{"ipAddress": "10.9.9.9"}, 7]`, []string{"accessTokenTrustedIps.1"}},
	{"string element", `["10.9.9.9"]`, []string{"accessTokenTrustedIps.0"}},
	{"array element", `[[{"ipAddress": "10.9.9.9"}]]`, []string{"accessTokenTrustedIps.0"}},
	{"boolean element", `[true]`, []string{"accessTokenTrustedIps.0"}},
	{"no ipAddress", `[{"address": "10.9.9.9"}]`, []string{"accessTokenTrustedIps.0.ipAddress"}},
	{"null ipAddress", `[{"ipAddress": null}]`, []string{"accessTokenTrustedIps.0.ipAddress"}},
	{"number ipAddress", `[{"ipAddress": 10}]`, []string{"accessTokenTrustedIps.0.ipAddress"}},
	{"empty object", `[{}]`, []string{"accessTokenTrustedIps.0.ipAddress"}},
	{"nested null", `[{"ipAddress": "10.9.9.9"}, {"ipAddress": null}, null]`,
		[]string{"accessTokenTrustedIps.1.ipAddress", "accessTokenTrustedIps.2"}},
}

// Body is a body with the list as accessTokenTrustedIps, and otherwise
// valid settings, so that the list alone is wrong.
func (m MalformedIPList) Body() string {
	return `{"accessTokenTTL": 60, "accessTokenTrustedIps": ` + m.List + `}`
}

// BothLists is a body with malformed lists under both names: both are
// reported.
func BothLists() (body string, paths []string) {
	return `{"clientSecretTrustedIps": [null], "accessTokenTrustedIps": [{"ipAddress": 1}]}`,
		[]string{"clientSecretTrustedIps.0", "accessTokenTrustedIps.0.ipAddress"}
}

// Check reports what is wrong with err as a decoder's answer to m: nil
// when it is a 422 (*validation.Error) naming every path of m.
func (m MalformedIPList) Check(err error) error {
	return checkPaths(err, m.Paths)
}

// CheckBoth is Check for BothLists.
func CheckBoth(err error) error {
	_, paths := BothLists()
	return checkPaths(err, paths)
}

func checkPaths(err error, want []string) error {
	var v *validation.Error
	if !errors.As(err, &v) {
		return fmt.Errorf("got %v, want a 422 naming %v", err, want)
	}
	for _, w := range want {
		if !slices.ContainsFunc(v.Issues, func(is validation.Issue) bool { return is.Path == w }) {
			return fmt.Errorf("issues %v do not name %s", v.Issues, w)
		}
	}
	return nil
}
