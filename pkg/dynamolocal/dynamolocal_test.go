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
