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

// authSecret is AUTH_SECRET, or the dev secret when it is unset.
func authSecret() (string, bool) {
	if s := os.Getenv("AUTH_SECRET"); s != "" {
		return s, false
	}
	return devSecret, true
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
	secret, _ := authSecret()
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
