package httpapi_test

import (
	"testing"

	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/uaconfig/uaconfigtest"
)

// TestMalformedTrustedIPListsAreRefused: through every route that takes a
// trusted-IP list, a malformed one is a 422 naming the element, and nothing
// changes: no configuration attached, none updated, the org's defaults as
// they were.
func TestMalformedTrustedIPListsAreRefused(t *testing.T) {
	e := newEnv(t)
	admin := token(t, orgA, caller.OrgAdmin)
	bare := e.identity(orgA)
	configured, _ := e.attached(orgA, `{"accessTokenTrustedIps": [{"ipAddress": "10.0.0.0/8"}]}`)
	e.do("PUT", orgDefT, admin, `{"accessTokenTrustedIps": [{"ipAddress": "10.0.0.0/8"}]}`).ok()
	routes := []struct{ method, target, id string }{
		{"POST", path(bare), bare},
		{"PATCH", path(configured), configured},
		{"PUT", orgDefT, ""},
	}
	cases := uaconfigtest.MalformedIPLists
	both, _ := uaconfigtest.BothLists()
	for _, r := range routes {
		for _, m := range append(cases, uaconfigtest.MalformedIPList{Name: "both lists"}) {
			body := m.Body()
			if m.Name == "both lists" {
				body = both
			}
			before, defaults := e.item(r.id), e.do("GET", orgDefT, admin, "").rec.Body.String()
			got := e.do(r.method, r.target, admin, body).expectError(422, "ValidationFailure", "")
			issues, _ := got["message"].([]any)
			var paths []string
			for _, is := range issues {
				paths = append(paths, is.(map[string]any)["path"].(string))
			}
			want := m.Paths
			if m.Name == "both lists" {
				_, want = uaconfigtest.BothLists()
			}
			for _, p := range want {
				found := false
				for _, g := range paths {
					found = found || g == p
				}
				if !found {
					t.Errorf("%s %s, %s: issues %v do not name %s", r.method, r.target, m.Name, paths, p)
				}
			}
			if e.item(r.id) != before || e.do("GET", orgDefT, admin, "").rec.Body.String() != defaults {
				t.Errorf("%s %s, %s: a refused request changed something", r.method, r.target, m.Name)
			}
		}
	}
}
