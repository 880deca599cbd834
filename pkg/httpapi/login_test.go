package httpapi_test

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/uauth/uauth/pkg/caller"
)

const (
	addrA = "192.0.2.1:40001" // a caller
	addrB = "192.0.2.2:40002" // another caller, e.g. the real workload
)

func TestLoginSucceeds(t *testing.T) {
	e := newEnv(t)
	id, client := e.attached(orgA, `{}`)
	secret, _ := e.newSecret(orgA, id, `{}`)
	m := e.login(client, secret, addrA).ok()
	if m["tokenType"] != "Bearer" || m["expiresIn"] != 2592000.0 || m["accessTokenMaxTTL"] != 2592000.0 || m["accessToken"] == "" {
		t.Fatalf("login = %v", m)
	}
	if len(m) != 4 {
		t.Errorf("login answered %d fields, want the contract's 4: %v", len(m), m)
	}
}

// TestLoginAcceptsEveryClientsForm: JSON with extra fields (the SDKs send
// organizationSlug), a form, and the CLI's trailing slash.
func TestLoginAcceptsEveryClientsForm(t *testing.T) {
	e := newEnv(t)
	id, client := e.attached(orgA, `{}`)
	secret, _ := e.newSecret(orgA, id, `{}`)
	bodies := []struct{ path, contentType, body string }{
		{"/api/v1/auth/universal-auth/login", "application/json", `{"clientId":"` + client + `","clientSecret":"` + secret + `","organizationSlug":"acme"}`},
		{"/api/v1/auth/universal-auth/login/", "application/json", `{"clientId":"` + client + `","clientSecret":"` + secret + `"}`},
		{"/api/v1/auth/universal-auth/login", "application/x-www-form-urlencoded",
			url.Values{"clientId": {client}, "clientSecret": {secret}, "organizationSlug": {"acme"}}.Encode()},
	}
	for _, b := range bodies {
		e.doFrom(addrA, "POST", b.path, "", b.body, "Content-Type", b.contentType).ok()
	}
}

func TestLoginRefusals(t *testing.T) {
	e := newEnv(t)
	id, client := e.attached(orgA, `{"clientSecretTrustedIps":[{"ipAddress":"192.0.2.0/24"}]}`)
	secret, _ := e.newSecret(orgA, id, `{}`)
	_, revoked := e.newSecret(orgA, id, `{}`)
	e.do("POST", path(id)+"/client-secrets/"+revoked["id"].(string)+"/revoke", token(t, orgA, caller.OrgAdmin), ``).ok()
	login := "/api/v1/auth/universal-auth/login"
	cases := []struct {
		name, addr, body string
		status           int
		errName, message string
	}{
		{"unknown client id", addrA, `{"clientId":"` + orgB + `","clientSecret":"` + secret + `"}`, 401, "UnauthorizedError", "Invalid credentials"},
		{"client id not a uuid", addrA, `{"clientId":"nope","clientSecret":"` + secret + `"}`, 401, "UnauthorizedError", "Invalid credentials"},
		{"from an untrusted address", "198.51.100.7:1", `{"clientId":"` + client + `","clientSecret":"` + secret + `"}`, 403, "ForbiddenError", "You are not allowed to access this resource from the current IP address"},
		{"no client id", addrA, `{"clientSecret":"x"}`, 422, "ValidationFailure", ""},
		{"no secret", addrA, `{"clientId":"` + client + `"}`, 422, "ValidationFailure", ""},
		{"secret not a string", addrA, `{"clientId":"` + client + `","clientSecret":5}`, 422, "ValidationFailure", ""},
		{"repeated client id", addrA, `{"clientId":"` + client + `","clientId":"` + client + `","clientSecret":"x"}`, 422, "ValidationFailure", ""},
		{"malformed", addrA, `{"clientId":`, 422, "ValidationFailure", ""},
		{"too large", addrA, `{"clientId":"` + strings.Repeat("a", 20<<10) + `"}`, 413, "PayloadTooLarge", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := e.scan()
			e.doFrom(tc.addr, "POST", login, "", tc.body).expectError(tc.status, tc.errName, tc.message)
			if e.scan() != before {
				t.Error("the refusal wrote something: only a wrong secret counts towards the lockout")
			}
		})
	}
	// A wrong or revoked secret is the same 401, and counts.
	e.login(client, strings.Repeat("0", 64), addrA).expectError(401, "UnauthorizedError", "Invalid credentials")
	e.login(client, "not even hex", addrA).expectError(401, "UnauthorizedError", "Invalid credentials")
	e.login(client, secret, addrA).ok()
}

func TestExpiredAndUsedUpSecrets(t *testing.T) {
	e := newEnv(t)
	id, client := e.attached(orgA, `{}`)
	expiring, _ := e.newSecret(orgA, id, `{"ttl": 60}`)
	limited, _ := e.newSecret(orgA, id, `{"numUsesLimit": 2}`)
	e.login(client, expiring, addrA).ok()
	e.clock.add(60 * time.Second)
	e.login(client, expiring, addrA).expectError(401, "UnauthorizedError", "Access denied due to expired client secret")
	e.login(client, limited, addrA).ok()
	e.login(client, limited, addrA).ok()
	e.login(client, limited, addrA).expectError(401, "UnauthorizedError", "Access denied due to client secret usage limit reached")
	got := e.do("GET", path(id)+"/client-secrets", token(t, orgA, caller.OrgAdmin), "").ok()["clientSecretData"].([]any)
	for _, s := range got {
		if s := s.(map[string]any); s["clientSecretNumUsesLimit"] == 2.0 && s["clientSecretNumUses"] != 2.0 {
			t.Errorf("the limited secret counted %v uses, want 2", s["clientSecretNumUses"])
		}
	}
}

// TestConcurrentLoginsOnALimitedSecret: the use limit is one conditional
// write, so 20 logins at once on a secret with 5 uses get exactly 5 tokens.
func TestConcurrentLoginsOnALimitedSecret(t *testing.T) {
	e := newEnv(t)
	id, client := e.attached(orgA, `{}`)
	secret, data := e.newSecret(orgA, id, `{"numUsesLimit": 5}`)
	statuses := parallel(20, func(int) *response { return e.login(client, secret, addrA) })
	if statuses[200] != 5 || statuses[401] != 15 {
		t.Fatalf("statuses = %v, want 5 × 200 and 15 × 401", statuses)
	}
	got := e.do("GET", path(id)+"/client-secrets/"+data["id"].(string), token(t, orgA, caller.IdentityRead), "").ok()
	if n := got["clientSecretData"].(map[string]any)["clientSecretNumUses"]; n != 5.0 {
		t.Fatalf("clientSecretNumUses = %v, want 5", n)
	}
}

// TestLockoutIsPerClientAndAddress: failures from one address lock that
// address out, even with the right secret, and nobody else: an attacker
// who knows a client id cannot lock out the workload that uses it.
func TestLockoutIsPerClientAndAddress(t *testing.T) {
	e := newEnv(t)
	id, client := e.attached(orgA, `{"lockoutThreshold": 3, "lockoutDurationSeconds": 300, "lockoutCounterResetSeconds": 30}`)
	secret, _ := e.newSecret(orgA, id, `{}`)
	wrong := strings.Repeat("f", 64)
	for range 3 {
		// The failure that reaches the threshold still says "Invalid credentials".
		e.login(client, wrong, addrA).expectError(401, "UnauthorizedError", "Invalid credentials")
	}
	locked := "This identity auth method is temporarily locked, please try again later"
	e.login(client, secret, addrA).expectError(401, "UnauthorizedError", locked)
	e.login(client, wrong, addrA).expectError(401, "UnauthorizedError", locked)
	e.login(client, secret, addrB).ok()
	// Another address of A's IPv6 /64 shares its lockout; the next /64 does not.
	for range 3 {
		e.login(client, wrong, "[2001:db8::1]:1").expectError(401, "UnauthorizedError", "Invalid credentials")
	}
	e.login(client, secret, "[2001:db8::ffff]:1").expectError(401, "UnauthorizedError", locked)
	e.login(client, secret, "[2001:db8:0:1::1]:1").ok()

	e.clock.add(299 * time.Second)
	e.login(client, secret, addrA).expectError(401, "UnauthorizedError", locked)
	e.clock.add(time.Second)
	e.login(client, secret, addrA).ok()
}

func TestLockoutCountsWithinTheResetWindowOnly(t *testing.T) {
	e := newEnv(t)
	id, client := e.attached(orgA, `{"lockoutThreshold": 3, "lockoutCounterResetSeconds": 30}`)
	secret, _ := e.newSecret(orgA, id, `{}`)
	wrong := strings.Repeat("f", 64)
	e.login(client, wrong, addrA)
	e.login(client, wrong, addrA)
	e.clock.add(31 * time.Second) // the count starts again
	e.login(client, wrong, addrA)
	e.login(client, wrong, addrA)
	e.login(client, secret, addrA).ok() // 2 in the window: not locked; the success resets
	e.login(client, wrong, addrA)
	e.login(client, wrong, addrA)
	e.login(client, secret, addrA).ok()
}

func TestClearLockouts(t *testing.T) {
	e := newEnv(t)
	id, client := e.attached(orgA, `{"lockoutThreshold": 1}`)
	secret, _ := e.newSecret(orgA, id, `{}`)
	for _, addr := range []string{addrA, addrB} {
		e.login(client, "wrong", addr).expectError(401, "UnauthorizedError", "Invalid credentials")
		e.login(client, secret, addr).expectError(401, "UnauthorizedError", "This identity auth method is temporarily locked, please try again later")
	}
	m := e.do("POST", path(id)+"/clear-lockouts", token(t, orgA, caller.IdentityEditAuth), "").ok()
	if !reflect.DeepEqual(m, map[string]any{"deleted": 2.0}) {
		t.Fatalf("clear-lockouts = %v, want {deleted: 2}", m)
	}
	e.login(client, secret, addrA).ok()
	if m := e.do("POST", path(id)+"/clear-lockouts", token(t, orgA, caller.IdentityEditAuth), "").ok(); m["deleted"] != 0.0 {
		t.Fatalf("second clear = %v", m)
	}
}

// TestConcurrentFailuresAllCount: failures are counted with conditional
// writes, so a burst of wrong secrets in parallel still locks.
func TestConcurrentFailuresAllCount(t *testing.T) {
	e := newEnv(t)
	id, client := e.attached(orgA, `{"lockoutThreshold": 10}`)
	secret, _ := e.newSecret(orgA, id, `{}`)
	parallel(10, func(int) *response { return e.login(client, strings.Repeat("e", 64), addrA) })
	e.login(client, secret, addrA).expectError(401, "UnauthorizedError", "This identity auth method is temporarily locked, please try again later")
}

func TestLockoutDisabledCountsNothing(t *testing.T) {
	e := newEnv(t)
	id, client := e.attached(orgA, `{"lockoutEnabled": false, "lockoutThreshold": 1}`)
	secret, _ := e.newSecret(orgA, id, `{}`)
	before := e.scan()
	for range 3 {
		e.login(client, "wrong", addrA).expectError(401, "UnauthorizedError", "Invalid credentials")
	}
	if e.scan() != before {
		t.Fatal("failures were recorded with lockout disabled")
	}
	e.login(client, secret, addrA).ok()
}

// TestSpoofedHeadersDoNotHelp: the caller's address is the TCP peer (API
// Gateway's sourceIp in Lambda), never a header a client can set.
func TestSpoofedHeadersDoNotHelp(t *testing.T) {
	e := newEnv(t)
	id, client := e.attached(orgA, `{"clientSecretTrustedIps":[{"ipAddress":"10.0.0.0/8"}]}`)
	secret, _ := e.newSecret(orgA, id, `{}`)
	spoof := []string{"X-Forwarded-For", "10.1.2.3", "X-Real-Ip", "10.1.2.3", "Cf-Connecting-Ip", "10.1.2.3",
		"X-Client-Ip", "10.1.2.3", "True-Client-Ip", "10.1.2.3", "Forwarded", "for=10.1.2.3"}
	e.login(client, secret, addrA, spoof...).expectError(403, "ForbiddenError", "You are not allowed to access this resource from the current IP address")
	e.login(client, secret, "10.1.2.3:5").ok()
	e.login(client, secret, "[::ffff:10.1.2.3]:5").ok() // IPv4-mapped peers are unmapped
}

// TestLoginRoundTrips holds the cost of each outcome to account: one
// DynamoDB round trip for a login with nothing to write, success or
// refusal, and two when it writes (a use count due, a limited secret or
// token, a lockout to count or to clear).
func TestLoginRoundTrips(t *testing.T) {
	e := newEnv(t)
	id, client := e.attached(orgA, `{"clientSecretTrustedIps":[{"ipAddress":"192.0.2.0/24"}]}`)
	secret, _ := e.newSecret(orgA, id, `{}`)
	limitedID, limitedClient := e.attached(orgA, `{"accessTokenNumUsesLimit": 3}`)
	limited, _ := e.newSecret(orgA, limitedID, `{"numUsesLimit": 10}`)
	cases := []struct {
		name   string
		do     func() *response
		status int
		calls  map[string]int
	}{
		// The first login writes the secret's use count; later ones read
		// only, until the count is due again (login.DefaultFlushInterval).
		{"success, use count due", func() *response { return e.login(client, secret, addrA) }, 200,
			map[string]int{"BatchGetItem": 1, "TransactWriteItems": 1}},
		{"success", func() *response { return e.login(client, secret, addrA) }, 200,
			map[string]int{"BatchGetItem": 1}},
		{"success, limited secret and token", func() *response { return e.login(limitedClient, limited, addrA) }, 200,
			map[string]int{"BatchGetItem": 1, "TransactWriteItems": 1}},
		{"unknown client", func() *response { return e.login(orgB, secret, addrA) }, 401, map[string]int{"BatchGetItem": 1}},
		{"untrusted address", func() *response { return e.login(client, secret, "198.51.100.1:1") }, 403,
			map[string]int{"BatchGetItem": 1}},
		{"wrong secret", func() *response { return e.login(client, "wrong", addrA) }, 401,
			map[string]int{"BatchGetItem": 1, "UpdateItem": 1}},
		{"success after a failure clears it", func() *response { return e.login(client, secret, addrA) }, 200,
			map[string]int{"BatchGetItem": 1, "TransactWriteItems": 1}},
	}
	for _, tc := range cases {
		e.calls.Reset()
		if got := tc.do(); got.status() != tc.status {
			t.Fatalf("%s: status %d: %s", tc.name, got.status(), got.rec.Body)
		}
		if got := e.calls.Calls(); !reflect.DeepEqual(got, tc.calls) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.calls)
		}
	}
}

// TestLoginRightAfterSetUp: no eventually consistent read stands between
// attaching, creating a secret and logging in.
func TestLoginRightAfterSetUp(t *testing.T) {
	e := newEnv(t)
	for i := range 20 {
		id, client := e.attached(orgA, `{}`)
		secret, _ := e.newSecret(orgA, id, `{}`)
		if got := e.login(client, secret, addrA); got.status() != 200 {
			t.Fatalf("login %d right after set-up: %d %s", i, got.status(), got.rec.Body)
		}
	}
}

// TestARevokedConfigurationsClientIDIsUnknown: after DELETE, its client id
// is unknown whatever else is wrong: not a 403 for the address, nor a
// lockout message.
func TestARevokedConfigurationsClientIDIsUnknown(t *testing.T) {
	e := newEnv(t)
	id, client := e.attached(orgA, `{"clientSecretTrustedIps":[{"ipAddress":"10.0.0.0/8"}]}`)
	secret, _ := e.newSecret(orgA, id, `{}`)
	e.do("DELETE", path(id), token(t, orgA, caller.OrgAdmin), "").config()
	e.login(client, secret, addrA).expectError(401, "UnauthorizedError", "Invalid credentials")
	e.login(client, secret, "10.0.0.1:1").expectError(401, "UnauthorizedError", "Invalid credentials")
}

// TestAJSONLoginSentAsAFormIsExplained: curl -d sends a form type; the
// body is read as the Content-Type says, as Infisical does, and the
// answer names the mismatch.
func TestAJSONLoginSentAsAFormIsExplained(t *testing.T) {
	e := newEnv(t)
	got := e.doFrom(addrA, "POST", "/api/v1/auth/universal-auth/login", "", `{"clientId":"x","clientSecret":"y"}`,
		"Content-Type", "application/x-www-form-urlencoded").expectError(422, "ValidationFailure", "")
	issues, _ := got["message"].([]any)
	if len(issues) != 1 || !strings.Contains(issues[0].(map[string]any)["message"].(string), "Content-Type is application/x-www-form-urlencoded") {
		t.Fatalf("message = %v", got["message"])
	}
}
