package httpapi_test

import (
	"testing"

	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/uaconfig/uaconfigtest"
)

// TestMalformedTrustedIPListsAreRefused: through every route that takes a
// trusted-IP list, a malformed one is a 422 naming each bad element, and
// nothing changes: no configuration attached, none updated, the org's
// defaults as they were.
func TestMalformedTrustedIPListsAreRefused(t *testing.T) {
	e := newEnv(t)
	admin := token(t, orgA, caller.OrgAdmin)
	bare := e.identity(orgA)
	configured, _ := e.attached(orgA, `{"accessTokenTrustedIps": [{"ipAddress": "10.0.0.0/8"}]}`)
	e.do("PUT", orgDefaults, admin, `{"accessTokenTrustedIps": [{"ipAddress": "10.0.0.0/8"}]}`).ok()
	// What a refused request must leave as it was: each identity's item
	// (which holds its configuration) and the org's defaults.
	state := func() string {
		return e.item(bare) + e.item(configured) + e.do("GET", orgDefaults, admin, "").rec.Body.String()
	}
	routes := []struct{ method, target string }{
		{"POST", path(bare)},
		{"PATCH", path(configured)},
		{"PUT", orgDefaults},
	}
	for _, r := range routes {
		for _, c := range uaconfigtest.Cases() {
			before := state()
			resp := e.do(r.method, r.target, admin, c.Body)
			if resp.status() != 422 {
				t.Errorf("%s %s, %s: status %d, want 422: %s", r.method, r.target, c.Name, resp.status(), resp.rec.Body)
				continue
			}
			issues, _ := resp.expectError(422, "ValidationFailure", "")["message"].([]any)
			var paths []string
			for _, is := range issues {
				p, _ := is.(map[string]any)["path"].(string)
				paths = append(paths, p)
			}
			if err := c.CheckPaths(paths); err != nil {
				t.Errorf("%s %s, %s: %v", r.method, r.target, c.Name, err)
			}
			if state() != before {
				t.Errorf("%s %s, %s: a refused request changed something", r.method, r.target, c.Name)
			}
		}
	}
	e.do("GET", path(bare), admin, "").expectError(404, "NotFound", "")
}
