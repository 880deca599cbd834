// Package logintest holds an in-memory login.Store, for login's own fast
// tests, and the contract every login.Store must keep (Contract), which
// runs against both the fake and dynamostore on DynamoDB Local, so that the
// fake cannot drift from the real store.
package logintest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/uauth/uauth/pkg/clientsecret"
	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/login"
	"github.com/uauth/uauth/pkg/uaconfig"
)

// Fixture is a login.Store with the writes of the other parts of uauth
// that login reads: attaching and revoking a configuration, and creating
// and revoking client secrets.
type Fixture interface {
	login.Store
	// Configure records identity c.IdentityID in org with configuration c,
	// as the provisioner does with a configuration to attach.
	Configure(ctx context.Context, org string, c uaconfig.Config) error
	// AddSecret creates a secret under the identity's configuration.
	AddSecret(ctx context.Context, org, identityID string, s clientsecret.Secret) error
	// RevokeSecret revokes one.
	RevokeSecret(ctx context.Context, org, identityID, secretID string) error
	// Unconfigure revokes the identity's configuration.
	Unconfigure(ctx context.Context, org, identityID string) error
}

// Fake is an in-memory Fixture. It keeps the rules of dynamostore's
// conditions, and nothing of its layout.
type Fake struct {
	mu        sync.Mutex
	clients   map[string]*login.Client // by client id: login's view
	live      map[string]string        // identity id -> its configuration's client id
	orgs      map[string]string        // identity id -> org
	secrets   map[string]*clientsecret.Secret
	lockouts  map[string]login.Lockout
	tokens    map[string]login.TokenRecord
	permsOfID map[string][]string
	// Calls counts the calls of each method, for tests of how often login
	// goes to its store.
	Calls map[string]int
}

var _ Fixture = (*Fake)(nil)

// NewFake returns an empty Fake.
func NewFake() *Fake {
	return &Fake{clients: map[string]*login.Client{}, live: map[string]string{}, orgs: map[string]string{},
		secrets: map[string]*clientsecret.Secret{}, lockouts: map[string]login.Lockout{},
		tokens: map[string]login.TokenRecord{}, permsOfID: map[string][]string{}, Calls: map[string]int{}}
}

func key(a, b string) string { return a + "/" + b }

// Configure implements Fixture.
func (f *Fake) Configure(_ context.Context, org string, c uaconfig.Config) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clients[c.ClientID] = &login.Client{IdentityID: c.IdentityID, OrgID: org, Config: c}
	f.live[c.IdentityID], f.orgs[c.IdentityID] = c.ClientID, org
	return nil
}

// AddSecret implements Fixture.
func (f *Fake) AddSecret(_ context.Context, org, identityID string, s clientsecret.Secret) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	cid, ok := f.live[identityID]
	if !ok || f.orgs[identityID] != org {
		return uaconfig.ErrNotConfigured
	}
	s.ClientID = cid
	f.secrets[key(cid, s.ID)] = &s
	return nil
}

// RevokeSecret implements Fixture.
func (f *Fake) RevokeSecret(_ context.Context, org, identityID, secretID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.secrets[key(f.live[identityID], secretID)]
	if s == nil {
		return &clientsecret.NotFoundError{ID: secretID}
	}
	s.Revoked = true
	return nil
}

// Unconfigure implements Fixture: login's view goes with the
// configuration; its secrets and lockouts stay behind, dead.
func (f *Fake) Unconfigure(_ context.Context, org, identityID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	cid, ok := f.live[identityID]
	if !ok {
		return uaconfig.ErrNotConfigured
	}
	delete(f.clients, cid)
	delete(f.live, identityID)
	return nil
}

// ReadAttempt implements login.Store.
func (f *Fake) ReadAttempt(_ context.Context, clientID, secretID, bucket string) (login.Attempt, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Calls["ReadAttempt"]++
	var att login.Attempt
	if c := f.clients[clientID]; c != nil {
		cc := *c
		att.Client = &cc
	}
	if s := f.secrets[key(clientID, secretID)]; s != nil {
		sc := *s
		att.Secret = &sc
	}
	att.Lockout = f.lockouts[key(clientID, bucket)]
	return att, nil
}

// RecordFailure implements login.Store, with dynamostore's conditions: a
// new count starts over no record, an expired count or an expired lock;
// a failure adds to a count below the threshold within the reset window.
func (f *Fake) RecordFailure(_ context.Context, clientID, bucket string, fl login.Failure) (*login.Lockout, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Calls["RecordFailure"]++
	k := key(clientID, bucket)
	l, exists := f.lockouts[k]
	resetStart, lockStart := fl.At.Add(-fl.ResetAfter), fl.At.Add(-fl.LockedFor)
	var ok bool
	if fl.Add {
		ok = exists && l.Fails < fl.Threshold && l.LastFailAt.After(resetStart)
	} else {
		ok = !exists || (l.Fails < fl.Threshold && !l.LastFailAt.After(resetStart)) || (l.Fails >= fl.Threshold && !l.LastFailAt.After(lockStart))
	}
	if !ok {
		return &l, nil
	}
	if fl.Add {
		l.Fails++
	} else {
		l.Fails = 1
	}
	l.Exists, l.LastFailAt = true, fl.At.Truncate(time.Millisecond)
	f.lockouts[k] = l
	return nil, nil
}

// Succeed implements login.Store: all or nothing.
func (f *Fake) Succeed(_ context.Context, s login.Success) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Calls["Succeed"]++
	writes := s.CountUse || s.AddUses > 0 || s.Token != nil || s.ClearLockout != ""
	if !writes {
		return nil
	}
	if f.live[s.IdentityID] != s.ClientID {
		return login.ErrGone
	}
	sec := f.secrets[key(s.ClientID, s.SecretID)]
	if s.CountUse || s.AddUses > 0 {
		switch {
		case sec == nil || sec.Revoked:
			return login.ErrSecretRevoked
		case s.CountUse && sec.NumUses >= s.NumUsesLimit:
			return login.ErrNoUsesLeft
		}
	}
	if s.Token != nil {
		if _, taken := f.tokens[s.Token.JTI]; taken {
			return errors.New("logintest: token record exists")
		}
		f.tokens[s.Token.JTI] = *s.Token
	}
	switch {
	case s.CountUse:
		sec.NumUses++
	case s.AddUses > 0:
		sec.NumUses += s.AddUses
	}
	if s.ClearLockout != "" {
		delete(f.lockouts, key(s.ClientID, s.ClearLockout))
	}
	return nil
}

// ClearLockouts implements login.Store.
func (f *Fake) ClearLockouts(_ context.Context, org, identityID string, guard identity.Guard) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Calls["ClearLockouts"]++
	if f.orgs[identityID] != org {
		return 0, identity.ErrNotFound
	}
	if guard != nil {
		if err := guard(f.permsOfID[identityID]); err != nil {
			return 0, err
		}
	}
	cid, ok := f.live[identityID]
	if !ok {
		return 0, uaconfig.ErrNotConfigured
	}
	n := 0
	for k := range f.lockouts {
		if len(k) > len(cid) && k[:len(cid)+1] == cid+"/" {
			delete(f.lockouts, k)
			n++
		}
	}
	return n, nil
}

// Token returns the record of a limited token, if one was created.
func (f *Fake) Token(jti string) (login.TokenRecord, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tokens[jti]
	return t, ok
}

// Lockouts returns the lockout records' keys, sorted.
func (f *Fake) Lockouts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for k := range f.lockouts {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
