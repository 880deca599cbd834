package accesstoken_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/uauth/uauth/pkg/accesstoken"
	"github.com/uauth/uauth/pkg/accesstoken/accesstokentest"
	"github.com/uauth/uauth/pkg/audit"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/testkeys"
)

// auditLines decodes the audit records written to out since the last call.
func auditLines(t *testing.T, out *bytes.Buffer) []map[string]any {
	t.Helper()
	var recs []map[string]any
	dec := json.NewDecoder(out)
	for {
		var rec map[string]any
		if err := dec.Decode(&rec); errors.Is(err, io.EOF) {
			return recs
		} else if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
}

// TestRenewalsAndRevocationsAreAudited: every renewal and revocation is
// one audit record naming the token; one that succeeds is a success with
// no reason, one that is refused a failure with the refusal's reason.
func TestRenewalsAndRevocationsAreAudited(t *testing.T) {
	f := newFixture(t)
	var out bytes.Buffer
	ctx := audit.NewContext(context.Background(), &audit.Request{Writer: audit.NewWriter(&out), ReqID: "r"})
	raw, _ := f.token(`{"accessTokenTTL": 600, "accessTokenMaxTTL": 1000}`)
	c := claimsOf(t, raw)
	platform, _ := caller.SignPlatform([]byte(testkeys.PlatformSecret), caller.PlatformClaims{Subject: "u", OrgID: accesstokentest.Org,
		IssuedAt: f.now, ExpiresAt: f.now.Add(time.Hour)})

	for _, step := range []struct {
		name           string
		do             func() error
		event, outcome string
		reason         string // "" for none
		namesToken     bool
	}{
		{"renew", func() error { _, err := f.svc.Renew(ctx, raw, issuer); return err }, audit.TokenRenewed, audit.Success, "", true},
		{"revoke", func() error { return f.svc.Revoke(ctx, raw, issuer) }, audit.TokenRevoked, audit.Success, "", true},
		{"renew a revoked token", func() error { _, err := f.svc.Renew(ctx, raw, issuer); return err },
			audit.TokenRenewed, audit.Failure, accesstoken.InactiveRevoked, true},
		{"revoke a platform token", func() error { return f.svc.Revoke(ctx, platform, issuer) },
			audit.TokenRevoked, audit.Failure, accesstoken.InactiveNotIdentityToken, false},
		{"renew a platform token", func() error { _, err := f.svc.Renew(ctx, platform, issuer); return err },
			audit.TokenRenewed, audit.Failure, accesstoken.InactiveNotIdentityToken, false},
	} {
		err := step.do()
		if (err == nil) != (step.outcome == audit.Success) {
			t.Fatalf("%s: %v", step.name, err)
		}
		recs := auditLines(t, &out)
		if len(recs) != 1 {
			t.Fatalf("%s: %d audit records, want 1", step.name, len(recs))
		}
		rec := recs[0]
		reason, _ := rec["reason"].(string)
		if rec["event"] != step.event || rec["outcome"] != step.outcome || reason != step.reason {
			t.Errorf("%s: audit %v, want event %s, outcome %s, reason %q", step.name, rec, step.event, step.outcome, step.reason)
		}
		if step.namesToken && (rec["jti"] != c.ID || rec["identityId"] != c.Subject || rec["orgId"] != c.OrgID || rec["clientId"] != c.ClientID) {
			t.Errorf("%s: audit %v does not name the token %s of %s", step.name, rec, c.ID, c.Subject)
		}
		if !step.namesToken && (rec["jti"] != nil || rec["identityId"] != nil) {
			t.Errorf("%s: audit %v names a token", step.name, rec)
		}
	}
}
