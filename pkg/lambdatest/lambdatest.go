// Package lambdatest runs a real Lambda bootstrap binary against a minimal
// Lambda Runtime API on loopback, so that tests exercise a function's main
// (its cold start and wiring) exactly as the provided.al2023 runtime would
// start it, without AWS.
package lambdatest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Build compiles the function in pkgDir (e.g. "../../functions/api") as
// its bootstrap, with the Makefile's flags but for this machine's
// architecture, so that it runs here.
func Build(t testing.TB, pkgDir string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc,nethttpomithttp2", "-ldflags", "-s -w", "-trimpath", "-o", bin, ".")
	cmd.Dir = pkgDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", pkgDir, err, out)
	}
	return bin
}

// BuildBaseline compiles testdata/hello, the smallest aws-lambda-go
// function, as the baseline for cold-start measurements.
func BuildBaseline(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return Build(t, filepath.Join(filepath.Dir(file), "testdata", "hello"))
}

// Function is a running bootstrap process and the Runtime API it polls.
type Function struct {
	t       testing.TB
	cmd     *exec.Cmd
	srv     *http.Server
	events  chan []byte
	results chan Result
	exited  chan struct{}
	seq     atomic.Int64
	log     syncBuffer
	// Started is when the process was started.
	Started time.Time
}

// Result is one invocation's outcome: the response payload, the error the
// function reported through the Runtime API, or its exit.
type Result struct {
	Payload []byte
	Error   []byte
	Exited  bool
}

// Start runs bin with env (plus the Runtime API address) and stops it when
// the test ends.
func Start(t testing.TB, bin string, env ...string) *Function {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &Function{t: t, events: make(chan []byte), results: make(chan Result, 1), exited: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		select {
		case ev := <-f.events:
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", "req-"+strconv.FormatInt(f.seq.Add(1), 10))
			w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(30*time.Second).UnixMilli(), 10))
			w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:uauth-test")
			_, _ = w.Write(ev)
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.results <- Result{Payload: b}
		w.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.results <- Result{Error: b}
		w.WriteHeader(http.StatusAccepted)
	})
	f.srv = &http.Server{Handler: mux}
	go func() { _ = f.srv.Serve(ln) }()

	f.cmd = exec.Command(bin)
	f.cmd.Env = append([]string{
		"AWS_LAMBDA_RUNTIME_API=" + ln.Addr().String(),
		"AWS_LAMBDA_FUNCTION_NAME=uauth-test", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
		"AWS_REGION=us-east-1", "PATH=" + os.Getenv("PATH"),
	}, env...)
	f.cmd.Stdout, f.cmd.Stderr = &f.log, &f.log
	f.Started = time.Now()
	if err := f.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = f.cmd.Wait()
		close(f.exited)
	}()
	t.Cleanup(f.Stop)
	return f
}

// Stop ends the function now; the test's cleanup calls it too.
func (f *Function) Stop() {
	_ = f.cmd.Process.Kill()
	<-f.exited
	_ = f.srv.Shutdown(context.Background())
}

// Log returns what the function has written to stdout and stderr.
func (f *Function) Log() string { return f.log.String() }

// ExitCode waits for the process to end by itself and returns its status.
func (f *Function) ExitCode() int {
	f.t.Helper()
	select {
	case <-f.exited:
		return f.cmd.ProcessState.ExitCode()
	case <-time.After(30 * time.Second):
		f.t.Fatalf("the function did not exit; its output:\n%s", f.Log())
		return 0
	}
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

// Invoke delivers one event and waits for the function's answer.
func (f *Function) Invoke(event []byte) Result {
	f.t.Helper()
	select {
	case f.events <- event:
	case <-f.exited:
		return Result{Exited: true}
	case <-time.After(30 * time.Second):
		f.t.Fatalf("the function never asked for an event; its output:\n%s", f.Log())
	}
	select {
	case r := <-f.results:
		return r
	case <-f.exited:
		return Result{Exited: true}
	case <-time.After(30 * time.Second):
		f.t.Fatalf("no answer within 30s; the function's output:\n%s", f.Log())
		return Result{}
	}
}

// String describes a result for failure messages.
func (r Result) String() string {
	if r.Error != nil {
		return fmt.Sprintf("error %s", r.Error)
	}
	return string(r.Payload)
}
