// Package dynamostore keeps uauth's state in one DynamoDB table: identities
// and their configurations, login's view of them, client secrets, lockouts,
// access tokens and organization defaults. keys.go is the whole table's key
// layout; each concept has a file of its own.
package dynamostore

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The table layout, in one place. template.yaml declares the same key
// schema and TTL attribute; a test checks they agree.
//
//	pk                      sk               item
//	IDENTITY#<identityId>   IDENTITY         the identity: org, name, permissions; its configuration
//	                                         in "ua"; after a delete, a tombstone that expires
//	CLIENT#<clientId>       CLIENT           login's view of a configuration: identity, org and a
//	                                         copy of "ua", written and deleted in the same
//	                                         transactions as "ua"
//	CLIENT#<clientId>       SECRET#<id>      a client secret: prefix, HMAC, TTL, uses, revocation
//	CLIENT#<clientId>       LOCKOUT#<addr>   failed logins from one address (IPv6: its /64); expires
//	TOKEN#<jti>             TOKEN            an access token's uses (limited tokens only) and its
//	                                         revocation; expires
//	ORG#<orgId>             DEFAULTS         an organization's default configuration
//
// Why this shape:
//
//   - The configuration lives inside the identity item, so that attach,
//     revoke and identity deletion are each one write that is atomic
//     against the others, and a revoke or delete kills every secret and
//     token under it at once: those are checked against the identity item
//     on every use, and die with it. Nothing is scanned or cascaded.
//   - Login knows only a client id, and must not depend on an eventually
//     consistent index. Everything it needs to decide (the configuration,
//     the secret, the lockout) therefore sits under the client id, so that
//     one BatchGetItem reads it. Login's view exists exactly while the
//     identity has that configuration (attach, update, revoke and identity
//     deletion write or delete it in the same transaction), so that read
//     alone decides; a login that writes also checks the identity item in
//     the same transaction.
//   - The secrets and lockouts of a revoked configuration stay behind under
//     its client id, dead: login no longer finds the client id, and every
//     token use checks that the identity item still names it.
const (
	AttrPK        = "pk"
	AttrSK        = "sk"
	AttrExpiresAt = "expiresAt" // the table's TTL attribute: epoch seconds

	identityPrefix = "IDENTITY#"
	identitySK     = "IDENTITY"
	clientPrefix   = "CLIENT#"
	clientSK       = "CLIENT"
	secretPrefix   = "SECRET#"
	lockoutPrefix  = "LOCKOUT#"
	tokenPrefix    = "TOKEN#"
	tokenSK        = "TOKEN"
	orgPrefix      = "ORG#"
	orgDefaultsSK  = "DEFAULTS"
)

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrPK: str(pk), AttrSK: str(sk)}
}

func identityKey(identityID string) map[string]types.AttributeValue {
	return key(identityPrefix+identityID, identitySK)
}

func clientKey(clientID string) map[string]types.AttributeValue {
	return key(clientPrefix+clientID, clientSK)
}

func secretKey(clientID, secretID string) map[string]types.AttributeValue {
	return key(clientPrefix+clientID, secretPrefix+secretID)
}

func lockoutKey(clientID, bucket string) map[string]types.AttributeValue {
	return key(clientPrefix+clientID, lockoutPrefix+bucket)
}

func tokenKey(jti string) map[string]types.AttributeValue {
	return key(tokenPrefix+jti, tokenSK)
}

func orgDefaultsKey(orgID string) map[string]types.AttributeValue {
	return key(orgPrefix+orgID, orgDefaultsSK)
}
