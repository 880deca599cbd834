package lambdatest

import (
	"strings"
	"testing"
)

// TestAFunctionErrorIsNotAResult runs the baseline under the emulator
// against a database that is not there: the emulator answers its error
// like a result, and Invoke must tell them apart.
func TestAFunctionErrorIsNotAResult(t *testing.T) {
	fn := Start(t, Build(t, BaselineDir()), "TABLE_NAME=t", "DYNAMODB_ENDPOINT=http://"+freeAddrs(t, 1)[0], "AWS_MAX_ATTEMPTS=1")
	res := fn.Invoke([]byte(`{"identityId":"x"}`))
	if res.Status != 200 || res.Payload != nil || !strings.Contains(string(res.Error), "connection refused") {
		t.Fatalf("%s; log:\n%s", res, fn.Log())
	}
	fn.Stop()
	if fn.InitFailed() {
		t.Fatalf("init reported failed:\n%s", fn.Log())
	}
}
