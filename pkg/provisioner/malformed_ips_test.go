package provisioner_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/provisioner"
	"github.com/uauth/uauth/pkg/uaconfig/uaconfigtest"
)

// TestMalformedTrustedIPListsInAnOverrideArePoison: an event whose
// universalAuth carries a trusted-IP list the schema refuses writes
// nothing; it never falls back to a list that admits every address.
func TestMalformedTrustedIPListsInAnOverrideArePoison(t *testing.T) {
	e := newEnv(t, true)
	logs := &bytes.Buffer{}
	e.h.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	for _, m := range uaconfigtest.MalformedIPLists {
		logs.Reset()
		id := uuid.NewString()
		body := eventWith(provisioner.IdentityCreated, id, org, nil, time.Now())
		body = strings.Replace(body, `"detail":{`, `"detail":{"universalAuth":`+m.Body()+`,`, 1)
		if failed := e.deliver(body); !reflect.DeepEqual(failed, []string{"m0"}) {
			t.Errorf("%s: failed = %v, want the record reported", m.Name, failed)
		}
		if _, err := e.store.GetConfig(context.Background(), org, id); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("%s: the identity was written: %v", m.Name, err)
		}
		for _, p := range m.Paths {
			if !strings.Contains(logs.String(), `"msg":"poison record"`) || !strings.Contains(logs.String(), p) {
				t.Errorf("%s: not logged as poison naming %s:\n%s", m.Name, p, logs)
			}
		}
	}
}
