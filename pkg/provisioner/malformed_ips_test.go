package provisioner_test

import (
	"bytes"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/uauth/uauth/pkg/provisioner"
	"github.com/uauth/uauth/pkg/uaconfig/uaconfigtest"
)

// TestMalformedTrustedIPListsInAnOverrideArePoison: an event whose
// universalAuth carries a trusted-IP list the schema refuses is poison,
// logged with the issues, and writes nothing; it never falls back to the
// defaults' list, which admits every address.
func TestMalformedTrustedIPListsInAnOverrideArePoison(t *testing.T) {
	e := newEnv(t, true)
	logs := &bytes.Buffer{}
	e.h.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	for _, c := range uaconfigtest.Cases() {
		logs.Reset()
		body := eventWith(provisioner.IdentityCreated, uuid.NewString(), org, nil, time.Now())
		// Spliced in as is: a list through json.Marshal could come out otherwise.
		body = strings.Replace(body, `"detail":{`, `"detail":{"universalAuth":`+c.Body+`,`, 1)
		if failed := e.deliver(body); !reflect.DeepEqual(failed, []string{"m0"}) {
			t.Errorf("%s: failed = %v, want the record reported", c.Name, failed)
		}
		if !strings.Contains(logs.String(), `"msg":"poison record"`) {
			t.Errorf("%s: not logged as poison:\n%s", c.Name, logs)
		}
		for _, p := range c.Paths {
			if !strings.Contains(logs.String(), p+": ") {
				t.Errorf("%s: the log does not name %s:\n%s", c.Name, p, logs)
			}
		}
	}
	if items := normalizedTable(t, e.store); items != "" {
		t.Errorf("poison records wrote:\n%s", items)
	}
}
