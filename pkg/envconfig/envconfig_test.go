package envconfig

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(map[string]string{"TABLE_NAME": "t"}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.AutoAttach || c.TombstoneTTL != DefaultTombstoneTTL || c.MaxBodyBytes != 0 || c.DefaultConfig.AccessTokenTTL != 2592000 {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestLoadDefaultConfigUsesTheAPIsRules(t *testing.T) {
	c, err := Load(env(map[string]string{
		"TABLE_NAME":        "t",
		"DEFAULT_UA_CONFIG": `{"accessTokenTTL": 3600, "accessTokenTrustedIps": [{"ipAddress": "10.0.0.0/8"}]}`,
		"AUTO_ATTACH":       "false",
		"TOMBSTONE_TTL":     "48h",
		"MAX_BODY_BYTES":    "4096",
		"LOG_LEVEL":         "debug",
	}))
	if err != nil {
		t.Fatal(err)
	}
	d := c.DefaultConfig
	if d.AccessTokenTTL != 3600 || d.AccessTokenMaxTTL != 2592000 || d.AccessTokenTrustedIPs[0].Address != "10.0.0.0" || *d.AccessTokenTrustedIPs[0].Prefix != 8 {
		t.Fatalf("DEFAULT_UA_CONFIG not applied over Infisical's defaults: %+v", d)
	}
	if c.AutoAttach || c.TombstoneTTL != 48*time.Hour || c.MaxBodyBytes != 4096 || c.LogLevel.String() != "DEBUG" {
		t.Fatalf("got %+v", c)
	}
}

func TestLoadRejectsBadConfiguration(t *testing.T) {
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"no table":         {map[string]string{}, "TABLE_NAME"},
		"bad default json": {map[string]string{"TABLE_NAME": "t", "DEFAULT_UA_CONFIG": `{"accessTokenTTL":`}, "DEFAULT_UA_CONFIG"},
		"bad default ip":   {map[string]string{"TABLE_NAME": "t", "DEFAULT_UA_CONFIG": `{"accessTokenTrustedIps":[{"ipAddress":"10.0.0.0/8x"}]}`}, "The IP is not a valid"},
		"default ttl>max":  {map[string]string{"TABLE_NAME": "t", "DEFAULT_UA_CONFIG": `{"accessTokenTTL":100,"accessTokenMaxTTL":50}`}, "cannot be greater"},
		"auto attach":      {map[string]string{"TABLE_NAME": "t", "AUTO_ATTACH": "maybe"}, "AUTO_ATTACH"},
		"tombstone":        {map[string]string{"TABLE_NAME": "t", "TOMBSTONE_TTL": "-1h"}, "TOMBSTONE_TTL"},
		"body cap":         {map[string]string{"TABLE_NAME": "t", "MAX_BODY_BYTES": "lots"}, "MAX_BODY_BYTES"},
		"log level":        {map[string]string{"TABLE_NAME": "t", "LOG_LEVEL": "chatty"}, "LOG_LEVEL"},
	} {
		if _, err := Load(env(tc.env)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error mentioning %s", name, err, tc.want)
		}
	}
}

func TestLoopbackEndpointsUseStaticCredentials(t *testing.T) {
	for endpoint, want := range map[string]bool{
		"http://127.0.0.1:8000": true, "http://localhost:4566": true, "http://[::1]:8000": true,
		"https://dynamodb.us-east-1.amazonaws.com": false, "": false,
	} {
		if got := isLoopback(endpoint); got != want {
			t.Errorf("isLoopback(%q) = %v", endpoint, got)
		}
	}
}

func TestKeysFromEnvironmentForLocalUse(t *testing.T) {
	file := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(file, []byte("pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := Config{AuthSecret: "s", SigningKeyFile: file, ClientSecretKey: "c"}.Keys(LocalAWS())
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		src  func(context.Context) ([][]byte, error)
		want string
	}{"platform": {k.Platform, "s"}, "signing": {k.Signing, "pem"}, "client secret": {k.ClientSecret, "c"}} {
		if keys, err := tc.src(t.Context()); err != nil || len(keys) != 1 || string(keys[0]) != tc.want {
			t.Errorf("%s: got %q, %v", name, keys, err)
		}
	}
	_, err = (Config{}).Keys(LocalAWS())
	for _, v := range []string{"AUTH_SECRET_ARN", "SIGNING_KEY_SECRET_ARN", "CLIENT_SECRET_KEY_ARN"} {
		if err == nil || !strings.Contains(err.Error(), v) {
			t.Errorf("no keys configured: %v, want it to name %s", err, v)
		}
	}
}

// fakeSecretsManager answers GetSecretValue as Secrets Manager's JSON
// protocol does, by version stage, so the Lambda path of AuthKeys runs
// through the real SDK client.
func fakeSecretsManager(t *testing.T, byStage map[string]string) aws.Config {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("X-Amz-Target"); got != "secretsmanager.GetSecretValue" {
			t.Errorf("X-Amz-Target = %q", got)
		}
		var in struct{ SecretId, VersionStage string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		if in.SecretId != testARN {
			t.Errorf("SecretId = %q", in.SecretId)
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		body, ok := byStage[in.VersionStage]
		if !ok {
			w.WriteHeader(400)
			body = `{"__type":"ResourceNotFoundException","message":"no such version"}`
		}
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	cfg := LocalAWS()
	cfg.BaseEndpoint = aws.String(srv.URL)
	cfg.RetryMaxAttempts = 1
	return cfg
}

const testARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:uauth-key"

func TestKeysFromSecretsManager(t *testing.T) {
	c := Config{AuthSecretARN: testARN, AuthSecret: "ignored", SigningKeyFile: "ignored", ClientSecretKey: "ignored",
		SigningKeyARN: testARN, ClientSecretKeyARN: testARN}
	cases := []struct {
		name    string
		stages  map[string]string
		want    []string
		wantErr string
	}{
		{"never rotated", map[string]string{"AWSCURRENT": `{"SecretString":"k1"}`}, []string{"k1"}, ""},
		{"rotated", map[string]string{"AWSCURRENT": `{"SecretString":"k2"}`, "AWSPREVIOUS": `{"SecretString":"k1"}`}, []string{"k2", "k1"}, ""},
		{"binary only", map[string]string{"AWSCURRENT": `{"SecretBinary":"AAEC"}`}, nil, "no string value"},
		{"denied", map[string]string{}, nil, "AUTH_SECRET_ARN (AWSCURRENT)"},
	}
	for _, tc := range cases {
		k, err := c.Keys(fakeSecretsManager(t, tc.stages))
		if err != nil {
			t.Fatal(err)
		}
		keys, err := k.Platform(t.Context())
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: got %v, want an error mentioning %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		var got []string
		for _, k := range keys {
			got = append(got, string(k))
		}
		if err != nil || strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: got %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}
