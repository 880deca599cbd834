package httpapi_test

import (
	"testing"

	"github.com/uauth/uauth/pkg/caller"
)

const orgDefaults = "/api/v1/auth/universal-auth/org-defaults"

// TestOrgDefaultsResource is the org-defaults contract: the deployment's
// defaults until an admin sets the org's own, a PUT that replaces them as a
// whole, one org's defaults invisible to another, refusals that change
// nothing, and a DELETE back to the deployment's.
func TestOrgDefaultsResource(t *testing.T) {
	e := newEnv(t)
	admin, reader := token(t, orgA, caller.OrgAdmin), token(t, orgA, caller.IdentityRead)
	get := func(tok string) map[string]any {
		t.Helper()
		return e.do("GET", orgDefaults, tok, "").ok()["orgDefaults"].(map[string]any)
	}
	expect := func(what string, d map[string]any, source string, ttl float64, autoAttach bool) {
		t.Helper()
		if d["source"] != source || d["accessTokenTTL"] != ttl || d["autoAttach"] != autoAttach || d["accessTokenMaxTTL"] != float64(2592000) {
			t.Fatalf("%s: %v; want source %s, accessTokenTTL %v, autoAttach %v and the default max TTL", what, d, source, ttl, autoAttach)
		}
		if (source == "org") != (d["updatedAt"] != nil) {
			t.Fatalf("%s: updatedAt %v with source %s", what, d["updatedAt"], source)
		}
	}

	expect("before any PUT", get(reader), "deployment", 2592000, true)

	e.do("PUT", orgDefaults, token(t, orgA, caller.IdentityEditAuth, caller.IdentityRevokeAuth), `{"accessTokenTTL": 3600}`).
		expectError(403, "PermissionDenied", "")
	expect("after a refused PUT", get(reader), "deployment", 2592000, true)

	expect("PUT", e.do("PUT", orgDefaults, admin, `{"accessTokenTTL": 3600}`).ok()["orgDefaults"].(map[string]any), "org", 3600, true)
	expect("GET after PUT", get(reader), "org", 3600, true)
	expect("another org", get(token(t, orgB, caller.IdentityRead)), "deployment", 2592000, true)

	// A PUT replaces: the TTL it leaves out goes back to the deployment's.
	expect("second PUT", e.do("PUT", orgDefaults, admin, `{"autoAttach": false}`).ok()["orgDefaults"].(map[string]any), "org", 2592000, false)

	e.do("PUT", orgDefaults, admin, `{"accessTokenTrustedIps": [{"ipAddress": "10.0.0.0/8x"}]}`).
		expectError(400, "BadRequest", "The IP is not a valid IPv4, IPv6, or CIDR block")
	e.do("PUT", orgDefaults, admin, `{"accessTokenTTL": "3600"}`).expectError(422, "ValidationFailure", "")
	expect("after refused PUTs", get(reader), "org", 2592000, false)

	expect("DELETE", e.do("DELETE", orgDefaults, admin, "").ok()["orgDefaults"].(map[string]any), "deployment", 2592000, true)
	expect("GET after DELETE", get(reader), "deployment", 2592000, true)
}
