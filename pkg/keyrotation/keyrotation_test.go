package keyrotation_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/google/uuid"

	"github.com/uauth/uauth/pkg/accesstoken"
	"github.com/uauth/uauth/pkg/envconfig"
	"github.com/uauth/uauth/pkg/keyring"
	"github.com/uauth/uauth/pkg/keyrotation"
)

// fakeSM is Secrets Manager's JSON protocol over one secret's versions,
// enough for the rotation protocol; the real SDK client talks to it.
type fakeSM struct {
	mu       sync.Mutex
	values   map[string]string   // version id -> secret string
	stages   map[string][]string // version id -> stages
	puts     int
	rotating bool
}

func newFakeSM(initial string) *fakeSM {
	return &fakeSM{values: map[string]string{"v0": initial}, stages: map[string][]string{"v0": {"AWSCURRENT"}}, rotating: true}
}

func (f *fakeSM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var in map[string]any
	_ = json.NewDecoder(r.Body).Decode(&in)
	str := func(k string) string { s, _ := in[k].(string); return s }
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	fail := func(typ string) {
		w.WriteHeader(400)
		_, _ = w.Write([]byte(`{"__type":"` + typ + `","message":"x"}`))
	}
	var out any
	switch strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "secretsmanager.") {
	case "DescribeSecret":
		out = map[string]any{"RotationEnabled": f.rotating, "VersionIdsToStages": f.stages}
	case "GetSecretValue":
		id := str("VersionId")
		if id == "" {
			id = f.withStage(str("VersionStage"))
		}
		v, ok := f.values[id]
		if !ok || (str("VersionStage") != "" && !slices.Contains(f.stages[id], str("VersionStage"))) {
			fail("ResourceNotFoundException")
			return
		}
		out = map[string]any{"SecretString": v, "VersionId": id, "VersionStages": f.stages[id]}
	case "PutSecretValue":
		id := str("ClientRequestToken")
		f.puts++
		f.values[id] = str("SecretString")
		for _, s := range in["VersionStages"].([]any) {
			f.move(s.(string), id)
		}
		out = map[string]any{"VersionId": id}
	case "UpdateSecretVersionStage":
		f.move(str("VersionStage"), str("MoveToVersionId"))
		if str("VersionStage") == "AWSCURRENT" {
			f.move("AWSPREVIOUS", str("RemoveFromVersionId"))
			f.stages[str("MoveToVersionId")] = slices.DeleteFunc(f.stages[str("MoveToVersionId")], func(s string) bool { return s == "AWSPENDING" })
		}
		out = map[string]any{}
	default:
		fail("InvalidRequestException")
		return
	}
	_ = json.NewEncoder(w).Encode(out)
}

func (f *fakeSM) withStage(stage string) string {
	for id, st := range f.stages {
		if slices.Contains(st, stage) {
			return id
		}
	}
	return ""
}

// move gives stage to version id alone.
func (f *fakeSM) move(stage, id string) {
	for v := range f.stages {
		f.stages[v] = slices.DeleteFunc(f.stages[v], func(s string) bool { return s == stage })
	}
	f.stages[id] = append(f.stages[id], stage)
}

// startRotation is what Secrets Manager does before calling the function:
// a new version id, staged AWSPENDING once createSecret puts it.
func (f *fakeSM) startRotation() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := uuid.NewString()
	f.stages[id] = []string{"AWSPENDING"}
	return id
}

func client(t *testing.T, f *fakeSM) *secretsmanager.Client {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cfg := envconfig.LocalAWS()
	cfg.BaseEndpoint = aws.String(srv.URL)
	cfg.RetryMaxAttempts = 1
	return secretsmanager.NewFromConfig(cfg)
}

func rotate(t *testing.T, r *keyrotation.Rotator, f *fakeSM, steps ...string) string {
	t.Helper()
	token := f.startRotation()
	for _, step := range steps {
		if err := r.Handle(context.Background(), events.SecretsManagerSecretRotationEvent{Step: step, SecretID: "arn", ClientRequestToken: token}); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	return token
}

var allSteps = []string{"createSecret", "setSecret", "testSecret", "finishSecret"}

// TestRotationMakesTheFirstKeyThenRotates: the stack's placeholder is
// replaced at creation; a second rotation keeps the first key as
// AWSPREVIOUS, and the API's key ring (the same Secrets Manager reads as
// in Lambda) then holds both, current first.
func TestRotationMakesTheFirstKeyThenRotates(t *testing.T) {
	f := newFakeSM("placeholder, not a key")
	sm := client(t, f)
	r := &keyrotation.Rotator{SM: sm, Generate: accesstoken.GenerateSigningKeyPEM,
		Check: func(b []byte) error { _, err := accesstoken.ParseSigningKey(b); return err }}

	first := rotate(t, r, f, allSteps...)
	second := rotate(t, r, f, allSteps...)
	if !slices.Contains(f.stages[second], "AWSCURRENT") || !slices.Contains(f.stages[first], "AWSPREVIOUS") {
		t.Fatalf("stages = %v", f.stages)
	}
	ring, err := keyring.New(context.Background(), envconfig.SecretVersions(sm, "SIGNING_KEY_SECRET_ARN", "arn"), accesstoken.ParseSigningKey)
	if err != nil {
		t.Fatal(err)
	}
	keys := ring.Keys(context.Background())
	cur, _ := accesstoken.ParseSigningKey([]byte(f.values[second]))
	if len(keys) != 2 || keys[0].Public.KeyID != cur.Public.KeyID {
		t.Fatalf("ring holds %d keys, current %v", len(keys), keys[0].Public.KeyID)
	}
}

// TestStepsAreIdempotent: Secrets Manager retries a failed step; a step
// run twice makes one key, and a finished rotation's steps do nothing.
func TestStepsAreIdempotent(t *testing.T) {
	f := newFakeSM("placeholder")
	r := &keyrotation.Rotator{SM: client(t, f), Generate: accesstoken.GenerateSigningKeyPEM,
		Check: func(b []byte) error { _, err := accesstoken.ParseSigningKey(b); return err }}
	token := rotate(t, r, f, "createSecret", "createSecret", "setSecret", "testSecret", "finishSecret", "finishSecret")
	if f.puts != 1 {
		t.Fatalf("%d keys put, want 1", f.puts)
	}
	if err := r.Handle(context.Background(), events.SecretsManagerSecretRotationEvent{Step: "createSecret", SecretID: "arn", ClientRequestToken: token}); err != nil {
		t.Fatalf("a step of a finished rotation: %v", err)
	}
}

func TestABadKeyNeverBecomesCurrent(t *testing.T) {
	f := newFakeSM("placeholder")
	r := &keyrotation.Rotator{SM: client(t, f), Generate: func() ([]byte, error) { return []byte("not a key"), nil },
		Check: func(b []byte) error { _, err := accesstoken.ParseSigningKey(b); return err }}
	token := f.startRotation()
	ev := events.SecretsManagerSecretRotationEvent{SecretID: "arn", ClientRequestToken: token}
	ev.Step = "createSecret"
	if err := r.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	ev.Step = "testSecret"
	if err := r.Handle(context.Background(), ev); err == nil {
		t.Fatal("testSecret accepted a key that does not parse")
	}
	if !slices.Contains(f.stages["v0"], "AWSCURRENT") {
		t.Fatal("the current key changed")
	}
}

func TestRefusesWhenRotationIsOff(t *testing.T) {
	f := newFakeSM("placeholder")
	f.rotating = false
	r := &keyrotation.Rotator{SM: client(t, f), Generate: accesstoken.GenerateSigningKeyPEM}
	if err := r.Handle(context.Background(), events.SecretsManagerSecretRotationEvent{Step: "createSecret", SecretID: "arn", ClientRequestToken: f.startRotation()}); err == nil {
		t.Fatal("rotated a secret whose rotation is off")
	}
}
