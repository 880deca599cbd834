package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/keyring"
)

func TestDevTokensVerify(t *testing.T) {
	t.Setenv("AUTH_SECRET", "")
	secret, dev, err := authSecret()
	if err != nil || !dev || secret != devSecret {
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
	if secret, dev, err := authSecret(); err != nil || secret != "mine-0123456789abcdef0123456789abcdef" || dev {
		t.Fatalf("AUTH_SECRET ignored: %q %v %v", secret, dev, err)
	}
}

// TestAShortAuthSecretIsNamed: the message names the variable the user set.
func TestAShortAuthSecretIsNamed(t *testing.T) {
	t.Setenv("AUTH_SECRET", "short")
	if _, _, err := authSecret(); err == nil || !strings.Contains(err.Error(), "AUTH_SECRET is 5 bytes") {
		t.Fatalf("err = %v", err)
	}
}

// TestASecondRunOnTheSameDataIsRefusedAtOnce: the data directory is
// locked while a stack runs on it; another directory is free.
func TestASecondRunOnTheSameDataIsRefusedAtOnce(t *testing.T) {
	dir := t.TempDir()
	release, err := lockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lockDataDir(dir); err == nil || !strings.Contains(err.Error(), "in use by another make run") {
		t.Fatalf("second lock: %v", err)
	}
	other, err := lockDataDir(t.TempDir())
	if err != nil {
		t.Fatalf("another directory: %v", err)
	}
	other()
	release()
	again, err := lockDataDir(dir)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	again()
}
