package metrics

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// TestLinesAreUTF8: JSON exchanged between systems must be UTF-8 (RFC 8259
// §8.1). encoding/json's decoder quietly turns an invalid byte into U+FFFD,
// so decoding a line cannot tell an escaped byte from a raw one: the bytes
// themselves are checked here.
func TestLinesAreUTF8(t *testing.T) {
	r := Get("api")
	defer Put(r)
	r.Count(Logins, "success")
	r.Property("userAgent", "ok\xffbad\xc3")
	r.Property("key\xfe", "v")
	var buf bytes.Buffer
	if err := r.Flush(&buf, at); err != nil {
		t.Fatal(err)
	}
	line := buf.Bytes()
	if !utf8.Valid(line) || !json.Valid(line) {
		t.Fatalf("not UTF-8 JSON: %q", line)
	}
	for _, want := range []string{`"userAgent":"ok\ufffdbad\ufffd"`, `"key\ufffd":"v"`} {
		if !bytes.Contains(line, []byte(want)) {
			t.Errorf("%s not in %s", want, line)
		}
	}
}
