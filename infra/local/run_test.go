package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uauth/uauth/pkg/dynamotest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

// TestWalkthroughWorksAsPrinted starts the stack as make run does (against
// the test's DynamoDB Local) and runs the curl commands it prints, with
// and without auto-attach.
func TestWalkthroughWorksAsPrinted(t *testing.T) {
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

	var curls []string
	lines := bufio.NewScanner(pr)
	lines.Buffer(make([]byte, 64<<10), 1<<20)
	for lines.Scan() {
		line := lines.Text()
		if strings.HasPrefix(line, "curl ") {
			curls = append(curls, line)
		}
		if strings.HasPrefix(line, "Ctrl-C") {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if len(curls) != 3 {
		t.Fatalf("walkthrough printed %d curl commands, want 3", len(curls))
	}

	want := []func(t *testing.T, status int, body map[string]any){
		func(t *testing.T, status int, body map[string]any) {
			if status != 200 || fmt.Sprint(body["batchItemFailures"]) != "[]" {
				t.Fatalf("inject: %d %v", status, body)
			}
		},
		func(t *testing.T, status int, body map[string]any) {
			ua, _ := body["identityUniversalAuth"].(map[string]any)
			if status != 200 || ua["accessTokenTTL"] != 2592000.0 {
				t.Fatalf("get: %d %v", status, body)
			}
		},
		func(t *testing.T, status int, body map[string]any) {
			ua, _ := body["identityUniversalAuth"].(map[string]any)
			if status != 200 || ua["accessTokenTTL"] != 3600.0 || fmt.Sprint(ua["accessTokenTrustedIps"]) != "[map[ipAddress:10.0.0.0 prefix:8 type:ipv4]]" {
				t.Fatalf("patch: %d %v", status, body)
			}
		},
	}
	for i, c := range curls {
		status, body := runCurl(t, c)
		want[i](t, status, body)
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

// runCurl runs a printed curl command in a shell, as a reader pasting it
// would, asking curl for the status code as well. Without curl, it replays
// the command with net/http instead.
func runCurl(t *testing.T, line string) (int, map[string]any) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Logf("curl not installed: replaying %q with net/http", line[:40])
		return replayCurl(t, line)
	}
	out, err := exec.Command("sh", "-c", line+` -w '\n%{http_code}'`).Output()
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	i := strings.LastIndex(string(out), "\n")
	if i < 0 {
		t.Fatalf("%s: no status code in %q", line, out)
	}
	body, code := string(out[:i]), string(out[i+1:])
	status, err := strconv.Atoi(code)
	if err != nil {
		t.Fatalf("%s: no status code in %q", line, out)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("%s: %v in %q", line, err, body)
	}
	return status, m
}

// replayCurl performs a printed curl command with net/http: -X, -H, -d, -s
// and one URL, with single-quoted arguments, which is all the walkthrough
// uses.
func replayCurl(t *testing.T, line string) (int, map[string]any) {
	t.Helper()
	args := shellWords(t, line)[1:]
	method, url, body := "GET", "", ""
	headers := http.Header{}
	for i := 0; i < len(args); i++ {
		switch a := args[i]; a {
		case "-s":
		case "-X":
			i++
			method = args[i]
		case "-H":
			i++
			k, v, _ := strings.Cut(args[i], ":")
			headers.Set(k, strings.TrimSpace(v))
		case "-d":
			i++
			body, method = args[i], map[bool]string{true: method, false: "POST"}[method != "GET"]
		default:
			if strings.HasPrefix(a, "-") || url != "" {
				t.Fatalf("unexpected curl argument %q in %s", a, line)
			}
			url = a
		}
	}
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = headers
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	return resp.StatusCode, m
}

func shellWords(t *testing.T, s string) []string {
	var words []string
	var cur strings.Builder
	inQuote, inWord := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			inQuote, inWord = !inQuote, true
		case r == ' ' && !inQuote:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inQuote {
		t.Fatalf("unbalanced quote in %s", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}
