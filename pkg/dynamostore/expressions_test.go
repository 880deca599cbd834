package dynamostore_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	"github.com/uauth/uauth/pkg/accesstoken"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/clientsecret"
	"github.com/uauth/uauth/pkg/dynamostore"
	"github.com/uauth/uauth/pkg/dynamotest"
	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/login"
	"github.com/uauth/uauth/pkg/uaconfig"
)

// The store writes with expression strings written once by hand, rather
// than with the SDK's expression builder on every call. This test holds
// each conditional write the store sends to what the builder produces for
// the same meaning, on DynamoDB Local: for each starting item of a matrix,
// the store's request runs on one copy of the item and the builder's on
// another, with the same values, and both must agree with each other and
// with the expected outcome, item for item.
//
// The store's requests are recorded as it sends them (writeRecorder), not
// read from its constants: an internal test could name the constants, but
// could not import dynamotest, which imports this package. Recording also
// tests the names and values each expression is sent with, and the
// expressions composed at run time (the caller's networks of a token use).
//
// Each term of each condition is pinned by some case (a condition with
// any one term made always true, or a disjunct always false, fails a
// case), except attribute_exists(#pk) where another term already needs an
// attribute of the item, such as liveIn's #org = :org: no starting item
// can tell the two apart.
//
// Not covered, being no update or condition: the Query key conditions and
// filter of ListSecrets and ClearLockouts, Live's projection, and the
// unconditional writes (the view put by UpdateConfig, the deletes of
// DeleteIdentity and Succeed, PutOrgDefaults, DeleteOrgDefaults).
func TestExpressionsMatchTheBuilder(t *testing.T) {
	db := dynamotest.Client(t)
	table := dynamotest.NewTable(t)

	// The identities the store reads before it writes.
	seed := dynamostore.New(db, table)
	bareID, configuredID := uuid.NewString(), uuid.NewString()
	cfg := newConfig(t, configuredID)
	clientID := cfg.ClientID
	attached := newConfig(t, bareID) // what the attach cases attach
	if err := seed.RecordIdentity(ctx, identity.Identity{ID: bareID, OrgID: org, CreatedAt: time.Now()}, nil, "seed"); err != nil {
		t.Fatal(err)
	}
	if err := seed.RecordIdentity(ctx, identity.Identity{ID: configuredID, OrgID: org, CreatedAt: time.Now()}, &cfg, "seed"); err != nil {
		t.Fatal(err)
	}

	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	ms := func(d time.Duration) types.AttributeValue { return avN(now.Add(d).UnixMilli()) }

	// Starting identity items. The key is the test's; the store's
	// requests name the identities seeded above.
	var (
		bare = item{"identityId": avS(bareID), "orgId": avS(org), "createdAt": avS("2026-01-02T03:04:05Z"),
			"permissions": avList(string(caller.IdentityRead))}
		configured      = with(bare, "ua", uaMap(clientID, 1, "0.0.0.0/0", "::/0"))
		stale           = with(bare, "ua", uaMap(clientID, 2, "0.0.0.0/0", "::/0"))
		otherClient     = with(bare, "ua", uaMap("another-client", 1, "0.0.0.0/0", "::/0"))
		otherOrgs       = with(bare, "orgId", avS(otherOrg))
		otherOrgsConfig = with(configured, "orgId", avS(otherOrg))
		tombstone       = item{"identityId": avS(bareID), "orgId": avS(org), "deleted": avBool(true),
			"deletedAt": avS("2026-02-03T04:05:06Z"), "expiresAt": avN(1900000000), "actor": avS("someone")}
		// Never written by the store (a tombstone keeps neither "ua" nor
		// the permissions), but it is what makes
		// attribute_not_exists(#deleted) able to fail on its own.
		deletedConfigured = with(configured, "deleted", avBool(true))
	)
	// Starting items of client secrets, token records, lockout records
	// and login views.
	var (
		secret        = item{"secretId": avS("s1"), "uses": avN(0), "usesLimit": avN(3), "updatedAt": avS("2026-01-02T03:04:05Z")}
		revokedSecret = with(secret, "revokedAt", avS("2026-02-03T04:05:06Z"))
		token         = item{"identityId": avS(configuredID), "uses": avN(0), "usesLimit": avN(2), "expiresAt": avN(1900000000)}
		revokedToken  = with(token, "revokedAt", avS("2026-02-03T04:05:06Z"))
		lockout       = func(fails int64, last time.Duration) item {
			return item{"fails": avN(fails), "lastFailAt": ms(last), "expiresAt": avN(1900000000)}
		}
		view = item{"identityId": avS(configuredID), "orgId": avS(org), "ua": uaMap(clientID, 1, "0.0.0.0/0")}
	)

	// The failed-login settings the lockout cases use: the count resets
	// after 15 minutes without a failure; 3 failures lock for 5 minutes.
	failure := login.Failure{At: now, Threshold: 3, ResetAfter: 15 * time.Minute, LockedFor: 5 * time.Minute}
	ref := accesstoken.Ref{IdentityID: configuredID, OrgID: org, ClientID: clientID, SecretID: "s1", JTI: "jti-1"}
	ipv4, ipv6 := netip.MustParseAddr("203.0.113.7"), netip.MustParseAddr("2001:db8:2::1")

	// The identity of a token's use, for the caller's networks of IPv4 and
	// of IPv6.
	useIdentityCases := func(callerNet, elsewhere string) []exprCase {
		return []exprCase{
			{"configured, every address trusted", configured, holds},
			{"the caller's network trusted", with(bare, "ua", uaMap(clientID, 1, callerNet)), holds},
			{"only another network trusted", with(bare, "ua", uaMap(clientID, 1, elsewhere)), fails},
			{"org admin", with(configured, "permissions", avList(string(caller.OrgAdmin))), holds},
			{"another permission only", with(configured, "permissions", avList(string(caller.IdentityEditAuth))), fails},
			{"no permissions", with(configured, "permissions", avList()), fails},
			{"reconfigured since", otherClient, fails},
			{"unconfigured since", bare, fails},
			{"tombstone", deletedConfigured, fails},
			{"other org's", otherOrgsConfig, fails},
			{"no identity", nil, fails},
		}
	}

	specs := []exprSpec{
		{
			name: "attach",
			send: func(s *dynamostore.Store) error { return s.CreateConfig(ctx, org, attached, "test", nil) },
			builder: func(v sent) expression.Builder {
				return expression.NewBuilder().
					WithCondition(expression.And(liveIn(v), expression.Name("ua").AttributeNotExists())).
					WithUpdate(expression.Set(expression.Name("ua"), v.of(":ua")).Set(expression.Name("actor"), v.of(":actor")))
			},
			cases: []exprCase{
				{"identity without configuration", bare, holds},
				{"configured already", configured, fails},
				{"tombstone", tombstone, fails},
				{"other org's", otherOrgs, fails},
				{"no identity", nil, fails},
			},
		},
		{
			name: "attach: login's view",
			send: func(s *dynamostore.Store) error { return s.CreateConfig(ctx, org, attached, "test", nil) },
			part: 1, builder: notExists,
			cases: []exprCase{{"new client id", nil, holds}, {"client id taken", view, fails}},
		},
		{
			name: "update",
			send: func(s *dynamostore.Store) error {
				_, err := s.UpdateConfig(ctx, org, configuredID, func(c uaconfig.Config) (uaconfig.Config, error) { return c, nil }, "test", nil)
				return err
			},
			builder: func(v sent) expression.Builder {
				return expression.NewBuilder().
					WithCondition(expression.And(liveIn(v), expression.Name("ua.rev").Equal(v.of(":rev")))).
					WithUpdate(expression.Set(expression.Name("ua"), v.of(":ua")).Set(expression.Name("actor"), v.of(":actor")))
			},
			cases: []exprCase{
				{"revision read", configured, holds},
				{"written since", stale, fails},
				{"unconfigured since", bare, fails},
				{"tombstone", deletedConfigured, fails},
				{"other org's", otherOrgsConfig, fails},
				{"no identity", nil, fails},
			},
		},
		{
			name: "revoke",
			send: func(s *dynamostore.Store) error {
				_, err := s.DeleteConfig(ctx, org, configuredID, time.Now(), "test", nil)
				return err
			},
			builder: func(v sent) expression.Builder {
				return expression.NewBuilder().
					WithCondition(expression.And(liveIn(v), expression.Name("ua.rev").Equal(v.of(":rev")))).
					WithUpdate(expression.Remove(expression.Name("ua")).Set(expression.Name("actor"), v.of(":actor")).
						Set(expression.Name("removedAt"), v.of(":now")))
			},
			cases: []exprCase{
				{"configured", configured, holds},
				{"written since", stale, fails},
				{"not configured", bare, fails},
				{"tombstone", deletedConfigured, fails},
				{"other org's", otherOrgsConfig, fails},
				{"no identity", nil, fails},
			},
		},
		{
			name: "record identity",
			send: func(s *dynamostore.Store) error {
				return s.RecordIdentity(ctx, identity.Identity{ID: bareID, OrgID: org, Name: "ci", CreatedAt: now}, nil, "test")
			},
			builder: notExists,
			cases:   []exprCase{{"new", nil, holds}, {"known", bare, fails}, {"tombstone", tombstone, fails}},
		},
		{
			name: "delete identity never seen",
			send: func(s *dynamostore.Store) error {
				return s.DeleteIdentity(ctx, uuid.NewString(), org, now, now.Add(time.Hour), "test")
			},
			builder: notExists,
			cases:   []exprCase{{"still unseen", nil, holds}, {"created since", bare, fails}},
		},
		{
			name: "delete identity without configuration",
			send: func(s *dynamostore.Store) error {
				return s.DeleteIdentity(ctx, bareID, org, now, now.Add(time.Hour), "test")
			},
			builder: func(v sent) expression.Builder {
				return expression.NewBuilder().WithCondition(
					expression.Name("orgId").Equal(v.of(":org")).And(expression.Name("ua").AttributeNotExists()))
			},
			cases: []exprCase{
				{"as read", bare, holds},
				{"configured since", configured, fails},
				{"other org's", otherOrgs, fails},
				{"gone", nil, fails},
			},
		},
		{
			name: "delete configured identity",
			send: func(s *dynamostore.Store) error {
				return s.DeleteIdentity(ctx, configuredID, org, now, now.Add(time.Hour), "test")
			},
			builder: func(v sent) expression.Builder {
				return expression.NewBuilder().WithCondition(
					expression.Name("orgId").Equal(v.of(":org")).And(expression.Name("ua.clientId").Equal(v.of(":cid"))))
			},
			cases: []exprCase{
				{"as read", configured, holds},
				{"reconfigured since", otherClient, fails},
				{"unconfigured since", bare, fails},
				{"other org's", otherOrgsConfig, fails},
				{"gone", nil, fails},
			},
		},
		{
			name: "set permissions",
			send: func(s *dynamostore.Store) error {
				return s.SetPermissions(ctx, identity.Identity{ID: bareID, OrgID: org,
					Permissions: []string{string(caller.OrgAdmin)}, PermissionsVersion: "0002"})
			},
			builder: func(v sent) expression.Builder {
				pv := expression.Name("permissionsVersion")
				return expression.NewBuilder().
					WithCondition(expression.And(
						expression.Name("pk").AttributeExists(),
						expression.Name("deleted").AttributeNotExists(),
						expression.Name("orgId").Equal(v.of(":org")),
						expression.Or(pv.AttributeNotExists(), pv.LessThan(v.of(":pv"))))).
					WithUpdate(expression.Set(expression.Name("permissions"), v.of(":perms")).Set(pv, v.of(":pv")))
			},
			cases: []exprCase{
				{"no version yet", bare, holds},
				{"older version", with(bare, "permissionsVersion", avS("0001")), holds},
				{"same version", with(bare, "permissionsVersion", avS("0002")), fails},
				{"newer version", with(bare, "permissionsVersion", avS("0003")), fails},
				{"tombstone", tombstone, fails},
				{"other org's", otherOrgs, fails},
				{"not recorded", nil, fails},
			},
		},
		{
			name: "new secret: still configured",
			send: func(s *dynamostore.Store) error {
				_, err := s.CreateSecret(ctx, org, configuredID, newSecret(now), "test", nil)
				return err
			},
			builder: func(v sent) expression.Builder {
				return expression.NewBuilder().WithCondition(
					expression.And(liveIn(v), expression.Name("ua.clientId").Equal(v.of(":cid"))))
			},
			cases: []exprCase{
				{"as read", configured, holds},
				{"written since, same client", stale, holds},
				{"reconfigured since", otherClient, fails},
				{"unconfigured since", bare, fails},
				{"tombstone", deletedConfigured, fails},
				{"other org's", otherOrgsConfig, fails},
				{"no identity", nil, fails},
			},
		},
		{
			name: "new secret",
			send: func(s *dynamostore.Store) error {
				_, err := s.CreateSecret(ctx, org, configuredID, newSecret(now), "test", nil)
				return err
			},
			part: 1, builder: notExists,
			cases: []exprCase{{"new id", nil, holds}, {"id taken", secret, fails}},
		},
		{
			name: "revoke secret",
			send: func(s *dynamostore.Store) error {
				_, err := s.RevokeSecret(ctx, org, configuredID, "s1", now, "test", nil)
				return err
			},
			builder: func(v sent) expression.Builder {
				return expression.NewBuilder().
					WithCondition(expression.Name("pk").AttributeExists().And(expression.Name("revokedAt").AttributeNotExists())).
					WithUpdate(expression.Set(expression.Name("revokedAt"), v.of(":now")).
						Set(expression.Name("updatedAt"), v.of(":now")).
						Set(expression.Name("actor"), v.of(":actor")))
			},
			cases: []exprCase{
				{"active", secret, holds},
				{"revoked already", revokedSecret, fails},
				{"no secret", nil, fails},
			},
		},
		{
			name: "token use: count it",
			send: func(s *dynamostore.Store) error {
				_, err := s.UseLimited(ctx, ref, uaconfig.CallerNets(ipv4), caller.IdentityRead)
				return err
			},
			builder: func(v sent) expression.Builder {
				uses := expression.Name("uses")
				return expression.NewBuilder().
					WithCondition(expression.And(
						expression.Name("pk").AttributeExists(),
						uses.LessThan(expression.Name("usesLimit")),
						expression.Name("revokedAt").AttributeNotExists())).
					WithUpdate(expression.Set(uses, uses.Plus(v.of(":one"))))
			},
			cases: []exprCase{
				{"unused", token, holds},
				{"last use left", with(token, "uses", avN(1)), holds},
				{"used up", with(token, "uses", avN(2)), fails},
				{"revoked", revokedToken, fails},
				{"no record", nil, fails},
			},
		},
		{
			name: "token use: identity, IPv4 caller",
			send: func(s *dynamostore.Store) error {
				_, err := s.UseLimited(ctx, ref, uaconfig.CallerNets(ipv4), caller.IdentityRead)
				return err
			},
			part: 1, builder: useIdentity,
			cases: useIdentityCases("203.0.113.0/24", "198.51.100.0/24"),
		},
		{
			name: "token use: identity, IPv6 caller",
			send: func(s *dynamostore.Store) error {
				_, err := s.UseLimited(ctx, ref, uaconfig.CallerNets(ipv6), caller.IdentityRead)
				return err
			},
			part: 1, builder: useIdentity,
			cases: useIdentityCases("2001:db8:2::/48", "2001:db8:1::/48"),
		},
		{
			// A route that needs only a valid token (package authorizer).
			name: "token use: identity, no permission needed",
			send: func(s *dynamostore.Store) error {
				_, err := s.UseLimited(ctx, ref, uaconfig.CallerNets(ipv4), "")
				return err
			},
			part: 1, builder: useIdentity,
			cases: []exprCase{
				{"configured, every address trusted", configured, holds},
				{"no permissions", with(configured, "permissions", avList()), holds},
				{"only another network trusted", with(bare, "ua", uaMap(clientID, 1, "198.51.100.0/24")), fails},
				{"reconfigured since", otherClient, fails},
				{"other org's", otherOrgsConfig, fails},
				{"no identity", nil, fails},
			},
		},
		{
			name: "token use: secret",
			send: func(s *dynamostore.Store) error {
				_, err := s.UseLimited(ctx, ref, uaconfig.CallerNets(ipv4), caller.IdentityRead)
				return err
			},
			part: 2,
			builder: func(sent) expression.Builder {
				return expression.NewBuilder().WithCondition(
					expression.Name("pk").AttributeExists().And(expression.Name("revokedAt").AttributeNotExists()))
			},
			cases: []exprCase{{"active", secret, holds}, {"revoked", revokedSecret, fails}, {"no secret", nil, fails}},
		},
		{
			name: "token renewal",
			send: func(s *dynamostore.Store) error { return s.ExtendRecord(ctx, "jti-1", now.Add(time.Hour)) },
			builder: func(v sent) expression.Builder {
				return expression.NewBuilder().
					WithCondition(expression.Name("pk").AttributeExists().And(expression.Name("revokedAt").AttributeNotExists())).
					WithUpdate(expression.Set(expression.Name("expiresAt"), v.of(":keep")))
			},
			cases: []exprCase{{"live", token, holds}, {"revoked", revokedToken, fails}, {"no record", nil, fails}},
		},
		{
			// Unconditional: nothing can refuse it.
			name: "token revocation",
			send: func(s *dynamostore.Store) error { return s.RevokeToken(ctx, "jti-1", now, now.Add(time.Hour)) },
			builder: func(v sent) expression.Builder {
				revoked := expression.Name("revokedAt")
				return expression.NewBuilder().WithUpdate(
					expression.Set(revoked, revoked.IfNotExists(v.of(":now"))).Set(expression.Name("expiresAt"), v.of(":keep")))
			},
			cases: []exprCase{
				{"no record yet", nil, holds},
				{"live", token, holds},
				{"revoked already: the first time stays", revokedToken, holds},
			},
		},
		{
			name: "login failure: add to the count",
			send: func(s *dynamostore.Store) error {
				f := failure
				f.Add = true
				_, err := s.RecordFailure(ctx, clientID, "203.0.113.7", f)
				return err
			},
			builder: func(v sent) expression.Builder {
				return expression.NewBuilder().
					WithCondition(expression.Name("fails").LessThan(v.of(":threshold")).
						And(expression.Name("lastFailAt").GreaterThan(v.of(":resetStart")))).
					WithUpdate(expression.Add(expression.Name("fails"), v.of(":one")).
						Set(expression.Name("lastFailAt"), v.of(":now")).
						Set(expression.Name("expiresAt"), v.of(":exp")))
			},
			cases: []exprCase{
				{"counting", lockout(1, -time.Minute), holds},
				{"one below the threshold", lockout(2, -time.Minute), holds},
				{"count reset just now", lockout(1, -15*time.Minute), fails},
				{"count reset", lockout(1, -20*time.Minute), fails},
				{"locked", lockout(3, -time.Minute), fails},
				{"no record", nil, fails},
			},
		},
		{
			name: "login failure: start a count",
			send: func(s *dynamostore.Store) error {
				_, err := s.RecordFailure(ctx, clientID, "203.0.113.7", failure)
				return err
			},
			builder: func(v sent) expression.Builder {
				fails, last := expression.Name("fails"), expression.Name("lastFailAt")
				return expression.NewBuilder().
					WithCondition(expression.Or(
						fails.AttributeNotExists(),
						fails.LessThan(v.of(":threshold")).And(last.LessThanEqual(v.of(":resetStart"))),
						fails.GreaterThanEqual(v.of(":threshold")).And(last.LessThanEqual(v.of(":lockStart"))))).
					WithUpdate(expression.Set(fails, v.of(":one")).Set(last, v.of(":now")).Set(expression.Name("expiresAt"), v.of(":exp")))
			},
			cases: []exprCase{
				{"no record", nil, holds},
				{"count reset just now", lockout(2, -15*time.Minute), holds},
				{"count reset", lockout(2, -20*time.Minute), holds},
				{"counting", lockout(2, -time.Minute), fails},
				{"locked", lockout(3, -time.Minute), fails},
				{"lockout over just now", lockout(3, -5*time.Minute), holds},
				{"lockout over", lockout(3, -6*time.Minute), holds},
			},
		},
		{
			name: "login: identity still has the client",
			send: func(s *dynamostore.Store) error { return s.Succeed(ctx, countedLogin(configuredID, clientID, now)) },
			builder: func(v sent) expression.Builder {
				return expression.NewBuilder().WithCondition(
					expression.Name("deleted").AttributeNotExists().And(expression.Name("ua.clientId").Equal(v.of(":cid"))))
			},
			cases: []exprCase{
				{"configured", configured, holds},
				{"configured, other org's (login knows no org)", otherOrgsConfig, holds},
				{"reconfigured since", otherClient, fails},
				{"unconfigured since", bare, fails},
				{"tombstone", deletedConfigured, fails},
				{"no identity", nil, fails},
			},
		},
		{
			name: "login: count a limited secret's use",
			send: func(s *dynamostore.Store) error { return s.Succeed(ctx, countedLogin(configuredID, clientID, now)) },
			part: 1,
			builder: func(v sent) expression.Builder {
				uses := expression.Name("uses")
				return expression.NewBuilder().
					WithCondition(uses.LessThan(v.of(":limit")).And(expression.Name("revokedAt").AttributeNotExists())).
					WithUpdate(expression.Set(uses, uses.Plus(v.of(":one"))).Set(expression.Name("lastUsedAt"), v.of(":now")))
			},
			cases: []exprCase{
				{"unused", secret, holds},
				{"last use left", with(secret, "uses", avN(2)), holds},
				{"used up", with(secret, "uses", avN(3)), fails},
				{"revoked", revokedSecret, fails},
				{"no secret", nil, fails},
			},
		},
		{
			name: "login: a limited token's record",
			send: func(s *dynamostore.Store) error { return s.Succeed(ctx, countedLogin(configuredID, clientID, now)) },
			part: 2, builder: notExists,
			cases: []exprCase{{"new", nil, holds}, {"jti taken", token, fails}},
		},
		{
			name: "login: flush an unlimited secret's uses",
			send: func(s *dynamostore.Store) error {
				return s.Succeed(ctx, login.Success{IdentityID: configuredID, ClientID: clientID, SecretID: "s1", At: now, AddUses: 4})
			},
			part: 1,
			builder: func(v sent) expression.Builder {
				return expression.NewBuilder().
					WithCondition(expression.Name("pk").AttributeExists().And(expression.Name("revokedAt").AttributeNotExists())).
					WithUpdate(expression.Add(expression.Name("uses"), v.of(":n")).Set(expression.Name("lastUsedAt"), v.of(":now")))
			},
			cases: []exprCase{
				{"active", with(secret, "usesLimit", avN(0)), holds},
				{"revoked", with(revokedSecret, "usesLimit", avN(0)), fails},
				{"no secret", nil, fails},
			},
		},
	}

	for _, sp := range specs {
		t.Run(sp.name, func(t *testing.T) {
			t.Parallel()
			sp.check(t, db, table)
		})
	}
}

// Outcomes of a conditional write.
type outcome string

const (
	holds outcome = "written (condition holds)"
	fails outcome = "refused (condition fails)"
)

// exprSpec is one conditional write of the store and its builder
// counterpart.
type exprSpec struct {
	name string
	// send makes the store send the write; part picks it out of a
	// transaction.
	send func(*dynamostore.Store) error
	part int
	// builder builds the same write with the SDK's expression builder,
	// from the values the store sent.
	builder func(sent) expression.Builder
	cases   []exprCase
}

// exprCase is a starting item (nil: none) and what the write must do to it.
type exprCase struct {
	name  string
	start item
	want  outcome
}

// sent is the values a request was sent with, by placeholder.
type sent map[string]types.AttributeValue

// av is the value sent for placeholder.
func (v sent) av(placeholder string) types.AttributeValue {
	av, ok := v[placeholder]
	if !ok {
		panic("the store sent no value " + placeholder)
	}
	return av
}

// of is the builder's operand for the value sent for placeholder.
func (v sent) of(placeholder string) expression.ValueBuilder {
	return expression.Value(v.av(placeholder))
}

// liveIn: the identity exists, is not deleted and belongs to :org.
func liveIn(v sent) expression.ConditionBuilder {
	return expression.And(
		expression.Name("pk").AttributeExists(),
		expression.Name("orgId").Equal(v.of(":org")),
		expression.Name("deleted").AttributeNotExists())
}

// notExists: there is no item under the key.
func notExists(sent) expression.Builder {
	return expression.NewBuilder().WithCondition(expression.Name("pk").AttributeNotExists())
}

// useIdentity: the identity of a limited token's use still has the
// token's configuration, in the token's org, grants the permission, and
// trusts one of the caller's networks (:n0, :n1 ... as many as were sent).
func useIdentity(v sent) expression.Builder {
	perms, nets := expression.Name("permissions"), expression.Name("ua.atNets")
	var trusted []expression.ConditionBuilder
	for i := 0; ; i++ {
		n, ok := v[":n"+strconv.Itoa(i)]
		if !ok {
			break
		}
		trusted = append(trusted, expression.Contains(nets, n))
	}
	if len(trusted) < 2 {
		panic(fmt.Sprintf("the store sent %d caller networks", len(trusted)))
	}
	terms := []expression.ConditionBuilder{
		expression.Name("deleted").AttributeNotExists(),
		expression.Name("ua.clientId").Equal(v.of(":cid")),
		expression.Name("orgId").Equal(v.of(":org")),
	}
	if _, needsPerm := v[":perm"]; needsPerm {
		terms = append(terms, expression.Or(expression.Contains(perms, v.av(":perm")), expression.Contains(perms, v.av(":admin"))))
	}
	terms = append(terms, expression.Or(trusted[0], trusted[1], trusted[2:]...))
	return expression.NewBuilder().WithCondition(expression.And(expression.Name("pk").AttributeExists(), terms[0], terms[1:]...))
}

func newSecret(now time.Time) clientsecret.Secret {
	return clientsecret.Secret{ID: "s1", Description: "ci", Prefix: "abc", MAC: []byte{1, 2, 3},
		NumUsesLimit: 3, CreatedAt: now, UpdatedAt: now}
}

// countedLogin is a login with a limited secret that issues a limited
// token and clears a lockout: a check of the identity, then the secret's
// use, the token's record and the lockout's delete.
func countedLogin(identityID, clientID string, now time.Time) login.Success {
	return login.Success{IdentityID: identityID, ClientID: clientID, SecretID: "s1", At: now,
		CountUse: true, NumUsesLimit: 3, ClearLockout: "203.0.113.7",
		Token: &login.TokenRecord{JTI: "jti-1", IdentityID: identityID, Limit: 2, KeepUntil: now.Add(time.Hour)}}
}

func (sp *exprSpec) check(t *testing.T, db *dynamodb.Client, table string) {
	hand := recordWrite(t, db, table, sp.send, sp.part)
	e, err := sp.builder(sent(hand.values)).Build()
	if err != nil {
		t.Fatalf("builder: %v", err)
	}
	built := conditionalWrite{kind: hand.kind, update: e.Update(), cond: e.Condition(),
		names: e.Names(), values: e.Values(), item: hand.item}
	if (hand.update == nil) != (built.update == nil) || (hand.cond == nil) != (built.cond == nil) {
		t.Fatalf("the builder's request has update %q, condition %q; the store's %q, %q",
			aws.ToString(built.update), aws.ToString(built.cond), aws.ToString(hand.update), aws.ToString(hand.cond))
	}
	defer func() {
		if t.Failed() {
			t.Logf("store's:   %s %q if %q", hand.kind, aws.ToString(hand.update), aws.ToString(hand.cond))
			t.Logf("builder's: %s %q if %q", built.kind, aws.ToString(built.update), aws.ToString(built.cond))
		}
	}()

	seen := map[outcome]int{}
	for _, c := range sp.cases {
		seen[c.want]++
		handKey, builtKey := testKey("store"), testKey("builder")
		before := render(c.start)
		handGot := runOn(t, db, table, handKey, c.start, hand)
		builtGot := runOn(t, db, table, builtKey, c.start, built)
		handAfter, builtAfter := render(readItem(t, db, table, handKey)), render(readItem(t, db, table, builtKey))
		if handGot != c.want || builtGot != c.want {
			t.Errorf("%s: store's %s, builder's %s; want %s", c.name, handGot, builtGot, c.want)
		}
		if handAfter != builtAfter {
			t.Errorf("%s: after the store's write\n\t%s\nafter the builder's\n\t%s", c.name, handAfter, builtAfter)
		}
		switch {
		case handGot == fails && handAfter != before:
			t.Errorf("%s: refused, yet the item changed\n\tfrom %s\n\tto   %s", c.name, before, handAfter)
		case handGot == holds && hand.kind != "check" && handAfter == before:
			t.Errorf("%s: written, yet the item is as it was: a case that cannot tell the writes apart", c.name)
		}
	}
	// Every condition is seen both holding and failing; an unconditional
	// write only succeeding.
	if seen[holds] == 0 || (seen[fails] == 0) != (hand.cond == nil) {
		t.Errorf("cases: %d where the condition holds, %d where it fails", seen[holds], seen[fails])
	}
}

// conditionalWrite is one write: an update, a put or a condition check,
// with its expressions, names and values.
type conditionalWrite struct {
	kind         string // "update", "put" or "check"
	update, cond *string
	names        map[string]string
	values       map[string]types.AttributeValue
	item         item // a put's item; its key is replaced
}

// writeRecorder is the store's database for recording: it reads from the
// test database, and records writes instead of making them.
type writeRecorder struct {
	*dynamodb.Client
	writes []any
}

var errRecorded = errors.New("write recorded, not sent")

func (r *writeRecorder) record(in any) error {
	r.writes = append(r.writes, in)
	return errRecorded
}

func (r *writeRecorder) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, r.record(in)
}

func (r *writeRecorder) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return nil, r.record(in)
}

func (r *writeRecorder) DeleteItem(_ context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return nil, r.record(in)
}

func (r *writeRecorder) BatchWriteItem(_ context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	return nil, r.record(in)
}

func (r *writeRecorder) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return nil, r.record(in)
}

// recordWrite runs send on a store that records its write, and returns
// that write (part of it, for a transaction).
func recordWrite(t *testing.T, db *dynamodb.Client, table string, send func(*dynamostore.Store) error, part int) conditionalWrite {
	t.Helper()
	rec := &writeRecorder{Client: db}
	if err := send(dynamostore.New(rec, table)); !errors.Is(err, errRecorded) || len(rec.writes) != 1 {
		t.Fatalf("the store wrote %d times, then returned %v; want one recorded write", len(rec.writes), err)
	}
	var w conditionalWrite
	switch in := rec.writes[0].(type) {
	case *dynamodb.UpdateItemInput:
		w = conditionalWrite{kind: "update", update: in.UpdateExpression, cond: in.ConditionExpression,
			names: in.ExpressionAttributeNames, values: in.ExpressionAttributeValues}
	case *dynamodb.PutItemInput:
		w = conditionalWrite{kind: "put", cond: in.ConditionExpression, item: in.Item,
			names: in.ExpressionAttributeNames, values: in.ExpressionAttributeValues}
	case *dynamodb.TransactWriteItemsInput:
		if part >= len(in.TransactItems) {
			t.Fatalf("the transaction has %d parts, no part %d", len(in.TransactItems), part)
		}
		switch p := in.TransactItems[part]; {
		case p.Update != nil:
			w = conditionalWrite{kind: "update", update: p.Update.UpdateExpression, cond: p.Update.ConditionExpression,
				names: p.Update.ExpressionAttributeNames, values: p.Update.ExpressionAttributeValues}
		case p.Put != nil:
			w = conditionalWrite{kind: "put", cond: p.Put.ConditionExpression, item: p.Put.Item,
				names: p.Put.ExpressionAttributeNames, values: p.Put.ExpressionAttributeValues}
		case p.ConditionCheck != nil:
			w = conditionalWrite{kind: "check", cond: p.ConditionCheck.ConditionExpression,
				names: p.ConditionCheck.ExpressionAttributeNames, values: p.ConditionCheck.ExpressionAttributeValues}
		default:
			t.Fatalf("part %d of the transaction is a %+v, no conditional write", part, p)
		}
	default:
		t.Fatalf("recorded a %T", in)
	}
	if part > 0 {
		if _, ok := rec.writes[0].(*dynamodb.TransactWriteItemsInput); !ok {
			t.Fatalf("part %d of a %T", part, rec.writes[0])
		}
	}
	return w
}

// runOn puts start (if any) under key, then runs w on it: an update or a
// put as UpdateItem or PutItem, a condition check as a transaction of one.
func runOn(t *testing.T, db *dynamodb.Client, table string, key, start item, w conditionalWrite) outcome {
	t.Helper()
	if start != nil {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: merged(start, key)}); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	switch w.kind {
	case "update":
		_, err = db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &table, Key: key,
			UpdateExpression: w.update, ConditionExpression: w.cond,
			ExpressionAttributeNames: w.names, ExpressionAttributeValues: w.values})
	case "put":
		_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: merged(w.item, key),
			ConditionExpression: w.cond, ExpressionAttributeNames: w.names, ExpressionAttributeValues: w.values})
	case "check":
		_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{ConditionCheck: &types.ConditionCheck{TableName: &table, Key: key, ConditionExpression: w.cond,
				ExpressionAttributeNames: w.names, ExpressionAttributeValues: w.values}},
		}})
	}
	var ccf *types.ConditionalCheckFailedException
	var tce *types.TransactionCanceledException
	switch {
	case err == nil:
		return holds
	case errors.As(err, &ccf):
		return fails
	case errors.As(err, &tce) && len(tce.CancellationReasons) == 1 &&
		aws.ToString(tce.CancellationReasons[0].Code) == "ConditionalCheckFailed":
		return fails
	}
	t.Fatalf("%s %q if %q: %v", w.kind, aws.ToString(w.update), aws.ToString(w.cond), err)
	return ""
}

func readItem(t *testing.T, db *dynamodb.Client, table string, key item) item {
	t.Helper()
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

type item = map[string]types.AttributeValue

// testKey is a fresh key; the conditions never look at its value.
func testKey(side string) item {
	return item{dynamostore.AttrPK: avS("EXPRESSION#" + uuid.NewString()), dynamostore.AttrSK: avS(side)}
}

func merged(it, key item) item {
	m := maps.Clone(it)
	maps.Copy(m, key)
	return m
}

// with returns a copy of it with the attribute name set to v.
func with(it item, name string, v types.AttributeValue) item {
	m := maps.Clone(it)
	m[name] = v
	return m
}

// uaMap is a stored configuration, as far as the conditions look into it.
func uaMap(clientID string, rev int64, nets ...string) types.AttributeValue {
	return &types.AttributeValueMemberM{Value: item{"id": avS("config-" + clientID), "clientId": avS(clientID),
		"rev": avN(rev), "atNets": &types.AttributeValueMemberSS{Value: nets}}}
}

func avS(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func avN(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
func avBool(b bool) types.AttributeValue { return &types.AttributeValueMemberBOOL{Value: b} }

func avList(ss ...string) types.AttributeValue {
	l := make([]types.AttributeValue, len(ss))
	for i, s := range ss {
		l[i] = avS(s)
	}
	return &types.AttributeValueMemberL{Value: l}
}

// render is an item without its key, in a canonical text form (sets and
// maps sorted), for comparison and messages.
func render(it item) string {
	if it == nil {
		return "(no item)"
	}
	m := maps.Clone(it)
	delete(m, dynamostore.AttrPK)
	delete(m, dynamostore.AttrSK)
	return renderValue(&types.AttributeValueMemberM{Value: m})
}

func renderValue(av types.AttributeValue) string {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return strconv.Quote(v.Value)
	case *types.AttributeValueMemberN:
		return v.Value
	case *types.AttributeValueMemberB:
		return fmt.Sprintf("b%x", v.Value)
	case *types.AttributeValueMemberBOOL:
		return strconv.FormatBool(v.Value)
	case *types.AttributeValueMemberNULL:
		return "null"
	case *types.AttributeValueMemberSS:
		return renderSet(v.Value, strconv.Quote)
	case *types.AttributeValueMemberNS:
		return renderSet(v.Value, func(s string) string { return s })
	case *types.AttributeValueMemberBS:
		return renderSet(v.Value, func(b []byte) string { return fmt.Sprintf("b%x", b) })
	case *types.AttributeValueMemberL:
		parts := make([]string, len(v.Value))
		for i, e := range v.Value {
			parts[i] = renderValue(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case *types.AttributeValueMemberM:
		parts := make([]string, 0, len(v.Value))
		for _, k := range slices.Sorted(maps.Keys(v.Value)) {
			parts = append(parts, k+":"+renderValue(v.Value[k]))
		}
		return "{" + strings.Join(parts, " ") + "}"
	}
	return fmt.Sprintf("%T", av)
}

func renderSet[E any](set []E, one func(E) string) string {
	parts := make([]string, len(set))
	for i, e := range set {
		parts[i] = one(e)
	}
	slices.Sort(parts)
	return "<<" + strings.Join(parts, " ") + ">>"
}
