// Package lambdatest runs a real Lambda bootstrap binary under the official
// Lambda Runtime Interface Emulator (aws-lambda-rie, a tool in go.mod), so
// that tests exercise a function's main (its cold start and wiring) as
// Lambda starts it, without AWS. Everything stays on loopback.
//
// Each Function has an emulator of its own, on two free ports: one for
// Invoke and one for the Runtime API its bootstrap polls. The emulator's
// default Runtime API address is 127.0.0.1:9001; --runtime-api-address
// moves it, so that emulators in test packages running in parallel never
// meet, and nothing else on 9001 gets in their way.
package lambdatest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/uauth/uauth/pkg/envconfig"
)

// Build compiles the function in pkgDir (e.g. "../../functions/api") as
// its bootstrap, with the Makefile's flags but for this machine, so that
// it runs here.
func Build(t testing.TB, pkgDir string) string {
	return build(t, pkgDir, runtime.GOOS, runtime.GOARCH)
}

// BuildLambda compiles the function in pkgDir exactly as the Makefile does
// for Lambda (linux/arm64), to measure what is deployed.
func BuildLambda(t testing.TB, pkgDir string) string {
	return build(t, pkgDir, "linux", "arm64")
}

func build(t testing.TB, pkgDir, goos, goarch string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc,nethttpomithttp2", "-ldflags", "-s -w", "-trimpath", "-o", bin, ".")
	cmd.Dir = pkgDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s for %s/%s: %v\n%s", pkgDir, goos, goarch, err, out)
	}
	return bin
}

// BaselineDir is the directory of the baseline function that cold-start
// measurements compare uauth's API with (see package baseline).
func BaselineDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "baseline")
}

var emulator struct {
	once sync.Once
	path string
	err  error
}

// emulatorPath returns the emulator's binary. go tool -n builds the tool
// pinned in go.mod into the build cache, once, and prints its path.
func emulatorPath(t testing.TB) string {
	t.Helper()
	emulator.once.Do(func() {
		var stderr bytes.Buffer
		cmd := exec.Command("go", "tool", "-n", "aws-lambda-rie")
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		emulator.path = strings.TrimSpace(string(out))
		if err != nil {
			emulator.err = fmt.Errorf("go tool -n aws-lambda-rie: %v\n%s", err, stderr.Bytes())
		}
	})
	if emulator.err != nil {
		t.Fatal(emulator.err)
	}
	return emulator.path
}

// Function is an emulator running one bootstrap.
type Function struct {
	t      testing.TB
	cmd    *exec.Cmd
	url    string
	exited chan struct{}
	log    syncBuffer
}

// Result is one invocation's outcome as the emulator answers it.
type Result struct {
	// Status is 200 when the function answered, with its result or its
	// error, and 502 when its bootstrap exited instead (see Exited).
	Status int
	// Payload is the function's result.
	Payload []byte
	// Error is the error document the function reported instead of a
	// result (see functionError).
	Error []byte
	// Duration runs from sending the request to the end of the response.
	Duration time.Duration
}

// Exited reports whether the bootstrap exited instead of answering, during
// its init or the invocation: the emulator answers 502 with no body.
func (r Result) Exited() bool { return r.Status == http.StatusBadGateway }

// String describes a result for failure messages.
func (r Result) String() string {
	if r.Error != nil {
		return fmt.Sprintf("%d, error %s", r.Status, r.Error)
	}
	return fmt.Sprintf("%d %s", r.Status, r.Payload)
}

// Start runs an emulator for bootstrap with env, and stops it when the
// test ends. The emulator passes its whole environment on to the
// bootstrap, so env is the function's environment, over what Lambda always
// sets: a region and the execution role's credentials. Those are the
// tests' own (envconfig.LocalAWS), because DynamoDB Local without
// -sharedDb keeps a database per access key. The emulator starts the
// bootstrap at the first Invoke, as Lambda does on a cold start.
func Start(t testing.TB, bootstrap string, env ...string) *Function {
	t.Helper()
	creds, err := envconfig.LocalAWS().Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	addrs := freeAddrs(t, 2)
	invokeAddr, runtimeAddr := addrs[0], addrs[1]
	f := &Function{t: t, url: "http://" + invokeAddr + "/2015-03-31/functions/function/invocations", exited: make(chan struct{})}
	// --log-level, because the emulator would take LOG_LEVEL, meant for
	// the function, as its own.
	f.cmd = exec.Command(emulatorPath(t), "--log-level", "info",
		"--runtime-interface-emulator-address", invokeAddr, "--runtime-api-address", runtimeAddr, bootstrap)
	f.cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=" + creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + creds.SecretAccessKey, "AWS_SESSION_TOKEN=lambdatest",
		"AWS_LAMBDA_FUNCTION_NAME=uauth-test", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256", // template.yaml's
	}, env...)
	f.cmd.Stdout, f.cmd.Stderr = &f.log, &f.log
	if err := f.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = f.cmd.Wait()
		close(f.exited)
	}()
	t.Cleanup(f.Stop)
	f.awaitListening(addrs)
	return f
}

// freeAddrs returns n loopback addresses on distinct ports, free right
// now: all are held until it returns, because a port just closed may well
// be the next one handed out.
func freeAddrs(t testing.TB, n int) []string {
	t.Helper()
	addrs := make([]string, n)
	for i := range addrs {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		addrs[i] = ln.Addr().String()
	}
	return addrs
}

// awaitListening waits until the emulator listens on addrs, so that its
// own start stays out of the first invocation's time. It exits at once,
// with a panic in its log, if one of its ports has been taken meanwhile.
func (f *Function) awaitListening(addrs []string) {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, addr := range addrs {
		for {
			conn, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				conn.Close()
				break
			}
			select {
			case <-f.exited:
				f.t.Fatalf("the emulator exited at start: %v; its log:\n%s", f.cmd.ProcessState, f.Log())
			case <-time.After(5 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				f.t.Fatalf("the emulator did not listen on %s within 10s; its log:\n%s", addr, f.Log())
			}
		}
	}
}

// Stop ends the emulator, which kills the bootstrap before it exits; the
// test's cleanup calls it too. Killing the emulator outright would leave
// the bootstrap running, in a process group of its own.
func (f *Function) Stop() {
	_ = f.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-f.exited:
	case <-time.After(10 * time.Second):
		_ = f.cmd.Process.Kill()
		<-f.exited
		f.t.Errorf("the emulator ignored SIGTERM for 10s, and its bootstrap may still run; its log:\n%s", f.Log())
	}
}

// Log returns what the emulator and the bootstrap have written. The
// emulator may answer before it logs: the log is complete once Stop has
// returned.
func (f *Function) Log() string { return f.log.String() }

// InitFailed reports whether the emulator logged a failed init: the
// bootstrap exited, or reported an init error, before its first event.
// Call it after Stop.
func (f *Function) InitFailed() bool {
	return strings.Contains(f.Log(), "INIT RTDONE(status: error)")
}

// Invoke sends one event and returns the emulator's answer.
func (f *Function) Invoke(event []byte) Result {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.url, bytes.NewReader(event))
	if err != nil {
		f.t.Fatal(err)
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatalf("invoke: %v; the emulator's log:\n%s", err, f.Log())
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	took := time.Since(start)
	if err != nil {
		f.t.Fatalf("invoke: reading the answer: %v; the emulator's log:\n%s", err, f.Log())
	}
	r := Result{Status: resp.StatusCode, Duration: took}
	if functionError(body) {
		r.Error = body
	} else {
		r.Payload = body
	}
	return r
}

// functionError reports whether an answer is the error document
// aws-lambda-go posts to the Runtime API for a failed invocation. The
// emulator answers it like a result (200, without Lambda's
// X-Amz-Function-Error header), so its shape is all there is to go by.
func functionError(body []byte) bool {
	var doc struct {
		ErrorMessage *string         `json:"errorMessage"`
		ErrorType    string          `json:"errorType"`
		StackTrace   json.RawMessage `json:"stackTrace"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	return dec.Decode(&doc) == nil && doc.ErrorMessage != nil && doc.ErrorType != ""
}

// Init is what a bootstrap's package initializers cost, as the Go
// runtime's inittrace reports them.
type Init struct {
	Clock    time.Duration // wall time, summed over packages
	Bytes    int64         // heap allocated
	Packages int
}

// InitTrace runs bootstrap once, alone, with GODEBUG=inittrace=1, and sums
// its trace. Package initialization precedes main and is the same with or
// without an emulator; alone, the emulator's own trace (it is a Go program
// too, and passes GODEBUG on) stays out. Without a Runtime API to poll,
// the bootstrap exits soon after.
func InitTrace(t testing.TB, bootstrap string) Init {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bootstrap)
	cmd.Env = []string{"GODEBUG=inittrace=1"}
	cmd.Stderr = &stderr
	_ = cmd.Run() // it fails, past init
	var in Init
	for line := range strings.Lines(stderr.String()) {
		var pkg string
		var at, clock float64
		var heap, allocs int64
		if n, _ := fmt.Sscanf(line, "init %s @%f ms, %f ms clock, %d bytes, %d allocs", &pkg, &at, &clock, &heap, &allocs); n == 5 {
			in.Clock += time.Duration(clock * float64(time.Millisecond))
			in.Bytes += heap
			in.Packages++
		}
	}
	if in.Packages == 0 {
		t.Fatalf("no inittrace lines from %s:\n%s", bootstrap, stderr.Bytes())
	}
	return in
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
