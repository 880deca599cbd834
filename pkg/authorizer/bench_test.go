package authorizer_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/uauth/uauth/pkg/accesstoken"
	"github.com/uauth/uauth/pkg/authorizer"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/keyring"
	"github.com/uauth/uauth/pkg/testkeys"
	"github.com/uauth/uauth/pkg/uaconfig"
)

// liveStore answers every read with a live identity, secret and token: the
// authorizer's own work, without DynamoDB's.
type liveStore struct {
	accesstoken.Store
	state accesstoken.State
}

func (s liveStore) TokenState(context.Context, accesstoken.Ref) (accesstoken.State, error) {
	return s.state, nil
}

// BenchmarkAuthorizerCPU is the authorizer's CPU per decision outside
// DynamoDB, for an allowed request with a token without a use limit: the
// header, the token's parse and RS256 verification, the claims, the rules
// of a use, the context and the log line (JSON, discarded). Budget: 60 µs.
func BenchmarkAuthorizerCPU(b *testing.B) {
	ctx := context.Background()
	ring, err := keyring.New(ctx, keyring.Static(testkeys.SigningKeyPEM()), accesstoken.ParseSigningKey)
	if err != nil {
		b.Fatal(err)
	}
	signer := accesstoken.NewSigner(ring, "uauth")
	cfg := uaconfig.InfisicalDefaults()
	cfg.ClientID = uuid.NewString()
	id := uuid.NewString()
	issued, _, err := signer.Issue(ctx, issuer, accesstoken.Grant{IdentityID: id, OrgID: org, ClientID: cfg.ClientID,
		ClientSecretID: uuid.NewString(), JTI: uuid.NewString(), AuthTime: time.Now()}, &cfg, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	store := liveStore{state: accesstoken.State{
		Identity: &accesstoken.IdentityState{OrgID: org, Permissions: []string{"orders:read"}, Config: &cfg},
		Secret:   &accesstoken.SecretState{},
		Token:    &accesstoken.Record{Missing: true},
	}}
	a := &authorizer.Authorizer{Tokens: &accesstoken.Service{Store: store, Signer: signer}, Issuer: issuer,
		Routes: map[string]caller.Permission{"GET /orders/{id}": "orders:read"},
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	req := authorizer.Request{Authorization: "Bearer " + issued.AccessToken, SourceIP: ipA, RouteKey: "GET /orders/{id}", RequestID: "req"}
	b.ReportAllocs()
	for b.Loop() {
		d, err := a.Decide(ctx, req)
		if err != nil || !d.Allow {
			b.Fatalf("%+v %v", d, err)
		}
	}
}
