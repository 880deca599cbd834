package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/uaconfig"
)

// ips decodes a trusted-IP list as it is on the wire.
func ips(t *testing.T, v any) []map[string]any {
	t.Helper()
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("trusted IPs = %#v, want an array", v)
	}
	out := make([]map[string]any, len(list))
	for i, e := range list {
		out[i] = e.(map[string]any)
	}
	return out
}

func TestAttachWithDefaults(t *testing.T) {
	e := newEnv(t)
	id := e.identity(orgA)
	c := e.do("POST", path(id), token(t, orgA, caller.IdentityEditAuth), `{}`).config()

	wantNumbers := map[string]float64{
		"accessTokenTTL": 2592000, "accessTokenMaxTTL": 2592000, "accessTokenNumUsesLimit": 0, "accessTokenPeriod": 0,
		"lockoutThreshold": 3, "lockoutDurationSeconds": 300, "lockoutCounterResetSeconds": 30,
	}
	for k, want := range wantNumbers {
		if c[k] != want {
			t.Errorf("%s = %v, want %v", k, c[k], want)
		}
	}
	if c["lockoutEnabled"] != true {
		t.Errorf("lockoutEnabled = %v, want true", c["lockoutEnabled"])
	}
	if c["identityId"] != id {
		t.Errorf("identityId = %v, want %s", c["identityId"], id)
	}
	for _, k := range []string{"id", "clientId"} {
		if s, _ := c[k].(string); !isUUID(s) {
			t.Errorf("%s = %v, want a UUID", k, c[k])
		}
	}
	if c["id"] == c["clientId"] {
		t.Error("id and clientId must be distinct")
	}
	anyIP := []map[string]any{{"ipAddress": "0.0.0.0", "type": "ipv4", "prefix": 0.0}, {"ipAddress": "::", "type": "ipv6", "prefix": 0.0}}
	for _, k := range []string{"clientSecretTrustedIps", "accessTokenTrustedIps"} {
		if got := ips(t, c[k]); !reflect.DeepEqual(got, anyIP) {
			t.Errorf("%s = %v, want %v", k, got, anyIP)
		}
	}
	if c["createdAt"] != "2036-11-07T05:31:56.123Z" || c["updatedAt"] != c["createdAt"] {
		t.Errorf("createdAt, updatedAt = %v, %v; want the service clock in RFC 3339 UTC", c["createdAt"], c["updatedAt"])
	}
	if len(c) != 15 {
		t.Errorf("got %d fields, want the contract's 15: %v", len(c), c)
	}

	// GET returns the same object.
	if got := e.do("GET", path(id), token(t, orgA, caller.IdentityRead), "").config(); !reflect.DeepEqual(got, c) {
		t.Errorf("GET = %v\nwant  %v", got, c)
	}
}

func TestAttachWithEveryField(t *testing.T) {
	e := newEnv(t)
	id := e.identity(orgA)
	body := fmt.Sprintf(`{"identityId": %q,
		"clientSecretTrustedIps": [{"ipAddress": " 10.1.2.3/8 "}, {"ipAddress": "192.168.1.5"}],
		"accessTokenTrustedIps": [{"ipAddress": "2001:db8::/32"}, {"ipAddress": "::1"}],
		"accessTokenTTL": 3600, "accessTokenMaxTTL": 7200, "accessTokenNumUsesLimit": 10, "accessTokenPeriod": 60,
		"lockoutEnabled": false, "lockoutThreshold": 5, "lockoutDurationSeconds": 600, "lockoutCounterResetSeconds": 60,
		"isClientSecretRotationEnabled": false}`, id)
	c := e.do("POST", path(id), token(t, orgA, caller.OrgAdmin), body).config()

	for k, want := range map[string]any{
		"accessTokenTTL": 3600.0, "accessTokenMaxTTL": 7200.0, "accessTokenNumUsesLimit": 10.0, "accessTokenPeriod": 60.0,
		"lockoutEnabled": false, "lockoutThreshold": 5.0, "lockoutDurationSeconds": 600.0, "lockoutCounterResetSeconds": 60.0,
	} {
		if c[k] != want {
			t.Errorf("%s = %v, want %v", k, c[k], want)
		}
	}
	// prefix only for CIDR input; host bits and text kept as given.
	wantSecretIPs := []map[string]any{{"ipAddress": "10.1.2.3", "type": "ipv4", "prefix": 8.0}, {"ipAddress": "192.168.1.5", "type": "ipv4"}}
	wantTokenIPs := []map[string]any{{"ipAddress": "2001:db8::", "type": "ipv6", "prefix": 32.0}, {"ipAddress": "::1", "type": "ipv6"}}
	if got := ips(t, c["clientSecretTrustedIps"]); !reflect.DeepEqual(got, wantSecretIPs) {
		t.Errorf("clientSecretTrustedIps = %v, want %v", got, wantSecretIPs)
	}
	if got := ips(t, c["accessTokenTrustedIps"]); !reflect.DeepEqual(got, wantTokenIPs) {
		t.Errorf("accessTokenTrustedIps = %v, want %v", got, wantTokenIPs)
	}
	// And the same after a round trip through DynamoDB.
	if got := e.do("GET", path(id), token(t, orgA, caller.IdentityRead), "").config(); !reflect.DeepEqual(got, c) {
		t.Errorf("GET = %v\nwant  %v", got, c)
	}
}

func TestAttachMaxTTLZeroMeansNoMaximum(t *testing.T) {
	e := newEnv(t)
	id := e.identity(orgA)
	c := e.do("POST", path(id), token(t, orgA, caller.OrgAdmin), `{"accessTokenTTL": 315360000, "accessTokenMaxTTL": 0}`).config()
	if c["accessTokenTTL"] != 315360000.0 || c["accessTokenMaxTTL"] != 0.0 {
		t.Fatalf("got TTL %v, max %v", c["accessTokenTTL"], c["accessTokenMaxTTL"])
	}
}

// TestRefusals is the contract's error table. Every refused request gets
// the documented status, error name and message, leaves the item exactly
// as it was, and the ones refused before the write never reach DynamoDB.
func TestRefusals(t *testing.T) {
	e := newEnv(t)
	configured := e.identity(orgA)
	e.do("POST", path(configured), token(t, orgA, caller.OrgAdmin), `{}`).config()
	bare := e.identity(orgA)
	foreign := e.identity(orgB)
	e.do("POST", path(foreign), token(t, orgB, caller.OrgAdmin), `{}`).config()

	admin := token(t, orgA, caller.OrgAdmin)
	hs256 := func(mod func(jwt.MapClaims)) string {
		return signed(t, jwt.SigningMethodHS256, testSecret, adminClaims(orgA, mod))
	}
	noExp := hs256(func(c jwt.MapClaims) { delete(c, "exp") })
	expired := hs256(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Minute).Unix() })
	noOrg := hs256(func(c jwt.MapClaims) { delete(c, "orgId") })
	wrongSecret := signed(t, jwt.SigningMethodHS256, []byte("not-the-secret"), adminClaims(orgA, nil))
	algNone := signed(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, adminClaims(orgA, nil))
	hs512 := signed(t, jwt.SigningMethodHS512, testSecret, adminClaims(orgA, nil))
	const tooBig = 20 << 10

	cases := []struct {
		name                  string
		method, id, tok, body string
		status                int
		errName, message      string
		dbCalls               int // DynamoDB calls the refusal may make
	}{
		{"no token", "POST", bare, "", `{}`, 401, "UnauthorizedError", "Token missing", 0},
		{"garbage token", "POST", bare, "garbage", `{}`, 403, "TokenError", "Invalid token", 0},
		{"token without exp", "POST", bare, noExp, `{}`, 403, "TokenError", "Invalid token", 0},
		{"expired token", "POST", bare, expired, `{}`, 403, "TokenError", "Invalid token", 0},
		{"wrong secret", "POST", bare, wrongSecret, `{}`, 403, "TokenError", "Invalid token", 0},
		{"alg none", "POST", bare, algNone, `{}`, 403, "TokenError", "Invalid token", 0},
		{"HS512 when HS256 is configured", "POST", bare, hs512, `{}`, 403, "TokenError", "Invalid token", 0},
		{"token without orgId", "POST", bare, noOrg, `{}`, 403, "TokenError", "Invalid token", 0},
		{"another org's admin", "POST", bare, token(t, orgB, caller.OrgAdmin), `{}`, 404, "NotFound", "Identity not found", 1},
		{"read-only token attaches", "POST", bare, token(t, orgA, caller.IdentityRead), `{}`, 403, "PermissionDenied", "You are not allowed to perform this action", 0},
		{"edit token revokes", "DELETE", configured, token(t, orgA, caller.IdentityEditAuth), ``, 403, "PermissionDenied", "You are not allowed to perform this action", 0},
		{"revoke token reads", "GET", configured, token(t, orgA, caller.IdentityRevokeAuth), ``, 403, "PermissionDenied", "You are not allowed to perform this action", 0},
		{"no permissions", "PATCH", configured, token(t, orgA), `{}`, 403, "PermissionDenied", "You are not allowed to perform this action", 0},
		{"path id not a uuid", "POST", "not-a-uuid", admin, `{}`, 422, "ValidationFailure", "", 0},
		{"path id in braces", "POST", "{" + bare + "}", admin, `{}`, 422, "ValidationFailure", "", 0},
		{"malformed JSON", "POST", bare, admin, `{"accessTokenTTL":`, 422, "ValidationFailure", "", 0},
		{"wrong type", "POST", bare, admin, `{"accessTokenTTL":"3600"}`, 422, "ValidationFailure", "", 0},
		{"out of range", "POST", bare, admin, `{"lockoutThreshold":31}`, 422, "ValidationFailure", "", 0},
		{"empty IP list", "POST", bare, admin, `{"clientSecretTrustedIps":[]}`, 422, "ValidationFailure", "", 0},
		{"identityId mismatch", "POST", bare, admin, `{"identityId":"` + configured + `"}`, 422, "ValidationFailure", "", 0},
		{"identityId mismatch on DELETE", "DELETE", configured, admin, `{"identityId":"` + bare + `"}`, 422, "ValidationFailure", "", 0},
		{"body too large", "POST", bare, admin, `{"x":"` + strings.Repeat("a", tooBig) + `"}`, 413, "PayloadTooLarge", "", 0},
		{"hostname IP", "POST", bare, admin, `{"clientSecretTrustedIps":[{"ipAddress":"example.com"}]}`, 400, "BadRequest", "The IP is not a valid IPv4, IPv6, or CIDR block", 0},
		{"/33", "POST", bare, admin, `{"accessTokenTrustedIps":[{"ipAddress":"10.0.0.0/33"}]}`, 400, "BadRequest", "The IP is not a valid IPv4, IPv6, or CIDR block", 0},
		{"/8x", "POST", bare, admin, `{"accessTokenTrustedIps":[{"ipAddress":"10.0.0.0/8x"}]}`, 400, "BadRequest", "The IP is not a valid IPv4, IPv6, or CIDR block", 0},
		{"TTL above max", "POST", bare, admin, `{"accessTokenTTL":7201,"accessTokenMaxTTL":7200}`, 400, "BadRequest", "Access token TTL cannot be greater than max TTL", 0},
		{"TTL above default max", "POST", bare, admin, `{"accessTokenTTL":2592001}`, 400, "BadRequest", "Access token TTL cannot be greater than max TTL", 0},
		{"already configured", "POST", configured, admin, `{}`, 400, "BadRequest", "Failed to add universal auth to already configured identity", 1},
		{"unknown identity", "POST", uuid.NewString(), admin, `{}`, 404, "NotFound", "Identity not found", 1},
		{"another org's identity: attach", "POST", foreign, admin, `{}`, 404, "NotFound", "Identity not found", 1},
		{"another org's identity: read", "GET", foreign, admin, ``, 404, "NotFound", "Identity not found", 1},
		{"another org's identity: update", "PATCH", foreign, admin, `{"accessTokenTTL":60}`, 404, "NotFound", "Identity not found", 1},
		{"another org's identity: revoke", "DELETE", foreign, admin, ``, 404, "NotFound", "Identity not found", 1},
		// As current Infisical: the Terraform provider reads this 404 as
		// "gone" and re-creates the configuration on the next apply.
		{"read without configuration", "GET", bare, admin, ``, 404, "NotFound", "Failed to find universal auth for identity with ID " + bare, 1},
		{"update without configuration", "PATCH", bare, admin, `{}`, 404, "NotFound", "Failed to find universal auth for identity with ID " + bare, 1},
		{"revoke without configuration", "DELETE", bare, admin, ``, 400, "BadRequest", "The identity does not have universal auth", 1},
		{"update TTL above stored max", "PATCH", configured, admin, `{"accessTokenTTL":2592001}`, 400, "BadRequest", "Access token TTL cannot be greater than max TTL", 1},
		{"update max below stored TTL", "PATCH", configured, admin, `{"accessTokenMaxTTL":60}`, 400, "BadRequest", "Access token TTL cannot be greater than max TTL", 1},
		{"update both, TTL above max", "PATCH", configured, admin, `{"accessTokenTTL":61,"accessTokenMaxTTL":60}`, 400, "BadRequest", "Access token TTL cannot be greater than max TTL", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := map[string]string{configured: e.item(configured), bare: e.item(bare), foreign: e.item(foreign)}
			e.calls.Reset()
			body := e.do(tc.method, path(tc.id), tc.tok, tc.body).expectError(tc.status, tc.errName, tc.message)
			if n := e.calls.Total(); n > tc.dbCalls {
				t.Errorf("refusal made %d DynamoDB calls (%v), want at most %d", n, e.calls.Calls(), tc.dbCalls)
			}
			for id, was := range before {
				if now := e.item(id); now != was {
					t.Errorf("item %s changed:\nbefore %s\nafter  %s", id, was, now)
				}
			}
			if tc.status == 422 {
				issues, ok := body["message"].([]any)
				if !ok || len(issues) == 0 {
					t.Fatalf("422 message = %#v, want a list of {path, message}", body["message"])
				}
				first := issues[0].(map[string]any)
				if _, ok := first["path"].(string); !ok || first["message"] == "" {
					t.Errorf("issue = %v, want {path, message}", first)
				}
			}
		})
	}
}

// adminClaims are valid org:admin claims, changed by mod when it is not nil.
func adminClaims(org string, mod func(jwt.MapClaims)) jwt.MapClaims {
	c := jwt.MapClaims{"sub": "attacker", "orgId": org, "permissions": []string{string(caller.OrgAdmin)}, "exp": time.Now().Add(time.Hour).Unix()}
	if mod != nil {
		mod(c)
	}
	return c
}

func signed(t *testing.T, m jwt.SigningMethod, key any, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPatchChangesOnlyTheGivenFields(t *testing.T) {
	e := newEnv(t)
	id := e.identity(orgA)
	tok := token(t, orgA, caller.OrgAdmin)
	created := e.do("POST", path(id), tok, `{"accessTokenTrustedIps":[{"ipAddress":"10.0.0.0/8"}]}`).config()

	e.clock.add(90 * time.Second)
	patched := e.do("PATCH", path(id), tok, `{"accessTokenTTL": 60, "lockoutEnabled": false, "clientSecretTrustedIps":[{"ipAddress":"1.2.3.4"}]}`).config()

	want := map[string]any{}
	for k, v := range created {
		want[k] = v
	}
	want["accessTokenTTL"] = 60.0
	want["lockoutEnabled"] = false
	want["clientSecretTrustedIps"] = []any{map[string]any{"ipAddress": "1.2.3.4", "type": "ipv4"}}
	want["updatedAt"] = "2036-11-07T05:33:26.123Z"
	if !reflect.DeepEqual(patched, want) {
		t.Errorf("PATCH = %v\nwant    %v", patched, want)
	}
	if got := e.do("GET", path(id), tok, "").config(); !reflect.DeepEqual(got, patched) {
		t.Errorf("GET after PATCH = %v\nwant %v", got, patched)
	}
}

func TestPatchTTLRuleUsesTheMergedResult(t *testing.T) {
	e := newEnv(t)
	id := e.identity(orgA)
	tok := token(t, orgA, caller.OrgAdmin)
	e.do("POST", path(id), tok, `{"accessTokenTTL": 100, "accessTokenMaxTTL": 200}`).config()

	steps := []struct {
		body   string
		status int
	}{
		{`{"accessTokenTTL": 201}`, 400},    // above the stored max
		{`{"accessTokenTTL": 200}`, 200},    // equal is fine
		{`{"accessTokenMaxTTL": 199}`, 400}, // below the stored TTL
		{`{"accessTokenMaxTTL": 0}`, 200},   // no maximum
		{`{"accessTokenTTL": 315360000}`, 200},
		{`{"accessTokenMaxTTL": 300}`, 400}, // now below the stored TTL
		{`{"accessTokenTTL": 10, "accessTokenMaxTTL": 300}`, 200},
	}
	for i, s := range steps {
		if got := e.do("PATCH", path(id), tok, s.body); got.status() != s.status {
			t.Fatalf("step %d %s: status %d, want %d: %s", i, s.body, got.status(), s.status, got.rec.Body.String())
		}
	}
	c := e.do("GET", path(id), tok, "").config()
	if c["accessTokenTTL"] != 10.0 || c["accessTokenMaxTTL"] != 300.0 {
		t.Fatalf("final TTL %v, max %v; want 10, 300", c["accessTokenTTL"], c["accessTokenMaxTTL"])
	}
}

func TestDeleteReturnsTheRemovedConfiguration(t *testing.T) {
	e := newEnv(t)
	id := e.identity(orgA)
	tok := token(t, orgA, caller.OrgAdmin)
	created := e.do("POST", path(id), tok, `{}`).config()

	// The Terraform provider sends identityId in the DELETE body.
	removed := e.do("DELETE", path(id), tok, `{"identityId":"`+id+`"}`).config()
	if !reflect.DeepEqual(removed, created) {
		t.Errorf("DELETE = %v\nwant %v", removed, created)
	}
	e.do("GET", path(id), tok, "").expectError(404, "NotFound", "Failed to find universal auth for identity with ID "+id)

	again := e.do("POST", path(id), tok, `{}`).config()
	if again["clientId"] == created["clientId"] {
		t.Error("re-attach reused the old clientId")
	}
}

func TestRoutingTolerance(t *testing.T) {
	e := newEnv(t)
	id := e.identity(orgA)
	tok := token(t, orgA, caller.OrgAdmin)
	e.do("POST", path(id)+"/", tok, `{}`).config()
	e.do("GET", path(id)+"/", tok, "").config()
	e.do("GET", "/api/v1/nope", tok, "").expectError(404, "NotFound", "Route not found")
	resp := e.do("PUT", path(id), tok, `{}`)
	resp.expectError(405, "MethodNotAllowed", "")
	if allow := resp.rec.Header().Get("Allow"); allow == "" {
		t.Error("405 without an Allow header")
	}
}

func TestConcurrentAttachesToOneIdentity(t *testing.T) {
	e := newEnv(t)
	id := e.identity(orgA)
	tok := token(t, orgA, caller.IdentityEditAuth)
	statuses := parallel(50, func(int) *response { return e.do("POST", path(id), tok, `{}`) })
	if statuses[200] != 1 || statuses[400] != 49 || len(statuses) != 2 {
		t.Fatalf("statuses = %v, want exactly one 200 and 49 400", statuses)
	}
}

func TestConcurrentAttachesToManyIdentities(t *testing.T) {
	e := newEnv(t)
	ids := make([]string, 50)
	for i := range ids {
		ids[i] = e.identity(orgA)
	}
	tok := token(t, orgA, caller.IdentityEditAuth)
	statuses := parallel(50, func(i int) *response { return e.do("POST", path(ids[i]), tok, `{}`) })
	if statuses[200] != 50 {
		t.Fatalf("statuses = %v, want 50 × 200", statuses)
	}
}

// parallel runs n requests at once and counts their statuses.
func parallel(n int, req func(i int) *response) map[int]int {
	results := make(chan int, n)
	start := make(chan struct{})
	for i := range n {
		go func() {
			<-start
			results <- req(i).status()
		}()
	}
	close(start)
	statuses := map[int]int{}
	for range n {
		statuses[<-results]++
	}
	return statuses
}

func TestDynamoDBCallsPerOperation(t *testing.T) {
	e := newEnv(t)
	id := e.identity(orgA)
	tok := token(t, orgA, caller.OrgAdmin)
	ops := []struct {
		method, body string
		calls        map[string]int
	}{
		// Attach writes the identity item and login's view of it together.
		{"POST", `{}`, map[string]int{"TransactWriteItems": 1}},
		{"GET", ``, map[string]int{"GetItem": 1}},
		// Update reads, then writes both on the condition nothing changed.
		{"PATCH", `{"accessTokenTTL": 60}`, map[string]int{"GetItem": 1, "TransactWriteItems": 1}},
		// Revoke reads, then removes the configuration and deletes login's
		// view of it together.
		{"DELETE", ``, map[string]int{"GetItem": 1, "TransactWriteItems": 1}},
	}
	for _, o := range ops {
		e.calls.Reset()
		e.do(o.method, path(id), tok, o.body).config()
		if got := e.calls.Calls(); !reflect.DeepEqual(got, o.calls) {
			t.Errorf("%s made %v, want %v", o.method, got, o.calls)
		}
	}
}

func TestLogsCarryTheRequestID(t *testing.T) {
	e := newEnv(t)
	resp := e.do("GET", path(uuid.NewString()), "", "")
	reqID := resp.expectError(401, "UnauthorizedError", "Token missing")["reqId"]
	found := false
	for _, line := range e.logs.lines() {
		if line["reqId"] == reqID && line["msg"] == "request" && line["status"] == 401.0 {
			found = true
		}
	}
	if !found {
		t.Fatalf("no access log line with reqId %v: %v", reqID, e.logs.lines())
	}
}

func isUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil && len(s) == 36
}

func TestIDsAreCaseInsensitive(t *testing.T) {
	e := newEnv(t)
	id := e.identity(orgA)
	tok := token(t, orgA, caller.OrgAdmin)
	upper := strings.ToUpper(id)
	c := e.do("POST", path(upper), tok, `{"identityId":"`+upper+`"}`).config()
	if c["identityId"] != id {
		t.Fatalf("identityId = %v, want the canonical %s", c["identityId"], id)
	}
	e.do("GET", path(upper), tok, "").config()
	e.do("DELETE", path(id), tok, `{"identityId":"`+upper+`"}`).config()
}

func TestUncleanPathsAreJSON404s(t *testing.T) {
	e := newEnv(t)
	id := e.identity(orgA)
	tok := token(t, orgA, caller.OrgAdmin)
	for _, p := range []string{
		"/api/v1/auth/universal-auth/identities/./" + id,
		"/api/v1/auth/universal-auth/x/../identities/" + id,
		"//api/v1/auth/universal-auth/identities/" + id,
		"/api/v1/auth/universal-auth/identities/" + id + "//",
	} {
		e.do("GET", p, tok, "").expectError(404, "NotFound", "Route not found")
	}
}

// TestAttachRacesIdentityDeletion: attaches running alongside the
// identity's deletion either land before it, and are removed with it, or
// find the tombstone. No configuration survives the identity.
func TestAttachRacesIdentityDeletion(t *testing.T) {
	e := newEnv(t)
	id := e.identity(orgA)
	tok := token(t, orgA, caller.IdentityEditAuth)
	deleted := make(chan error, 1)
	statuses := parallel(50, func(i int) *response {
		if i == 25 {
			deleted <- e.store.DeleteIdentity(context.Background(), id, orgA, time.Now(), time.Now().Add(time.Hour), "test")
		}
		return e.do("POST", path(id), tok, `{}`)
	})
	if err := <-deleted; err != nil {
		t.Fatal(err)
	}
	if statuses[200] > 1 || statuses[200]+statuses[400]+statuses[404] != 50 {
		t.Fatalf("statuses = %v, want at most one 200 and the rest 400 or 404", statuses)
	}
	if item := e.item(id); strings.Contains(item, `"ua"`) || !strings.Contains(item, `"deleted"`) {
		t.Fatalf("after the race the item is %s, want a tombstone without configuration", item)
	}
	e.do("GET", path(id), token(t, orgA, caller.IdentityRead), "").expectError(404, "NotFound", "Identity not found")
}

// TestPatchRoundTripsEveryField patches each field on its own, by its
// contract name written out here (not taken from uaconfig.Fields, so that a
// renamed field fails), and reads it back; every other field must stay as
// it was.
func TestPatchRoundTripsEveryField(t *testing.T) {
	e := newEnv(t)
	id := e.identity(orgA)
	tok := token(t, orgA, caller.OrgAdmin)
	e.do("POST", path(id), tok, `{"accessTokenMaxTTL": 0}`).config()
	patches := []struct{ name, value, want string }{
		{"accessTokenTTL", `86400`, ``},
		{"accessTokenMaxTTL", `172800`, ``},
		{"accessTokenNumUsesLimit", `7`, ``},
		{"accessTokenPeriod", `3600`, ``},
		{"clientSecretTrustedIps", `[{"ipAddress":"10.1.0.0/16"}]`, `[{"ipAddress":"10.1.0.0","type":"ipv4","prefix":16}]`},
		{"accessTokenTrustedIps", `[{"ipAddress":"2001:db8::1"}]`, `[{"ipAddress":"2001:db8::1","type":"ipv6"}]`},
		{"lockoutEnabled", `false`, ``},
		{"lockoutThreshold", `9`, ``},
		{"lockoutDurationSeconds", `600`, ``},
		{"lockoutCounterResetSeconds", `45`, ``},
	}
	if len(patches) != len(uaconfig.Fields) {
		t.Fatalf("%d fields patched, uaconfig.Fields has %d: add the new field here", len(patches), len(uaconfig.Fields))
	}
	want := e.do("GET", path(id), tok, "").config()
	for _, p := range patches {
		var v any
		if p.want == "" {
			p.want = p.value
		}
		if err := json.Unmarshal([]byte(p.want), &v); err != nil {
			t.Fatal(err)
		}
		e.do("PATCH", path(id), tok, `{"`+p.name+`": `+p.value+`}`).config()
		got := e.do("GET", path(id), tok, "").config()
		want[p.name] = v
		delete(got, "updatedAt")
		delete(want, "updatedAt")
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("after PATCH %s = %s:\ngot  %v\nwant %v", p.name, p.value, got, want)
		}
	}
}
