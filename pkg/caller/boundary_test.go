package caller

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

func TestMissing(t *testing.T) {
	for _, tc := range []struct {
		actor, target, want []string
	}{
		{nil, nil, nil},
		{[]string{"a"}, nil, nil},
		{[]string{"a", "b"}, []string{"b", "a"}, nil},
		{[]string{"a"}, []string{"a", "b", "c", "b"}, []string{"b", "c"}},
		{nil, []string{"a"}, []string{"a"}},
		{[]string{"org:admin"}, []string{"org:admin", "anything"}, nil},
		{[]string{"identity:edit-auth"}, []string{"org:admin"}, []string{"org:admin"}},
		{[]string{"ORG:ADMIN"}, []string{"a"}, []string{"a"}}, // names are exact
	} {
		if got := Missing(tc.actor, tc.target); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Missing(%v, %v) = %v, want %v", tc.actor, tc.target, got, tc.want)
		}
	}
}

func TestGuard(t *testing.T) {
	if g := (Actor{Permissions: []string{"org:admin"}}).Guard("x"); g != nil {
		t.Fatal("an org:admin actor needs no guard, so that stores skip the read")
	}
	g := Actor{Permissions: []string{"identity:edit-auth", "a"}}.Guard("create client secret")
	if err := g([]string{"a", "identity:edit-auth"}); err != nil {
		t.Fatalf("same permissions: %v", err)
	}
	var be *BoundaryError
	if err := g([]string{"a", "org:admin"}); !errors.As(err, &be) || be.Action != "create client secret" ||
		!reflect.DeepEqual(be.Missing, []string{"org:admin"}) ||
		be.Error() != "Failed to create client secret for identity with more privileged permissions" {
		t.Fatalf("more privileged target: %v", err)
	}
	// A partial actor is refused until its permissions are read, even if
	// the one it proved is org:admin.
	partial := Actor{Permissions: []string{"org:admin"}, Partial: true}.Guard("x")
	if partial == nil || partial(nil) == nil {
		t.Fatal("a partial actor's guard must refuse")
	}
}

type permsReader struct {
	perms []string
	err   error
	reads int
}

func (p *permsReader) Use(context.Context, *Token, Origin, Permission) (Actor, error) {
	return Actor{}, errors.New("unused")
}

func (p *permsReader) Permissions(context.Context, Actor) ([]string, error) {
	p.reads++
	return p.perms, p.err
}

// TestAuthenticatorGuardReadsAPartialActorLazily: the whole permission set
// is read when the guard is applied, never before.
func TestAuthenticatorGuardReadsAPartialActorLazily(t *testing.T) {
	r := &permsReader{perms: []string{"identity:edit-auth", "a"}}
	auth := &Authenticator{Identity: r}
	ctx := context.Background()
	actor := Actor{ID: "i", Permissions: []string{"identity:edit-auth"}, Partial: true}
	g := auth.Guard(ctx, actor, "x")
	if r.reads != 0 {
		t.Fatal("the permissions were read before the guard was applied")
	}
	if err := g([]string{"a"}); err != nil || r.reads != 1 {
		t.Fatalf("err %v, reads %d", err, r.reads)
	}
	if err := g([]string{"b"}); err == nil {
		t.Fatal("a target beyond the read permissions was allowed")
	}
	r.perms = []string{"org:admin"}
	if err := auth.Guard(ctx, actor, "x")([]string{"anything"}); err != nil {
		t.Fatalf("org:admin read: %v", err)
	}
	r.err = errors.New("db down")
	if err := auth.Guard(ctx, actor, "x")(nil); !errors.Is(err, r.err) {
		t.Fatalf("read error: %v", err)
	}
	if g := auth.Guard(ctx, Actor{Permissions: []string{"org:admin"}}, "x"); g != nil {
		t.Fatal("a complete org:admin actor needs no guard")
	}
}
