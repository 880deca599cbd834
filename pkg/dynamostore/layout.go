// Package dynamostore keeps identities and their Universal Auth
// configurations in one DynamoDB table.
package dynamostore

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/uauth/uauth/pkg/universalauth"
)

// The table layout, in one place. template.yaml declares the same key
// schema and TTL attribute; the template test checks they agree.
//
//	pk                  sk          item
//	IDENTITY#<uuid>     IDENTITY    identity record, its configuration in "ua";
//	                                after a delete, a tombstone with expiresAt
//
// The configuration lives inside the identity item so that attach is one
// conditional UpdateItem that is atomic against a concurrent attach and a
// concurrent delete, at half the write cost of a transaction.
const (
	AttrPK        = "pk"
	AttrSK        = "sk"
	AttrExpiresAt = "expiresAt" // the table's TTL attribute: epoch seconds

	identityPrefix = "IDENTITY#"
	identitySK     = "IDENTITY"

	attrOrgID   = "orgId"
	attrDeleted = "deleted"
	attrConfig  = "ua"
)

func identityKey(identityID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrPK: &types.AttributeValueMemberS{Value: identityPrefix + identityID},
		AttrSK: &types.AttributeValueMemberS{Value: identitySK},
	}
}

// identityItem is an identity record or, with Deleted set, its tombstone.
type identityItem struct {
	PK         string      `dynamodbav:"pk"`
	SK         string      `dynamodbav:"sk"`
	IdentityID string      `dynamodbav:"identityId"`
	OrgID      string      `dynamodbav:"orgId"`
	Name       string      `dynamodbav:"name,omitempty"`
	CreatedAt  *time.Time  `dynamodbav:"createdAt,omitempty"`
	Deleted    bool        `dynamodbav:"deleted,omitempty"`
	DeletedAt  *time.Time  `dynamodbav:"deletedAt,omitempty"`
	ExpiresAt  int64       `dynamodbav:"expiresAt,omitempty"`
	Config     *configItem `dynamodbav:"ua,omitempty"`
}

// configItem is the stored form of universalauth.Config. The attribute
// names match the wire names, which keeps update paths readable.
type configItem struct {
	ID                         string    `dynamodbav:"id"`
	ClientID                   string    `dynamodbav:"clientId"`
	ClientSecretTrustedIPs     []ipItem  `dynamodbav:"clientSecretTrustedIps"`
	AccessTokenTrustedIPs      []ipItem  `dynamodbav:"accessTokenTrustedIps"`
	AccessTokenTTL             int64     `dynamodbav:"accessTokenTTL"`
	AccessTokenMaxTTL          int64     `dynamodbav:"accessTokenMaxTTL"`
	AccessTokenNumUsesLimit    int64     `dynamodbav:"accessTokenNumUsesLimit"`
	AccessTokenPeriod          int64     `dynamodbav:"accessTokenPeriod"`
	LockoutEnabled             bool      `dynamodbav:"lockoutEnabled"`
	LockoutThreshold           int64     `dynamodbav:"lockoutThreshold"`
	LockoutDurationSeconds     int64     `dynamodbav:"lockoutDurationSeconds"`
	LockoutCounterResetSeconds int64     `dynamodbav:"lockoutCounterResetSeconds"`
	CreatedAt                  time.Time `dynamodbav:"createdAt"`
	UpdatedAt                  time.Time `dynamodbav:"updatedAt"`
}

type ipItem struct {
	Address string `dynamodbav:"ipAddress"`
	Type    string `dynamodbav:"type"`
	Prefix  *int   `dynamodbav:"prefix,omitempty"`
}

func toConfigItem(c universalauth.Config) *configItem {
	return &configItem{
		ID:                         c.ID,
		ClientID:                   c.ClientID,
		ClientSecretTrustedIPs:     toIPItems(c.ClientSecretTrustedIPs),
		AccessTokenTrustedIPs:      toIPItems(c.AccessTokenTrustedIPs),
		AccessTokenTTL:             c.AccessTokenTTL,
		AccessTokenMaxTTL:          c.AccessTokenMaxTTL,
		AccessTokenNumUsesLimit:    c.AccessTokenNumUsesLimit,
		AccessTokenPeriod:          c.AccessTokenPeriod,
		LockoutEnabled:             c.LockoutEnabled,
		LockoutThreshold:           c.LockoutThreshold,
		LockoutDurationSeconds:     c.LockoutDurationSeconds,
		LockoutCounterResetSeconds: c.LockoutCounterResetSeconds,
		CreatedAt:                  c.CreatedAt,
		UpdatedAt:                  c.UpdatedAt,
	}
}

func (ci *configItem) config(identityID string) universalauth.Config {
	return universalauth.Config{
		ID:                         ci.ID,
		ClientID:                   ci.ClientID,
		IdentityID:                 identityID,
		ClientSecretTrustedIPs:     fromIPItems(ci.ClientSecretTrustedIPs),
		AccessTokenTrustedIPs:      fromIPItems(ci.AccessTokenTrustedIPs),
		AccessTokenTTL:             ci.AccessTokenTTL,
		AccessTokenMaxTTL:          ci.AccessTokenMaxTTL,
		AccessTokenNumUsesLimit:    ci.AccessTokenNumUsesLimit,
		AccessTokenPeriod:          ci.AccessTokenPeriod,
		LockoutEnabled:             ci.LockoutEnabled,
		LockoutThreshold:           ci.LockoutThreshold,
		LockoutDurationSeconds:     ci.LockoutDurationSeconds,
		LockoutCounterResetSeconds: ci.LockoutCounterResetSeconds,
		CreatedAt:                  ci.CreatedAt,
		UpdatedAt:                  ci.UpdatedAt,
	}
}

func toIPItems(ips []universalauth.TrustedIP) []ipItem {
	out := make([]ipItem, len(ips))
	for i, ip := range ips {
		out[i] = ipItem(ip)
	}
	return out
}

func fromIPItems(items []ipItem) []universalauth.TrustedIP {
	out := make([]universalauth.TrustedIP, len(items))
	for i, it := range items {
		out[i] = universalauth.TrustedIP(it)
	}
	return out
}
