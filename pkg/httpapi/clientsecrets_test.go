package httpapi_test

import (
	"context"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/uuid"

	"github.com/uauth/uauth/pkg/caller"
)

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

func TestCreateClientSecret(t *testing.T) {
	e := newEnv(t)
	id, _ := e.attached(orgA, `{}`)
	cfg := e.do("GET", path(id), token(t, orgA, caller.IdentityRead), "").config()

	e.calls.Reset()
	secret, data := e.newSecret(orgA, id, `{"description": "ci", "numUsesLimit": 5, "ttl": 3600, "identityId": "`+id+`"}`)
	if got := e.calls.Calls(); !reflect.DeepEqual(got, map[string]int{"GetItem": 1, "TransactWriteItems": 1}) {
		t.Errorf("create made %v, want a GetItem and a TransactWriteItems", got)
	}
	if !hex64.MatchString(secret) {
		t.Fatalf("clientSecret %q is not 64 lower-case hex characters", secret)
	}
	want := map[string]any{
		"id": data["id"], "createdAt": "2036-11-07T05:31:56.123Z", "updatedAt": "2036-11-07T05:31:56.123Z",
		"description": "ci", "clientSecretPrefix": secret[:4], "clientSecretNumUses": 0.0, "clientSecretNumUsesLimit": 5.0,
		"clientSecretTTL": 3600.0, "identityUAId": cfg["id"], "isClientSecretRevoked": false,
	}
	if !reflect.DeepEqual(data, want) {
		t.Errorf("clientSecretData = %v\nwant %v", data, want)
	}
	if s, _ := data["id"].(string); !isUUID(s) {
		t.Errorf("id %v is not a UUID", data["id"])
	}
	// The secret appears only in the create response: never stored, never
	// read back.
	got := e.do("GET", path(id)+"/client-secrets/"+data["id"].(string), token(t, orgA, caller.IdentityRead), "").ok()
	if !reflect.DeepEqual(got["clientSecretData"], data) || got["clientSecret"] != nil {
		t.Errorf("GET = %v, want the same data and no secret", got)
	}
	if raw := e.scan(); strings.Contains(raw, secret) || strings.Contains(raw, secret[4:]) {
		t.Fatal("the secret is stored in the table")
	}
}

func TestClientSecretDefaults(t *testing.T) {
	e := newEnv(t)
	id, _ := e.attached(orgA, `{}`)
	for _, body := range []string{``, `{}`} {
		_, data := e.newSecret(orgA, id, body)
		if data["description"] != "" || data["clientSecretNumUsesLimit"] != 0.0 || data["clientSecretTTL"] != 0.0 {
			t.Errorf("body %q: %v", body, data)
		}
	}
}

func TestListGetAndRevokeClientSecrets(t *testing.T) {
	e := newEnv(t)
	id, _ := e.attached(orgA, `{}`)
	_, a := e.newSecret(orgA, id, `{"description": "a"}`)
	_, b := e.newSecret(orgA, id, `{"description": "b"}`)
	reader, revoker := token(t, orgA, caller.IdentityRead), token(t, orgA, caller.IdentityRevokeAuth)
	secrets := path(id) + "/client-secrets"

	list := e.do("GET", secrets, reader, "").ok()["clientSecretData"].([]any)
	if len(list) != 2 {
		t.Fatalf("list = %v, want both secrets", list)
	}
	e.clock.add(60e9)
	revoked := e.do("POST", secrets+"/"+a["id"].(string)+"/revoke", revoker,
		`{"identityId": "`+id+`", "clientSecretId": "`+a["id"].(string)+`"}`).ok()["clientSecretData"].(map[string]any)
	if revoked["isClientSecretRevoked"] != true || revoked["updatedAt"] != "2036-11-07T05:32:56.123Z" {
		t.Fatalf("revoke = %v", revoked)
	}
	// Idempotent: a second revoke changes nothing, not even updatedAt.
	e.clock.add(60e9)
	again := e.do("POST", secrets+"/"+a["id"].(string)+"/revoke", revoker, "").ok()["clientSecretData"]
	if !reflect.DeepEqual(again, revoked) {
		t.Errorf("second revoke = %v, want %v", again, revoked)
	}
	list = e.do("GET", secrets, reader, "").ok()["clientSecretData"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["id"] != b["id"] {
		t.Fatalf("list after revoke = %v, want only b", list)
	}
	// A revoked secret can still be read by id.
	got := e.do("GET", secrets+"/"+a["id"].(string), reader, "").ok()["clientSecretData"]
	if !reflect.DeepEqual(got, revoked) {
		t.Errorf("GET revoked = %v", got)
	}
}

func TestClientSecretRefusals(t *testing.T) {
	e := newEnv(t)
	id, _ := e.attached(orgA, `{}`)
	bare := e.identity(orgA)
	foreign, _ := e.attached(orgB, `{}`)
	_, sec := e.newSecret(orgA, id, `{}`)
	secretID := sec["id"].(string)
	admin := token(t, orgA, caller.OrgAdmin)
	unknown := uuid.NewString()
	cases := []struct {
		name, method, target, tok, body string
		status                          int
		errName, message                string
	}{
		{"no token", "POST", path(id) + "/client-secrets", "", `{}`, 401, "UnauthorizedError", "Token missing"},
		{"read-only creates", "POST", path(id) + "/client-secrets", token(t, orgA, caller.IdentityRead), `{}`, 403, "PermissionDenied", "You are not allowed to perform this action"},
		{"edit lists", "GET", path(id) + "/client-secrets", token(t, orgA, caller.IdentityEditAuth), ``, 403, "PermissionDenied", "You are not allowed to perform this action"},
		{"edit revokes", "POST", path(id) + "/client-secrets/" + secretID + "/revoke", token(t, orgA, caller.IdentityEditAuth), ``, 403, "PermissionDenied", "You are not allowed to perform this action"},
		{"read clears lockouts", "POST", path(id) + "/clear-lockouts", token(t, orgA, caller.IdentityRead), ``, 403, "PermissionDenied", "You are not allowed to perform this action"},
		{"negative use limit", "POST", path(id) + "/client-secrets", admin, `{"numUsesLimit": -1}`, 422, "ValidationFailure", ""},
		{"ttl too long", "POST", path(id) + "/client-secrets", admin, `{"ttl": 315360001}`, 422, "ValidationFailure", ""},
		{"ttl a string", "POST", path(id) + "/client-secrets", admin, `{"ttl": "60"}`, 422, "ValidationFailure", ""},
		{"repeated name", "POST", path(id) + "/client-secrets", admin, `{"ttl": 1, "ttl": 2}`, 422, "ValidationFailure", ""},
		{"identityId mismatch", "POST", path(id) + "/client-secrets", admin, `{"identityId": "` + bare + `"}`, 422, "ValidationFailure", ""},
		{"malformed", "POST", path(id) + "/client-secrets", admin, `{"ttl":`, 422, "ValidationFailure", ""},
		{"secret id not a uuid", "GET", path(id) + "/client-secrets/nope", admin, ``, 422, "ValidationFailure", ""},
		{"unknown secret", "GET", path(id) + "/client-secrets/" + unknown, admin, ``, 404, "NotFound", "Failed to find client secret with ID " + unknown},
		{"revoke unknown secret", "POST", path(id) + "/client-secrets/" + unknown + "/revoke", admin, ``, 404, "NotFound", "Failed to find client secret with ID " + unknown},
		{"revoke body mismatch", "POST", path(id) + "/client-secrets/" + secretID + "/revoke", admin, `{"clientSecretId": "` + unknown + `"}`, 422, "ValidationFailure", ""},
		{"unconfigured: create", "POST", path(bare) + "/client-secrets", admin, `{}`, 400, "BadRequest", "The identity does not have universal auth"},
		{"unconfigured: list", "GET", path(bare) + "/client-secrets", admin, ``, 400, "BadRequest", "The identity does not have universal auth"},
		{"unconfigured: get", "GET", path(bare) + "/client-secrets/" + secretID, admin, ``, 400, "BadRequest", "The identity does not have universal auth"},
		{"unconfigured: clear lockouts", "POST", path(bare) + "/clear-lockouts", admin, ``, 400, "BadRequest", "The identity does not have universal auth"},
		{"another org's identity: create", "POST", path(foreign) + "/client-secrets", admin, `{}`, 404, "NotFound", "Identity not found"},
		{"another org's identity: list", "GET", path(foreign) + "/client-secrets", admin, ``, 404, "NotFound", "Identity not found"},
		{"another org's identity: clear lockouts", "POST", path(foreign) + "/clear-lockouts", admin, ``, 404, "NotFound", "Identity not found"},
		// A secret of another configuration is not found under this one.
		{"another identity's secret", "GET", path(foreign) + "/client-secrets/" + secretID, token(t, orgB, caller.OrgAdmin), ``, 404, "NotFound", "Failed to find client secret with ID " + secretID},
		{"method", "DELETE", path(id) + "/client-secrets", admin, ``, 405, "MethodNotAllowed", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := e.scan()
			e.do(tc.method, tc.target, tc.tok, tc.body).expectError(tc.status, tc.errName, tc.message)
			if after := e.scan(); after != before {
				t.Errorf("a refused request changed the table")
			}
		})
	}
}

// TestRevokingTheConfigurationKillsItsSecrets: after DELETE, its secrets
// are gone with it, in the same single write, and a re-attached
// configuration has none of them.
func TestRevokingTheConfigurationKillsItsSecrets(t *testing.T) {
	e := newEnv(t)
	id, oldClient := e.attached(orgA, `{}`)
	secret, _ := e.newSecret(orgA, id, `{}`)
	admin := token(t, orgA, caller.OrgAdmin)
	e.calls.Reset()
	e.do("DELETE", path(id), admin, "").config()
	if got := e.calls.Calls(); !reflect.DeepEqual(got, map[string]int{"GetItem": 1, "TransactWriteItems": 1}) {
		t.Errorf("revoke made %v, want a read and one transaction", got)
	}
	e.do("GET", path(id)+"/client-secrets", admin, "").expectError(400, "BadRequest", "The identity does not have universal auth")
	newClient := e.do("POST", path(id), admin, `{}`).config()["clientId"].(string)
	if newClient == oldClient {
		t.Fatal("re-attach reused the client id")
	}
	if list := e.do("GET", path(id)+"/client-secrets", admin, "").ok()["clientSecretData"].([]any); len(list) != 0 {
		t.Fatalf("the re-attached configuration has secrets: %v", list)
	}
	e.login(oldClient, secret, "192.0.2.1:1").expectError(401, "UnauthorizedError", "Invalid credentials")
	e.login(newClient, secret, "192.0.2.1:1").expectError(401, "UnauthorizedError", "Invalid credentials")
}

// scan returns the whole table as text, to check what is stored and that
// a refused request changed nothing. It is not counted.
func (e *env) scan() string {
	e.t.Helper()
	out, err := dynamoClient(e.t).Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(e.table), ConsistentRead: aws.Bool(true)})
	if err != nil {
		e.t.Fatal(err)
	}
	var b strings.Builder
	for _, it := range sortedItems(out.Items) {
		b.WriteString(it)
		b.WriteByte('\n')
	}
	return b.String()
}

// TestClientSecretNumbersAreReadAsTheConfigurationsAre: JavaScript clients
// may send 60.0 or 6e1 for 60.
func TestClientSecretNumbersAreReadAsTheConfigurationsAre(t *testing.T) {
	e := newEnv(t)
	id, _ := e.attached(orgA, `{}`)
	_, data := e.newSecret(orgA, id, `{"numUsesLimit": 6e1, "ttl": 3600.0}`)
	if data["clientSecretNumUsesLimit"] != 60.0 || data["clientSecretTTL"] != 3600.0 {
		t.Fatalf("data = %v", data)
	}
	e.do("POST", path(id)+"/client-secrets", token(t, orgA, caller.OrgAdmin), `{"ttl": 1.5}`).expectError(422, "ValidationFailure", "")
}
