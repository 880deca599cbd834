package dynamolocal

import (
	"context"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func start(t *testing.T) *Instance {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	inst, err := Start(context.Background(), Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// gone waits until nothing listens on the instance's port any more.
func gone(t *testing.T, endpoint string) {
	t.Helper()
	u, _ := url.Parse(endpoint)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", u.Host, 200*time.Millisecond)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("DynamoDB Local still listening on %s", endpoint)
}

func TestStopLeavesNothingRunning(t *testing.T) {
	inst := start(t)
	inst.Stop()
	gone(t, inst.Endpoint)
}

// TestNoOrphanWhenTheOwnerDies: a process that starts DynamoDB Local and
// dies without stopping it (a test binary that panicked) leaves no JVM.
func TestNoOrphanWhenTheOwnerDies(t *testing.T) {
	if os.Getenv("DYNAMOLOCAL_ORPHAN") == "1" {
		inst := start(t)
		os.Stdout.WriteString("ENDPOINT " + inst.Endpoint + "\n")
		os.Exit(3) // no Stop
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestNoOrphanWhenTheOwnerDies$")
	cmd.Env = append(os.Environ(), "DYNAMOLOCAL_ORPHAN=1")
	b, _ := cmd.Output()
	_, endpoint, ok := strings.Cut(strings.TrimSpace(string(b)), "ENDPOINT ")
	if !ok {
		t.Fatalf("child printed %q", b)
	}
	gone(t, endpoint)
}

func TestStartFailsFastWhenJavaExits(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	root, _ := RepoRoot()
	start := time.Now()
	inst, err := Start(context.Background(), Options{Root: root, Port: busy.Addr().(*net.TCPAddr).Port})
	if err == nil {
		inst.Stop()
		t.Fatal("started on a port that is taken")
	}
	if !strings.Contains(err.Error(), "exited during startup") || time.Since(start) > 30*time.Second {
		t.Fatalf("after %s: %v; want a prompt 'exited during startup'", time.Since(start).Round(time.Second), err)
	}
}
