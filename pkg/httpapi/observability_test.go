package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/uauth/uauth/pkg/caller"
)

// What the API records of each decision: one EMF line per request, with
// outcomes as dimensions, and one audit line per security decision, naming
// who asked, from where, about what, and why a refusal was refused. These
// are the tests of the wiring; pkg/metrics and pkg/audit test the formats.

// observed splits what the API wrote so far into metric sums (keyed
// "Metric/outcome", "Metric/" for a metric without one; a list of values
// counts its length) and audit lines.
func (e *env) observed() (map[string]float64, []map[string]any) {
	e.t.Helper()
	sums := map[string]float64{}
	var audits []map[string]any
	for _, line := range e.obs.lines() {
		if line["audit"] == true {
			audits = append(audits, line)
			continue
		}
		if line["Function"] != "api" {
			e.t.Fatalf("an EMF line without Function api: %v", line)
		}
		raw, _ := json.Marshal(line["_aws"])
		var aws struct {
			CloudWatchMetrics []struct {
				Dimensions [][]string
				Metrics    []struct{ Name string }
			}
		}
		if err := json.Unmarshal(raw, &aws); err != nil || len(aws.CloudWatchMetrics) == 0 {
			e.t.Fatalf("not an EMF line: %v", line)
		}
		for _, d := range aws.CloudWatchMetrics {
			outcome := ""
			if set := d.Dimensions[0]; len(set) > 1 {
				outcome, _ = line[set[1]].(string)
			}
			for _, m := range d.Metrics {
				switch v := line[m.Name].(type) {
				case float64:
					sums[m.Name+"/"+outcome] += v
				case []any:
					sums[m.Name+"/"+outcome] += float64(len(v))
				}
			}
		}
	}
	return sums, audits
}

// delta is what fn added to the metric sums, and the audit lines it wrote.
func (e *env) delta(fn func()) (map[string]float64, []map[string]any) {
	e.t.Helper()
	before, audits := e.observed()
	fn()
	after, all := e.observed()
	for k, v := range before {
		if after[k] -= v; after[k] == 0 {
			delete(after, k)
		}
	}
	return after, all[len(audits):]
}

// expectAudit checks that lines are exactly one audit line with the given
// members (and a reqId, a source address and a time).
func expectAudit(t *testing.T, lines []map[string]any, want map[string]any) {
	t.Helper()
	if len(lines) != 1 {
		t.Fatalf("%d audit lines, want 1: %v", len(lines), lines)
	}
	got := lines[0]
	for k, v := range want {
		if got[k] != v {
			t.Errorf("audit %s = %v, want %v (line %v)", k, got[k], v, got)
		}
	}
	for _, k := range []string{"reqId", "sourceIp", "at"} {
		if s, _ := got[k].(string); s == "" {
			t.Errorf("audit line without %s: %v", k, got)
		}
	}
}

func expectCounts(t *testing.T, got map[string]float64, want map[string]float64) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok && !strings.HasPrefix(k, "DynamoDB") {
			t.Errorf("unexpected metric %s = %v", k, got[k])
		}
	}
}

func TestConfigurationChangesAreCountedAndAudited(t *testing.T) {
	e := newEnv(t)
	id := e.identityWith(orgA)
	admin := token(t, orgA, caller.OrgAdmin)

	sums, audits := e.delta(func() { e.do("POST", path(id), admin, `{}`).config() })
	expectCounts(t, sums, map[string]float64{"ConfigChanges/attached": 1})
	expectAudit(t, audits, map[string]any{"event": "config.attached", "outcome": "success",
		"identityId": id, "orgId": orgA, "actor": "tester", "sourceIp": "192.0.2.1"})

	// A refused change is counted apart and audited with the name the
	// caller was answered with. A body the schema refuses is answered
	// before any decision on the identity: neither counted nor audited.
	sums, audits = e.delta(func() {
		e.do("PATCH", path(id), admin, `{"accessTokenMaxTTL": 10}`).expectError(400, "BadRequest", "")
	})
	expectCounts(t, sums, map[string]float64{"ConfigChanges/refused": 1})
	expectAudit(t, audits, map[string]any{"event": "config.updated", "outcome": "failure", "reason": "BadRequest", "identityId": id})
	sums, audits = e.delta(func() {
		e.do("PATCH", path(id), admin, `{"accessTokenTTL": -1}`).expectError(422, "ValidationFailure", "")
	})
	if len(sums) != 0 || len(audits) != 0 {
		t.Errorf("a schema refusal recorded %v and %v", sums, audits)
	}

	sums, audits = e.delta(func() { e.do("DELETE", path(id), admin, ``).config() })
	expectCounts(t, sums, map[string]float64{"ConfigChanges/revoked": 1})
	expectAudit(t, audits, map[string]any{"event": "config.revoked", "outcome": "success", "identityId": id})
}

func TestABoundaryRefusalIsCountedAndAudited(t *testing.T) {
	e := newEnv(t)
	target, _ := e.attached(orgA, `{}`, caller.OrgAdmin)
	weaker := token(t, orgA, caller.IdentityRead, caller.IdentityEditAuth)
	sums, audits := e.delta(func() {
		e.do("POST", path(target)+"/client-secrets", weaker, `{}`).expectError(403, "PermissionBoundaryError", "")
	})
	expectCounts(t, sums, map[string]float64{"ClientSecretChanges/refused": 1})
	expectAudit(t, audits, map[string]any{"event": "client_secret.created", "outcome": "failure",
		"reason": "PermissionBoundaryError", "identityId": target, "actor": "tester"})
}

func TestLoginsAndTokenChecksAreCountedAndAudited(t *testing.T) {
	e := newEnv(t)
	id, client := e.attached(orgA, `{}`, caller.IdentityRead)
	var secret string
	sums, audits := e.delta(func() { secret, _ = e.newSecret(orgA, id, `{}`) })
	expectCounts(t, sums, map[string]float64{"ClientSecretChanges/created": 1})
	expectAudit(t, audits, map[string]any{"event": "client_secret.created", "outcome": "success", "identityId": id, "clientId": client})

	sums, audits = e.delta(func() {
		e.login(client, strings.Repeat("0", 64), addrA).expectError(401, "UnauthorizedError", "Invalid credentials")
	})
	expectCounts(t, sums, map[string]float64{"Logins/invalid_credentials": 1, "LoginLatency/": 1})
	expectAudit(t, audits, map[string]any{"event": "login", "outcome": "failure", "reason": "invalid_credentials",
		"clientId": client, "sourceIp": "192.0.2.1"})

	var tok string
	sums, audits = e.delta(func() { tok = e.accessToken(client, secret, addrA) })
	expectCounts(t, sums, map[string]float64{"Logins/success": 1, "LoginLatency/": 1})
	expectAudit(t, audits, map[string]any{"event": "login", "outcome": "success", "identityId": id, "orgId": orgA, "clientId": client})
	if jti, _ := audits[0]["jti"].(string); jti == "" {
		t.Errorf("a login's audit line names no jti: %v", audits[0])
	}

	// An allowed token check is a metric, not an audit line: the trail
	// records decisions that refuse or change something.
	sums, audits = e.delta(func() { e.do("GET", path(id), tok, ``).config() })
	expectCounts(t, sums, map[string]float64{"TokenChecks/allowed": 1, "TokenCheckLatency/": 1})
	if len(audits) != 0 {
		t.Errorf("an allowed read wrote audit lines: %v", audits)
	}

	// Neither the secret nor the token is ever written.
	for _, line := range e.obs.lines() {
		raw, _ := json.Marshal(line)
		if strings.Contains(string(raw), secret) || strings.Contains(string(raw), tok) {
			t.Fatalf("a line carries a credential: %s", raw)
		}
	}
}

func TestOrgDefaultsChangesAreAudited(t *testing.T) {
	e := newEnv(t)
	admin := token(t, orgA, caller.OrgAdmin)
	_, audits := e.delta(func() {
		e.do("PUT", "/api/v1/auth/universal-auth/org-defaults", admin, `{"accessTokenTTL": 600}`).ok()
	})
	expectAudit(t, audits, map[string]any{"event": "org_defaults.changed", "outcome": "success", "orgId": orgA, "actor": "tester"})
	// What the body's decoder refuses (schema, trusted-IP syntax) is
	// answered before any decision, as on the configuration routes; the
	// TTL rule on the result is a refused change.
	for body, want := range map[string][2]any{
		`{"accessTokenTTL": "x"}`:                                   {422, "ValidationFailure"},
		`{"accessTokenTrustedIps": [{"ipAddress": "10.0.0.0/99"}]}`: {400, "BadRequest"},
	} {
		_, audits = e.delta(func() {
			e.do("PUT", "/api/v1/auth/universal-auth/org-defaults", admin, body).expectError(want[0].(int), want[1].(string), "")
		})
		if len(audits) != 0 {
			t.Errorf("%s: a refusal by the decoder was audited: %v", body, audits)
		}
	}
	_, audits = e.delta(func() {
		e.do("PUT", "/api/v1/auth/universal-auth/org-defaults", admin, `{"accessTokenTTL": 700, "accessTokenMaxTTL": 600}`).expectError(400, "BadRequest", "")
	})
	expectAudit(t, audits, map[string]any{"event": "org_defaults.changed", "outcome": "failure", "reason": "BadRequest", "orgId": orgA})
	_, audits = e.delta(func() { e.do("DELETE", "/api/v1/auth/universal-auth/org-defaults", admin, ``).ok() })
	expectAudit(t, audits, map[string]any{"event": "org_defaults.changed", "outcome": "success", "orgId": orgA})
}
