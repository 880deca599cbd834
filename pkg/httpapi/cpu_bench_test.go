package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/httpapi"
	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/uaconfig"
)

// noopStore accepts every attach without doing anything, so that
// BenchmarkAttachCPU measures only uauth's own work.
type noopStore struct{ uaconfig.Store }

func (noopStore) CreateConfig(context.Context, string, uaconfig.Config, string, identity.Guard) error {
	return nil
}

// BenchmarkAttachCPU is the handler's own CPU per attach, outside
// DynamoDB: routing, the platform token (HS256), the body's strict
// decoding and validation, the response and the access log line (JSON,
// formatted and discarded). The request is built outside the timed
// region. Budget: 20 µs.
func BenchmarkAttachCPU(b *testing.B) {
	h := httpapi.New(httpapi.Options{
		Config: uaconfig.NewService(noopStore{}),
		Auth:   platformAuth(b),
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})
	tok := "Bearer " + token(b, orgA, caller.IdentityEditAuth)
	const body = `{"clientSecretTrustedIps":[{"ipAddress":"10.0.0.0/8"}],"accessTokenTrustedIps":[{"ipAddress":"10.1.0.0/16"},{"ipAddress":"2001:db8::/32"}],` +
		`"accessTokenTTL":3600,"accessTokenMaxTTL":7200,"accessTokenNumUsesLimit":0,"lockoutEnabled":true,"lockoutThreshold":3}`
	target := path("8c1f4b8e-5d2a-4b7e-9f3c-2a6d1e0b7c45")
	// Requests are built in chunks, with the timer stopped, so that the
	// heap holds a chunk's requests rather than b.N of them: the
	// collector's work is then the handler's, not the benchmark's.
	const chunk = 1024
	reqs := make([]*http.Request, chunk)
	recs := make([]*httptest.ResponseRecorder, chunk)
	build := func() {
		for i := range reqs {
			reqs[i] = httptest.NewRequest("POST", target, strings.NewReader(body))
			reqs[i].Header.Set("Authorization", tok)
			reqs[i].Header.Set("Content-Type", "application/json")
			recs[i] = httptest.NewRecorder()
		}
	}
	check := func(n int) {
		for _, rec := range recs[:n] {
			if rec.Code != 200 {
				b.Fatalf("attach: %d %s", rec.Code, rec.Body)
			}
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += chunk {
		b.StopTimer()
		build()
		b.StartTimer()
		n := min(chunk, b.N-done)
		for i := range n {
			h.ServeHTTP(recs[i], reqs[i])
		}
		b.StopTimer()
		check(n)
	}
}
