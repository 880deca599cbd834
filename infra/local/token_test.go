package main

import (
	"context"
	"testing"
	"time"

	"github.com/uauth/uauth/pkg/auth"
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
	v, _ := auth.NewVerifier(context.Background(), auth.StaticKeys([]byte(devSecret)))
	actor, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if actor.OrgID != devOrgID || actor.ID != "me" || actor.Type != "identity" || !actor.Can(auth.IdentityEditAuth) || actor.Can(auth.IdentityRevokeAuth) {
		t.Fatalf("actor = %+v", actor)
	}

	t.Setenv("AUTH_SECRET", "mine")
	if secret, dev := authSecret(); secret != "mine" || dev {
		t.Fatalf("AUTH_SECRET ignored: %q %v", secret, dev)
	}
}
