package changes_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"

	"github.com/uauth/uauth/pkg/app"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/changes"
	"github.com/uauth/uauth/pkg/dynamotest"
	"github.com/uauth/uauth/pkg/envconfig"
	"github.com/uauth/uauth/pkg/testkeys"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

const org = "11111111-1111-4111-8111-111111111111"

// TestTheStreamCarriesEveryAuthMethodChange runs attach, update, create
// secret, revoke secret and revoke through the API, then reads the table's
// stream as the change publisher does, and expects exactly those five
// events, in order, with who made each.
func TestTheStreamCarriesEveryAuthMethodChange(t *testing.T) {
	table := dynamotest.NewStreamTable(t)
	cfg, err := envconfig.Load(func(k string) string {
		return map[string]string{"TABLE_NAME": table, "LOG_LEVEL": "error", "AUTO_ATTACH": "false"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	db := dynamotest.Client(t)
	api, err := app.API(context.Background(), cfg, db, testkeys.Keys(), app.Platform{})
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.NewString()
	body, _ := json.Marshal(map[string]any{"version": "0", "id": uuid.NewString(), "detail-type": "Identity Created", "source": "test",
		"time": time.Now().UTC().Format(time.RFC3339), "detail": map[string]any{"identityId": id, "orgId": org}})
	if resp, err := app.Provisioner(cfg, db, nil).Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m", Body: string(body)}}}); err != nil || len(resp.BatchItemFailures) > 0 {
		t.Fatal(resp, err)
	}
	tok, _ := caller.SignPlatform([]byte(testkeys.PlatformSecret), caller.PlatformClaims{Subject: "alice", OrgID: org,
		Permissions: []caller.Permission{caller.OrgAdmin}, IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)})
	do := func(method, path, body string) map[string]any {
		req := httptest.NewRequest(method, "/api/v1/auth/universal-auth/identities/"+id+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
		}
		var m map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &m)
		return m
	}
	start := time.Now().Truncate(time.Millisecond)
	do("POST", "", `{}`)
	do("PATCH", "", `{"accessTokenTTL": 60}`)
	secret := do("POST", "/client-secrets", `{}`)["clientSecretData"].(map[string]any)["id"].(string)
	do("POST", "/client-secrets/"+secret+"/revoke", ``)
	do("POST", "/client-secrets/"+secret+"/revoke", ``) // again: no second event
	do("DELETE", "", ``)
	end := time.Now()

	var mu sync.Mutex
	var got []changes.Change
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = changes.Tail(ctx, db, dynamotest.Streams(t), table, true, nil, func(recs []events.DynamoDBEventRecord) {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range recs {
			if c, ok := changes.FromRecord(r); ok {
				got = append(got, c)
			}
		}
		if len(got) >= 5 {
			cancel()
		}
	})
	if err != nil && ctx.Err() == nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, c := range got {
		kinds = append(kinds, c.Change+" by "+c.Actor)
		if c.IdentityID != id || c.OrgID != org || c.AuthMethod != "universal-auth" || c.At == "" {
			t.Errorf("change %+v", c)
		}
		// The time of the change itself, in milliseconds, never the
		// stream's approximate time.
		at, err := time.Parse(changes.TimeFormat, c.At)
		if err != nil || at.Before(start) || at.After(end) {
			t.Errorf("%s at %q (%v), want a time in milliseconds between %s and %s", c.Change, c.At, err,
				start.UTC().Format(changes.TimeFormat), end.UTC().Format(changes.TimeFormat))
		}
	}
	want := []string{"added by alice", "updated by alice", "credential-added by alice", "credential-revoked by alice", "removed by alice"}
	if !reflect.DeepEqual(kinds, want) {
		t.Fatalf("changes = %v\nwant      %v", kinds, want)
	}
	for _, c := range got {
		b, _ := json.Marshal(c)
		if strings.Contains(string(b), "mac") || strings.Contains(string(b), "secret\"") {
			t.Fatalf("a change carries secret material: %s", b)
		}
	}
}
