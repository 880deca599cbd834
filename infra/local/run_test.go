package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
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
	// What the stack prints from now on: the change events, one JSON line
	// each.
	printed := make(chan string, 100)
	go func() {
		for lines.Scan() {
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
}
