package provisioner_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"

	"github.com/uauth/uauth/pkg/audit"
	"github.com/uauth/uauth/pkg/provisioner"
)

// eventWithPermissions is an Identity Updated event carrying perms.
func eventWithPermissions(perms []string) []byte {
	b, _ := json.Marshal(map[string]any{
		"version": "0", "id": uuid.NewString(), "detail-type": provisioner.IdentityUpdated, "source": "com.example.identities",
		"account": "123456789012", "time": "2026-11-07T05:31:56Z", "region": "us-east-1", "resources": []string{},
		"detail": map[string]any{"identityId": uuid.NewString(), "orgId": org, "permissions": perms},
	})
	return b
}

// TestAnEventCarriesAtMost64PermissionsOfAtMost128Bytes: an event's
// permissions are at most 64 strings, each of 1 to 128 bytes; an event
// beyond that can never be applied.
func TestAnEventCarriesAtMost64PermissionsOfAtMost128Bytes(t *testing.T) {
	list := func(n int, p string) []string {
		perms := make([]string, n)
		for i := range perms {
			perms[i] = p
		}
		return perms
	}
	for _, tc := range []struct {
		name  string
		perms []string
		ok    bool
	}{
		{"none", []string{}, true},
		{"64", list(64, "orders:read"), true},
		{"65", list(65, "orders:read"), false},
		{"128 bytes", []string{strings.Repeat("p", 128)}, true},
		{"129 bytes", []string{strings.Repeat("p", 129)}, false},
		{"empty", []string{"orders:read", ""}, false},
	} {
		_, d, err := provisioner.Decode(eventWithPermissions(tc.perms))
		if (err == nil) != tc.ok || (tc.ok && len(d.Permissions) != len(tc.perms)) {
			t.Errorf("%s: %d permissions read, err %v; want ok = %v", tc.name, len(d.Permissions), err, tc.ok)
		}
	}
}

// TestAnAttachIsAuditedAndLogged: an identity recorded with a
// configuration is one audit record (config attached, by the provisioner,
// naming the identity, its org and its client id) and a log line saying
// attached; one recorded without is no audit record and a line saying not
// attached.
func TestAnAttachIsAuditedAndLogged(t *testing.T) {
	for _, autoAttach := range []bool{true, false} {
		e := newEnv(t, autoAttach)
		var out, logs bytes.Buffer
		e.h.Audit = audit.NewWriter(&out)
		e.h.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
		id := uuid.NewString()
		if failed := e.deliver(event(provisioner.IdentityCreated, id, org)); len(failed) != 0 {
			t.Fatalf("autoAttach %v: failed %v", autoAttach, failed)
		}

		var recorded map[string]any
		dec := json.NewDecoder(&logs)
		for {
			var line map[string]any
			if err := dec.Decode(&line); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			if line["msg"] == "identity recorded" {
				recorded = line
			}
		}
		if recorded == nil || recorded["attached"] != autoAttach || recorded["identityId"] != id {
			t.Errorf("autoAttach %v: log line %v", autoAttach, recorded)
		}

		if !autoAttach {
			if out.Len() != 0 {
				t.Errorf("nothing attached, but audited: %s", out.String())
			}
			continue
		}
		c, err := e.config(id)
		if err != nil {
			t.Fatal(err)
		}
		var rec map[string]any
		if err := json.Unmarshal(out.Bytes(), &rec); err != nil {
			t.Fatalf("audit: %q (%v)", out.String(), err)
		}
		if rec["event"] != audit.ConfigAttached || rec["outcome"] != audit.Success || rec["actor"] != provisioner.Actor ||
			rec["identityId"] != id || rec["orgId"] != org || rec["clientId"] != c.ClientID {
			t.Errorf("audit record %v", rec)
		}
	}
}

// TestPermissionsVersionOrdersByTimeThenCreatedBeforeUpdated: versions
// compare as strings by the event's time (to the second), then an
// Identity Created before any other event of the same second, whatever
// the event ids, then by event id.
func TestPermissionsVersionOrdersByTimeThenCreatedBeforeUpdated(t *testing.T) {
	at := time.Date(2026, 11, 7, 5, 31, 56, 0, time.UTC)
	ev := func(detailType, id string, at time.Time) events.EventBridgeEvent {
		return events.EventBridgeEvent{DetailType: detailType, ID: id, Time: at}
	}
	ordered := []events.EventBridgeEvent{
		ev(provisioner.IdentityUpdated, "ffffffff", at.Add(-time.Second)),
		ev(provisioner.IdentityCreated, "ffffffff", at),
		ev(provisioner.IdentityUpdated, "00000000", at),
		ev(provisioner.IdentityUpdated, "00000001", at.Add(999*time.Millisecond)),
		ev(provisioner.IdentityCreated, "00000000", at.Add(time.Second)),
	}
	for i := 1; i < len(ordered); i++ {
		a, b := provisioner.PermissionsVersion(ordered[i-1]), provisioner.PermissionsVersion(ordered[i])
		if a >= b {
			t.Errorf("version %q is not before %q", a, b)
		}
	}
}
