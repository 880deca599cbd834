package main

import (
	"context"
	"testing"
	"time"

	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/keyring"
)

func TestDevTokensVerify(t *testing.T) {
	t.Setenv("AUTH_SECRET", "")
	secret, dev := authSecret()
	if !dev || secret != devSecret {
		t.Fatalf("authSecret() = %q, %v; want the dev secret", secret, dev)
	}
	tok, err := mintToken(secret, devOrgID, "me", "identity", splitList(" identity:read, identity:edit-auth ,"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := keyring.New(context.Background(), keyring.Static([]byte(devSecret)), keyring.Secret)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := caller.Parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	actor, err := caller.NewPlatform(ring).Verify(context.Background(), parsed)
	if err != nil {
		t.Fatal(err)
	}
	if actor.OrgID != devOrgID || actor.ID != "me" || actor.Type != "identity" || !actor.Can(caller.IdentityEditAuth) || actor.Can(caller.IdentityRevokeAuth) {
		t.Fatalf("actor = %+v", actor)
	}

	t.Setenv("AUTH_SECRET", "mine-0123456789abcdef0123456789abcdef")
	if secret, dev := authSecret(); secret != "mine-0123456789abcdef0123456789abcdef" || dev {
		t.Fatalf("AUTH_SECRET ignored: %q %v", secret, dev)
	}
}
