package audit

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// TestLinesAreUTF8: JSON exchanged between systems must be UTF-8 (RFC 8259
// §8.1). encoding/json's decoder quietly turns an invalid byte into U+FFFD,
// so decoding a line cannot tell an escaped byte from a raw one: the bytes
// themselves are checked here, in every member a caller controls.
func TestLinesAreUTF8(t *testing.T) {
	bad := "x\xffy\xc3"
	var buf bytes.Buffer
	NewWriter(&buf).Record(&Event{Event: Login, Outcome: Failure, Reason: bad, IdentityID: bad, OrgID: bad, ClientID: bad,
		Actor: bad, SourceIP: bad, UserAgent: bad, JTI: bad, SecretID: bad, ReqID: bad, At: at})
	line := buf.Bytes()
	if !utf8.Valid(line) || !json.Valid(line) {
		t.Fatalf("not UTF-8 JSON: %q", line)
	}
	if n := bytes.Count(line, []byte(`"x\ufffdy\ufffd"`)); n != 10 {
		t.Fatalf("%d members escaped, want 10: %s", n, line)
	}
}
