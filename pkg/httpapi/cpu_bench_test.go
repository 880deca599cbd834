package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/uauth/uauth/pkg/accesstoken"
	"github.com/uauth/uauth/pkg/audit"
	"github.com/uauth/uauth/pkg/clientsecret"
	"github.com/uauth/uauth/pkg/keyring"
	"github.com/uauth/uauth/pkg/login"
	"github.com/uauth/uauth/pkg/login/logintest"
	"github.com/uauth/uauth/pkg/testkeys"

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

// BenchmarkLoginObservability is what metrics and the audit trail add to
// a login's handler time, outside DynamoDB: the same login, over an
// in-memory store, with and without their writers (to io.Discard, so that
// the cost is the recording and the encoding, not a pipe). A refused login
// (a wrong secret, no lockout) records as much as a success, a metric line
// and an audit line, without the RS256 signature whose ~1 ms would hide
// the difference. Budget: observed - bare ≤ 5 µs.
func BenchmarkLoginObservability(b *testing.B) {
	store := logintest.NewFake()
	hasher, _ := clientsecret.NewHasher([]byte(testkeys.ClientSecretKey))
	ring, err := keyring.New(context.Background(), keyring.Static(testkeys.SigningKeyPEM()), accesstoken.ParseSigningKey)
	if err != nil {
		b.Fatal(err)
	}
	cfg, _ := uaconfig.NewConfig(uaconfig.InfisicalDefaults(), "8c1f4b8e-5d2a-4b7e-9f3c-2a6d1e0b7c45", uaconfig.Settings{}, time.Now())
	_ = store.Configure(context.Background(), logintest.Org, cfg)
	secret := clientsecret.Generate()
	_ = store.AddSecret(context.Background(), logintest.Org, cfg.IdentityID,
		clientsecret.Secret{ID: hasher.ID(secret), MAC: hasher.MAC(secret), CreatedAt: time.Now()})
	body := `{"clientId":"` + cfg.ClientID + `","clientSecret":"` + strings.Repeat("0", 64) + `"}`
	cfg.LockoutEnabled = false
	_ = store.Configure(context.Background(), logintest.Org, cfg)
	logins := &login.Service{Store: store, Hasher: hasher, Signer: accesstoken.NewSigner(ring, "uauth"), FlushInterval: time.Hour}
	for _, side := range []struct {
		name string
		out  io.Writer
	}{{"bare", nil}, {"observed", io.Discard}} {
		b.Run(side.name, func(b *testing.B) {
			o := httpapi.Options{Login: logins, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Metrics: side.out}
			if side.out != nil {
				o.Audit = audit.NewWriter(side.out)
			}
			h := httpapi.New(o)
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				req := httptest.NewRequest("POST", "/api/v1/auth/universal-auth/login", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				b.StartTimer()
				h.ServeHTTP(rec, req)
				if rec.Code != 401 {
					b.Fatalf("login: %d %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
