package httpapi_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/uauth/uauth/pkg/caller"
)

// Whoever can give an identity a client secret can log in as it, so every
// action on a target identity's auth method is bounded: the target's
// permissions must be a subset of the actor's, org:admin covering all.

// boundedRoute is one route that acts on a target identity's auth method.
type boundedRoute struct {
	name string
	perm caller.Permission
	// configured: the target has a configuration (and a client secret)
	// before the request.
	configured bool
	req        func(id, secretID string) (method, target, body string)
}

var boundedRoutes = []boundedRoute{
	{"attach", caller.IdentityEditAuth, false, func(id, _ string) (string, string, string) {
		return "POST", path(id), `{"accessTokenTTL": 60}`
	}},
	{"update", caller.IdentityEditAuth, true, func(id, _ string) (string, string, string) {
		return "PATCH", path(id), `{"accessTokenTTL": 60}`
	}},
	{"revoke", caller.IdentityRevokeAuth, true, func(id, _ string) (string, string, string) {
		return "DELETE", path(id), ``
	}},
	{"create client secret", caller.IdentityEditAuth, true, func(id, _ string) (string, string, string) {
		return "POST", path(id) + "/client-secrets", `{}`
	}},
	{"list client secrets", caller.IdentityRead, true, func(id, _ string) (string, string, string) {
		return "GET", path(id) + "/client-secrets", ``
	}},
	{"get client secret", caller.IdentityRead, true, func(id, secretID string) (string, string, string) {
		return "GET", path(id) + "/client-secrets/" + secretID, ``
	}},
	{"revoke client secret", caller.IdentityRevokeAuth, true, func(id, secretID string) (string, string, string) {
		return "POST", path(id) + "/client-secrets/" + secretID + "/revoke", ``
	}},
	{"clear lockouts", caller.IdentityEditAuth, true, func(id, _ string) (string, string, string) {
		return "POST", path(id) + "/clear-lockouts", ``
	}},
}

// secretsWrite stands for any permission the actor may lack: the rule is
// about sets of strings, not about uauth's own permissions.
const secretsWrite caller.Permission = "secrets:write"

// target records an identity holding perms, configured and with a client
// secret if configured; it returns its id and the secret's id.
func (e *env) target(perms []caller.Permission, configured bool) (string, string) {
	e.t.Helper()
	if !configured {
		return e.identityWith(orgA, perms...), ""
	}
	id, _ := e.attached(orgA, `{}`, perms...)
	_, data := e.newSecret(orgA, id, `{}`)
	return id, data["id"].(string)
}

// scanTargets is the table without token records: a limited token's use
// is counted when it authenticates a request, whatever the request's fate,
// as on every route.
func (e *env) scanTargets() string {
	e.t.Helper()
	var kept []string
	for _, line := range strings.SplitAfter(e.scan(), "\n") {
		if !strings.Contains(line, `"TOKEN#`) {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "")
}

// actor is a caller holding perms: with a platform token, or logged in as a
// machine identity (with an unlimited token, or a limited one, whose use
// proves only the route's permission and whose whole set is read for the
// boundary).
type actorKind struct {
	name  string
	token func(e *env, perms []caller.Permission) string
}

var actorKinds = []actorKind{
	{"platform token", func(e *env, perms []caller.Permission) string { return token(e.t, orgA, perms...) }},
	{"identity token", func(e *env, perms []caller.Permission) string {
		return e.identityToken(`{}`, addrA, perms...).token
	}},
	{"limited identity token", func(e *env, perms []caller.Permission) string {
		return e.identityToken(`{"accessTokenNumUsesLimit": 100}`, addrA, perms...).token
	}},
}

func TestPermissionBoundary(t *testing.T) {
	for _, route := range boundedRoutes {
		for _, kind := range actorKinds {
			t.Run(route.name+"/"+kind.name, func(t *testing.T) {
				e := newEnv(t)
				send := func(actor, target []caller.Permission) *response {
					id, secretID := e.target(target, route.configured)
					method, url, body := route.req(id, secretID)
					return e.do(method, url, kind.token(e, actor), body)
				}

				// Fewer permissions than the target: refused, nothing written.
				id, secretID := e.target([]caller.Permission{route.perm, secretsWrite}, route.configured)
				tok := kind.token(e, []caller.Permission{route.perm})
				before := e.scanTargets()
				method, url, body := route.req(id, secretID)
				got := e.do(method, url, tok, body).expectError(403, "PermissionBoundaryError", "Failed to *")
				if !strings.HasSuffix(got["message"].(string), "for identity with more privileged permissions") {
					t.Errorf("message = %q", got["message"])
				}
				want := map[string]any{"missingPermissions": []any{string(secretsWrite)}}
				if !reflect.DeepEqual(got["details"], want) {
					t.Errorf("details = %v, want %v", got["details"], want)
				}
				if after := e.scanTargets(); after != before {
					t.Errorf("a refused %s changed the table", route.name)
				}

				// The same permissions: allowed.
				same := []caller.Permission{route.perm, secretsWrite}
				send(same, same).ok()

				// org:admin covers everything, org:admin included.
				admin := []caller.Permission{caller.OrgAdmin}
				send(admin, []caller.Permission{caller.OrgAdmin, secretsWrite}).ok()
			})
		}
	}
}

// TestTakeoverOfAnAdminIdentityIsRefused replays the escalation the
// boundary closes: a machine identity with identity:read and
// identity:edit-auth gives itself a client secret of an org:admin identity
// (or attaches Universal Auth to an unconfigured one), logs in as it, and
// acts as org admin.
func TestTakeoverOfAnAdminIdentityIsRefused(t *testing.T) {
	e := newEnv(t)
	attacker := e.identityToken(`{}`, addrA, caller.IdentityRead, caller.IdentityEditAuth).token
	admin, adminClient := e.attached(orgA, `{}`, caller.OrgAdmin)
	unconfigured := e.identityWith(orgA, caller.OrgAdmin)
	before := e.scan()

	e.do("POST", path(admin)+"/client-secrets", attacker, `{}`).expectError(403, "PermissionBoundaryError", "")
	e.do("POST", path(unconfigured), attacker, `{}`).expectError(403, "PermissionBoundaryError", "")
	e.do("GET", path(admin)+"/client-secrets", attacker, ``).expectError(403, "PermissionBoundaryError", "")
	if e.scan() != before {
		t.Fatal("the refused takeover changed the table")
	}
	// Without a secret of its own there is nothing to log in with, and the
	// attacker's own token is no admin's.
	e.login(adminClient, strings.Repeat("0", 64), "192.0.2.1:1").expectError(401, "UnauthorizedError", "Invalid credentials")
	e.do("PUT", "/api/v1/auth/universal-auth/org-defaults", attacker, `{}`).expectError(403, "PermissionDenied", "")

	// A platform token with the same permissions is refused alike.
	user := token(t, orgA, caller.IdentityRead, caller.IdentityEditAuth)
	e.do("POST", path(admin)+"/client-secrets", user, `{}`).expectError(403, "PermissionBoundaryError", "")
	e.do("POST", path(unconfigured), user, `{}`).expectError(403, "PermissionBoundaryError", "")
}

// TestBoundaryComesAfterTheIdentityIsFound: another org's identity is
// still a 404, as if it did not exist, whatever the boundary would say.
func TestBoundaryComesAfterTheIdentityIsFound(t *testing.T) {
	e := newEnv(t)
	other := e.identityWith(orgB, caller.OrgAdmin)
	e.do("POST", path(other), token(t, orgA, caller.IdentityEditAuth), `{}`).expectError(404, "NotFound", "")
}
