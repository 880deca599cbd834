package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

var at = time.Date(2026, 11, 7, 5, 31, 56, 123456789, time.FixedZone("CET", 3600))

func TestAFullEventIsOneLineOfTheSchema(t *testing.T) {
	var buf bytes.Buffer
	NewWriter(&buf).Record(&Event{Event: Login, Outcome: Failure, Reason: "invalid_credentials",
		IdentityID: "i", OrgID: "o", ClientID: "c", Actor: "a", SourceIP: "192.0.2.1", UserAgent: "sdk",
		JTI: "j", SecretID: "s", ReqID: "r", At: at})
	want := `{"audit":true,"event":"login","outcome":"failure","reason":"invalid_credentials","identityId":"i","orgId":"o",` +
		`"clientId":"c","actor":"a","sourceIp":"192.0.2.1","userAgent":"sdk","jti":"j","secretId":"s","reqId":"r",` +
		`"at":"2026-11-07T04:31:56.123Z"}` + "\n"
	if buf.String() != want {
		t.Fatalf("got  %s\nwant %s", buf.String(), want)
	}
}

func TestEmptyFieldsAreLeftOut(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.Now = func() time.Time { return at }
	w.Record(&Event{Event: ConfigRevoked, Outcome: Success})
	if want := `{"audit":true,"event":"config.revoked","outcome":"success","at":"2026-11-07T04:31:56.123Z"}` + "\n"; buf.String() != want {
		t.Fatalf("got %s", buf.String())
	}
}

// event and outcome are in every line, even a caller's empty one, so that
// a query filtering on them never misses a line for lack of the member.
func TestEventAndOutcomeAreAlwaysPresent(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.Now = func() time.Time { return at }
	w.Record(&Event{})
	if want := `{"audit":true,"event":"","outcome":"","at":"2026-11-07T04:31:56.123Z"}` + "\n"; buf.String() != want {
		t.Fatalf("got  %swant %s", buf.String(), want)
	}
}

func TestValuesAreEscaped(t *testing.T) {
	var buf bytes.Buffer
	NewWriter(&buf).Record(&Event{Event: Login, Outcome: Failure, UserAgent: "x\"y\\z\n\x01\xff", At: at})
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil || m["userAgent"] != "x\"y\\z\n\x01\ufffd" {
		t.Fatalf("%s: %v %v", buf.String(), m, err)
	}
}

// TestConcurrentEventsNeverInterleave: each line is one Write.
func TestConcurrentEventsNeverInterleave(t *testing.T) {
	var buf syncBuffer
	w := NewWriter(&buf)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 200 {
				w.Record(&Event{Event: TokenRefused, Outcome: Failure, Reason: strings.Repeat("r", i*50), At: at})
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 1600 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("a line is not JSON: %q", l)
		}
	}
}

func TestRecordFillsTheRequestsFields(t *testing.T) {
	var buf bytes.Buffer
	ctx := NewContext(context.Background(), &Request{Writer: NewWriter(&buf), ReqID: "r", SourceIP: "ip", UserAgent: "ua", Actor: "admin"})
	Record(ctx, Event{Event: SecretCreated, Outcome: Success, Actor: "override", At: at})
	var m map[string]any
	_ = json.Unmarshal(buf.Bytes(), &m)
	if m["reqId"] != "r" || m["sourceIp"] != "ip" || m["userAgent"] != "ua" || m["actor"] != "override" {
		t.Fatalf("%v", m)
	}
	Record(context.Background(), Event{Event: Login}) // no context: nothing, no panic
	var nilWriter *Writer
	nilWriter.Record(&Event{})
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func BenchmarkRecord(b *testing.B) {
	w := NewWriter(io.Discard)
	e := &Event{Event: Login, Outcome: Success, IdentityID: "8c1f4b8e-5d2a-4b7e-9f3c-2a6d1e0b7c45", OrgID: "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa",
		ClientID: "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb", SourceIP: "192.0.2.1", UserAgent: "infisical-go-sdk", ReqID: "req", At: at}
	b.ReportAllocs()
	for b.Loop() {
		w.Record(e)
	}
}
