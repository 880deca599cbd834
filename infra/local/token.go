package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/keyring"
)

// Dev defaults. The secret is public by design: it exists so that a fresh
// checkout works without setup, and real deployments read theirs from
// Secrets Manager.
const (
	devSecret          = "uauth-local-dev-secret-do-not-use-in-production"
	devClientSecretKey = "uauth-local-client-secret-key-do-not-use-in-production"
	devOrgID           = "11111111-1111-4111-8111-111111111111"
	devActor           = "dev-user"
)

// authSecret is AUTH_SECRET, or the dev secret when it is unset. One too
// short to be an HS256 key is refused with a message naming the variable.
func authSecret() (string, bool, error) {
	s := os.Getenv("AUTH_SECRET")
	if s == "" {
		return devSecret, true, nil
	}
	if _, err := keyring.Secret([]byte(s)); err != nil {
		return "", false, fmt.Errorf("AUTH_SECRET is %d bytes: the platform tokens' HS256 key must be at least %d (unset it to use the dev secret)", len(s), keyring.MinSecretBytes)
	}
	return s, false, nil
}

func token(args []string) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	org := fs.String("org", devOrgID, "organization id (orgId claim)")
	perms := fs.String("permissions", string(caller.OrgAdmin), "comma-separated permissions: identity:read, identity:edit-auth, identity:revoke-auth, org:admin")
	sub := fs.String("sub", devActor, "actor id (sub claim)")
	actorType := fs.String("actor-type", "user", "actor type: user or identity")
	ttl := fs.Duration("ttl", 12*time.Hour, "token lifetime")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if _, ok := identity.CanonicalID(*org); !ok {
		return fmt.Errorf("--org %q: want a UUID", *org)
	}
	if *actorType != caller.ActorUser && *actorType != caller.ActorIdentity {
		return fmt.Errorf("--actor-type %q: want %s or %s", *actorType, caller.ActorUser, caller.ActorIdentity)
	}
	secret, _, err := authSecret()
	if err != nil {
		return err
	}
	t, err := mintToken(secret, *org, *sub, *actorType, splitList(*perms), *ttl)
	if err != nil {
		return err
	}
	fmt.Println(t)
	return nil
}

func mintToken(secret, org, sub, actorType string, perms []caller.Permission, ttl time.Duration) (string, error) {
	now := time.Now()
	return caller.SignPlatform([]byte(secret), caller.PlatformClaims{
		Subject: sub, OrgID: org, ActorType: actorType, Permissions: perms, IssuedAt: now, ExpiresAt: now.Add(ttl),
	})
}

func splitList(s string) []caller.Permission {
	var out []caller.Permission
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, caller.Permission(p))
		}
	}
	return out
}
