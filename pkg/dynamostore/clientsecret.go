package dynamostore

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/uauth/uauth/pkg/clientsecret"
	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/uaconfig"
)

var _ clientsecret.Store = (*Store)(nil)

// Attributes of a client secret's item.
const (
	attrSecretID   = "secretId"
	attrConfigID   = "configId"
	attrDesc       = "description"
	attrPrefix     = "prefix"
	attrMAC        = "mac"
	attrUses       = "uses"
	attrUsesLimit  = "usesLimit"
	attrTTL        = "ttl"
	attrUpdatedAt  = "updatedAt"
	attrRevokedAt  = "revokedAt"
	attrLastUsedAt = "lastUsedAt"
)

// configured reads an identity of orgID, applies guard to its permissions
// and returns its configuration, with the identity as read:
// identity.ErrNotFound, or uaconfig.ErrNotConfigured without one.
func (s *Store) configured(ctx context.Context, orgID, identityID string, guard identity.Guard) (uaconfig.Config, identityRecord, error) {
	c, _, r, err := s.readConfig(ctx, orgID, identityID, guard)
	if _, ok := err.(*uaconfig.NotFoundError); ok {
		return c, r, uaconfig.ErrNotConfigured
	}
	return c, r, err
}

// stillConfigured is the condition that the identity still has the
// configuration whose client id is :cid.
const stillConfigured = liveIn + " AND #ua.#cid = :cid"

var stillConfiguredNames = withNames(liveInNames, "#ua", attrConfig, "#cid", cfgClientID)

// CreateSecret implements clientsecret.Store: a read of the identity, then
// one transaction that writes the secret if the configuration is still the
// one read.
func (s *Store) CreateSecret(ctx context.Context, orgID, identityID string, sec clientsecret.Secret, actor string, guard identity.Guard) (clientsecret.Secret, error) {
	c, read, err := s.configured(ctx, orgID, identityID, guard)
	if err != nil {
		return clientsecret.Secret{}, err
	}
	sec.ClientID, sec.ConfigID = c.ClientID, c.ID
	it := secretKey(c.ClientID, sec.ID)
	it[attrSecretID] = str(sec.ID)
	it[attrConfigID] = str(c.ID)
	it[attrIdentityID] = str(identityID)
	it[attrOrgID] = str(orgID)
	it[attrDesc] = str(sec.Description)
	it[attrPrefix] = str(sec.Prefix)
	it[attrMAC] = &types.AttributeValueMemberB{Value: sec.MAC}
	it[attrUses] = num(0)
	it[attrUsesLimit] = num(sec.NumUsesLimit)
	it[attrTTL] = num(sec.TTL)
	it[cfgCreatedAt] = timestamp(sec.CreatedAt)
	it[attrUpdatedAt] = timestamp(sec.UpdatedAt)
	it[attrActor] = str(actor)
	cond, names := stillConfigured, stillConfiguredNames
	values := map[string]types.AttributeValue{":org": str(orgID), ":cid": str(c.ClientID)}
	if guard != nil {
		cond, names = guarded(cond, names, values, &read)
	}
	canceled, err := s.transact(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{
			TableName: s.tableName(), Key: identityKey(identityID),
			ConditionExpression: aws.String(cond), ExpressionAttributeNames: names, ExpressionAttributeValues: values,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}},
		{Put: &types.Put{TableName: s.tableName(), Item: it,
			ConditionExpression: aws.String(notExists), ExpressionAttributeNames: pkName}},
	}})
	if err != nil {
		return clientsecret.Secret{}, fmt.Errorf("dynamostore: create secret: %w", err)
	}
	if canceled != nil {
		if old, failed := canceled.failed(0); failed {
			if r, err := explain(old, orgID); err != nil {
				return clientsecret.Secret{}, err // deleted meanwhile
			} else if guard != nil && r.config != nil && permsChanged(old, &read) {
				return clientsecret.Secret{}, identity.ErrConflict
			}
			return clientsecret.Secret{}, uaconfig.ErrNotConfigured // revoked meanwhile
		}
		return clientsecret.Secret{}, fmt.Errorf("dynamostore: create secret: id %s is taken", sec.ID)
	}
	return sec, nil
}

const notRevoked = "attribute_not_exists(#revoked)"

// ListSecrets implements clientsecret.Store: a read of the identity, then
// a strongly consistent Query of the configuration's secrets.
func (s *Store) ListSecrets(ctx context.Context, orgID, identityID string, guard identity.Guard) ([]clientsecret.Secret, error) {
	c, _, err := s.configured(ctx, orgID, identityID, guard)
	if err != nil {
		return nil, err
	}
	in := &dynamodb.QueryInput{
		TableName: s.tableName(), ConsistentRead: aws.Bool(true),
		KeyConditionExpression:   aws.String("#pk = :pk AND begins_with(#sk, :prefix)"),
		FilterExpression:         aws.String(notRevoked),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK, "#sk": AttrSK, "#revoked": attrRevokedAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(clientPrefix + c.ClientID), ":prefix": str(secretPrefix)},
	}
	out := []clientsecret.Secret{}
	for {
		page, err := call(s, ctx, s.DB.Query, in)
		if err != nil {
			return nil, fmt.Errorf("dynamostore: list secrets: %w", err)
		}
		for _, av := range page.Items {
			sec, err := decodeSecret(av, c.ClientID)
			if err != nil {
				return nil, err
			}
			out = append(out, sec)
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// GetSecret implements clientsecret.Store.
func (s *Store) GetSecret(ctx context.Context, orgID, identityID, secretID string, guard identity.Guard) (clientsecret.Secret, error) {
	c, _, err := s.configured(ctx, orgID, identityID, guard)
	if err != nil {
		return clientsecret.Secret{}, err
	}
	out, err := call(s, ctx, s.DB.GetItem, &dynamodb.GetItemInput{
		TableName: s.tableName(), Key: secretKey(c.ClientID, secretID), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return clientsecret.Secret{}, fmt.Errorf("dynamostore: get secret: %w", err)
	}
	if len(out.Item) == 0 {
		return clientsecret.Secret{}, &clientsecret.NotFoundError{ID: secretID}
	}
	return decodeSecret(out.Item, c.ClientID)
}

// Revoking writes only a secret not revoked yet, so that a second revoke
// changes nothing and answers the first one's result.
const (
	revokeSecretUpdate = "SET #revoked = :now, #updated = :now, #actor = :actor"
	revokeSecretCond   = "attribute_exists(#pk) AND attribute_not_exists(#revoked)"
)

// RevokeSecret implements clientsecret.Store: a read of the identity, then
// one UpdateItem. Tokens issued with the secret die with it: each use
// checks the secret. The guard holds at the read only: a revocation only
// takes access away, so it is not worth a transaction to hold it at the
// write too.
func (s *Store) RevokeSecret(ctx context.Context, orgID, identityID, secretID string, now time.Time, actor string, guard identity.Guard) (clientsecret.Secret, error) {
	c, _, err := s.configured(ctx, orgID, identityID, guard)
	if err != nil {
		return clientsecret.Secret{}, err
	}
	out, err := call(s, ctx, s.DB.UpdateItem, &dynamodb.UpdateItemInput{
		TableName: s.tableName(), Key: secretKey(c.ClientID, secretID),
		UpdateExpression: aws.String(revokeSecretUpdate), ConditionExpression: aws.String(revokeSecretCond),
		ExpressionAttributeNames:            map[string]string{"#pk": AttrPK, "#revoked": attrRevokedAt, "#updated": attrUpdatedAt, "#actor": attrActor},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":now": timestamp(now), ":actor": str(actor)},
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if old, failed := conditionFailed(err); failed {
		if len(old) == 0 {
			return clientsecret.Secret{}, &clientsecret.NotFoundError{ID: secretID}
		}
		return decodeSecret(old, c.ClientID) // revoked already
	}
	if err != nil {
		return clientsecret.Secret{}, fmt.Errorf("dynamostore: revoke secret: %w", err)
	}
	return decodeSecret(out.Attributes, c.ClientID)
}

func decodeSecret(av map[string]types.AttributeValue, clientID string) (clientsecret.Secret, error) {
	it := &item{m: av}
	sec := clientsecret.Secret{
		ID: it.str(attrSecretID), ClientID: clientID, ConfigID: it.str(attrConfigID),
		Description: it.str(attrDesc), Prefix: it.str(attrPrefix),
		NumUses: it.num(attrUses), NumUsesLimit: it.num(attrUsesLimit), TTL: it.num(attrTTL),
		Revoked: it.has(attrRevokedAt), CreatedAt: it.time(cfgCreatedAt), UpdatedAt: it.time(attrUpdatedAt),
	}
	if b, ok := av[attrMAC].(*types.AttributeValueMemberB); ok {
		sec.MAC = b.Value
	}
	if it.err != nil {
		return clientsecret.Secret{}, fmt.Errorf("dynamostore: decoding secret: %w", it.err)
	}
	return sec, nil
}
