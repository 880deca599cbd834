package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uauth/uauth/pkg/dynamotest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

// TestWalkthroughWorksAsPrinted starts the stack as make run does (against
// the test's DynamoDB Local), runs the commands it prints through sh and
// curl, as a reader pasting them would, and checks each answer, with and
// without auto-attach.
func TestWalkthroughWorksAsPrinted(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is not installed: make deps installs it")
	}
	for _, autoAttach := range []string{"true", "false"} {
		t.Run("AUTO_ATTACH="+autoAttach, func(t *testing.T) {
			t.Setenv("AUTO_ATTACH", autoAttach)
			runWalkthrough(t)
		})
	}
}

func runWalkthrough(t *testing.T) {
	t.Setenv("DYNAMODB_ENDPOINT", dynamotest.Endpoint())
	t.Setenv("TABLE_NAME", fmt.Sprintf("uauth-walkthrough-%d", time.Now().UnixNano()))
	t.Setenv("PORT", "0")
	t.Setenv("AUTH_SECRET", "")
	t.Setenv("LOG_LEVEL", "warn")
	data := t.TempDir()
	t.Setenv("DATA_DIR", data)

	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- runStack(ctx, pw)
		pw.Close()
	}()

	// The commands are the lines from the export on, but for comments.
	var script []string
	lines := bufio.NewScanner(pr)
	lines.Buffer(make([]byte, 64<<10), 1<<20)
	for lines.Scan() {
		line := lines.Text()
		switch {
		case strings.HasPrefix(line, "Ctrl-C"):
		case strings.HasPrefix(line, "export UAUTH="), len(script) > 0 && !strings.HasPrefix(line, "#") && line != "" && !strings.HasPrefix(line, "More tokens"):
			script = append(script, line)
			continue
		default:
			continue
		}
		break
	}
	// What the stack prints from now on: the change events and its logs,
	// one JSON line each.
	printed := make(chan string, 100)
	var mu sync.Mutex
	var all []string
	go func() {
		for lines.Scan() {
			mu.Lock()
			all = append(all, lines.Text())
			mu.Unlock()
			select {
			case printed <- lines.Text():
			default:
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()

	out, err := exec.Command("sh", "-ec", strings.Join(script, "\n")).CombinedOutput()
	if err != nil {
		t.Fatalf("the walkthrough failed: %v\n%s\nscript:\n%s", err, out, strings.Join(script, "\n"))
	}
	var answers []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("a command printed %q, not the API's JSON answer\nall output:\n%s", line, out)
		}
		answers = append(answers, m)
	}
	hex64 := regexp.MustCompile(`^[0-9a-f]{64}$`)
	var firstJTI any
	var firstExp float64
	checks := []struct {
		name string
		ok   func(m map[string]any) bool
	}{
		{"org defaults", func(m map[string]any) bool {
			d, _ := m["orgDefaults"].(map[string]any)
			return d["source"] == "org" && d["accessTokenTTL"] == 3600.0 && d["autoAttach"] == true
		}},
		{"event injection", func(m map[string]any) bool { return fmt.Sprint(m["batchItemFailures"]) == "[]" }},
		{"configuration from the org's defaults", func(m map[string]any) bool {
			ua, _ := m["identityUniversalAuth"].(map[string]any)
			return ua["clientId"] != nil && ua["accessTokenTTL"] == 3600.0 && ua["accessTokenMaxTTL"] == 86400.0
		}},
		{"client secret", func(m map[string]any) bool { s, _ := m["clientSecret"].(string); return hex64.MatchString(s) }},
		{"login", func(m map[string]any) bool { return m["tokenType"] == "Bearer" && m["accessToken"] != nil }},
		{"the identity's own call", func(m map[string]any) bool { return m["identityUniversalAuth"] != nil }},
		{"the protected API: the authorizer's context", func(m map[string]any) bool {
			return m["identityId"] != nil && m["jti"] != nil && m["orgId"] == devOrgID && m["permissions"] == "identity:read"
		}},
		{"introspection", func(m map[string]any) bool {
			if m["active"] != true || m["scope"] != "identity:read" {
				return false
			}
			firstJTI, firstExp = m["jti"], m["exp"].(float64)
			return true
		}},
		{"renew", func(m map[string]any) bool { return m["tokenType"] == "Bearer" && m["accessToken"] != nil }},
		{"the renewed token: same jti, later exp", func(m map[string]any) bool {
			exp, _ := m["exp"].(float64)
			return m["active"] == true && m["jti"] == firstJTI && exp > firstExp
		}},
		{"revoke", func(m map[string]any) bool { return m["message"] == "Successfully revoked access token" }},
		{"the revoked token refused", func(m map[string]any) bool {
			return m["statusCode"] == 401.0 && m["message"] == "Failed to authorize: token has been revoked"
		}},
		{"the protected API refuses it, as API Gateway does", func(m map[string]any) bool {
			return len(m) == 1 && m["message"] == "Forbidden"
		}},
		{"introspection: inactive", func(m map[string]any) bool { return len(m) == 1 && m["active"] == false }},
		{"the metrics, summed", func(m map[string]any) bool {
			api, _ := m["api"].(map[string]any)
			logins, _ := api["Logins"].(map[string]any)
			checks, _ := api["TokenChecks"].(map[string]any)
			authz, _ := m["authorizer"].(map[string]any)["AuthorizerDecisions"].(map[string]any)
			prov, _ := m["provisioner"].(map[string]any)["ProvisionerRecords"].(map[string]any)
			return logins["success"] == 1.0 && checks["allowed"] == 1.0 && checks["revoked"] == 1.0 &&
				authz["allow"] == 1.0 && authz["deny"] == 1.0 && prov["recorded"] == 1.0
		}},
	}
	if len(answers) != len(checks) {
		t.Fatalf("%d answers, want %d:\n%s", len(answers), len(checks), out)
	}
	for i, c := range checks {
		if !c.ok(answers[i]) {
			t.Errorf("%s: %v", c.name, answers[i])
		}
	}

	// The stack prints the change events the walkthrough made.
	wantChanges := map[string]bool{"added": true, "credential-added": true}
	var other []string
	deadline := time.After(15 * time.Second)
	for len(wantChanges) > 0 {
		select {
		case line := <-printed:
			var ev struct {
				DetailType string         `json:"detail-type"`
				Detail     map[string]any `json:"detail"`
			}
			if json.Unmarshal([]byte(line), &ev) == nil && ev.DetailType == "Identity Auth Method Changed" {
				delete(wantChanges, ev.Detail["change"].(string))
			} else {
				other = append(other, line)
			}
		case <-deadline:
			t.Fatalf("change events %v were not printed; the stack printed:\n%s", wantChanges, strings.Join(other, "\n"))
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("stack stopped with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("stack did not stop")
	}

	// The log groups hold the audit trail of every decision the walkthrough
	// made, and no line anywhere holds secret material: not the client
	// secret, nor a token.
	mu.Lock()
	logged := strings.Join(all, "\n")
	mu.Unlock()
	files, err := filepath.Glob(filepath.Join(data, "logs", "*.log"))
	if err != nil || len(files) != 3 {
		t.Fatalf("log groups %v, %v; want the api's, the provisioner's and the authorizer's", files, err)
	}
	var audited []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		logged += "\n" + string(b)
		for _, line := range strings.Split(string(b), "\n") {
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) == nil && rec["audit"] == true {
				audited = append(audited, fmt.Sprintf("%s/%s", rec["event"], rec["outcome"]))
			}
		}
	}
	for _, want := range []string{"org_defaults.changed/success", "config.attached/success", "client_secret.created/success",
		"login/success", "token.renewed/success", "token.revoked/success", "token.refused/failure"} {
		if !slices.Contains(audited, want) {
			t.Errorf("no audit record %s among %v", want, audited)
		}
	}
	secret, _ := answers[3]["clientSecret"].(string)
	for name, material := range map[string]string{"client secret": secret, "access token": answers[4]["accessToken"].(string),
		"renewed token": answers[8]["accessToken"].(string), "dev token": devToken(t, script)} {
		// A JWT's signature alone is enough to recognise it.
		if sig := material[strings.LastIndex(material, ".")+1:]; sig == "" || strings.Contains(logged, sig) {
			t.Errorf("the %s appears in the logs", name)
		}
	}
}

// devToken is the UAUTH_TOKEN the walkthrough exports.
func devToken(t *testing.T, script []string) string {
	t.Helper()
	_, after, _ := strings.Cut(script[0], "UAUTH_TOKEN='")
	tok, _, ok := strings.Cut(after, "'")
	if !ok {
		t.Fatalf("no UAUTH_TOKEN in %q", script[0])
	}
	return tok
}
