package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/uauth/uauth/pkg/uaconfig"
)

var _ uaconfig.Store = (*Store)(nil)

// Requests of the configuration resource. Attach and update each write the
// identity item and login's view of the configuration in one transaction.
const (
	attachUpdate = "SET #ua = :ua, #actor = :actor"
	attachCond   = liveIn + " AND attribute_not_exists(#ua)"
	// An update replaces the whole map, built from uaconfig.Fields, on the
	// condition that nobody wrote it since it was read.
	updateUpdate = "SET #ua = :ua, #actor = :actor"
	updateCond   = liveIn + " AND #ua.#rev = :rev"
	revokeUpdate = "REMOVE #ua SET #actor = :actor, #removedAt = :now"
	revokeCond   = liveIn + " AND attribute_exists(#ua)"
)

var (
	configNames   = withNames(liveInNames, "#ua", attrConfig, "#actor", attrActor)
	revisionNames = withNames(configNames, "#rev", cfgRevision)
	revokeNames   = withNames(configNames, "#removedAt", attrRemovedAt)
)

// maxUpdateAttempts bounds an update's read-modify-write loop under
// concurrent updates of the same configuration.
const maxUpdateAttempts = 5

// CreateConfig implements uaconfig.Store.
func (s *Store) CreateConfig(ctx context.Context, orgID string, c uaconfig.Config, actor string) error {
	ua := encodeConfig(&c, 1)
	canceled, err := s.transact(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{
				TableName: s.tableName(), Key: identityKey(c.IdentityID),
				UpdateExpression: aws.String(attachUpdate), ConditionExpression: aws.String(attachCond),
				ExpressionAttributeNames:            configNames,
				ExpressionAttributeValues:           map[string]types.AttributeValue{":ua": ua, ":actor": str(actor), ":org": str(orgID)},
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
			}},
			{Put: &types.Put{TableName: s.tableName(), Item: clientItem(orgID, &c, ua),
				ConditionExpression: aws.String(notExists), ExpressionAttributeNames: pkName}},
		},
	})
	if err != nil {
		return fmt.Errorf("dynamostore: attach: %w", err)
	}
	if canceled == nil {
		return nil
	}
	old, failed := canceled.failed(0)
	if !failed {
		return fmt.Errorf("dynamostore: attach: client id %s is taken", c.ClientID)
	}
	r, err := explain(old, orgID)
	if err != nil {
		return err
	}
	// The SDK retries a request whose response was lost: if the first try
	// committed, the configuration found is this very one.
	if r.config != nil && r.config.str(cfgID) == c.ID {
		return nil
	}
	return uaconfig.ErrAlreadyConfigured
}

// GetConfig implements uaconfig.Store. The read is strongly consistent:
// clients such as Terraform read back right after they write.
func (s *Store) GetConfig(ctx context.Context, orgID, identityID string) (uaconfig.Config, error) {
	c, _, err := s.readConfig(ctx, orgID, identityID)
	return c, err
}

func (s *Store) readConfig(ctx context.Context, orgID, identityID string) (uaconfig.Config, int64, error) {
	out, err := call(s, ctx, s.DB.GetItem, &dynamodb.GetItemInput{
		TableName: s.tableName(), Key: identityKey(identityID), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return uaconfig.Config{}, 0, fmt.Errorf("dynamostore: get: %w", err)
	}
	r, err := explain(out.Item, orgID)
	if err != nil {
		return uaconfig.Config{}, 0, err
	}
	if r.config == nil {
		return uaconfig.Config{}, 0, &uaconfig.NotFoundError{IdentityID: identityID}
	}
	return decodeConfig(r.config, identityID)
}

// UpdateConfig implements uaconfig.Store: a strongly consistent read, then
// one transaction that replaces the configuration and login's view of it
// on the condition that its revision is still the one read.
func (s *Store) UpdateConfig(ctx context.Context, orgID, identityID string, change func(uaconfig.Config) (uaconfig.Config, error), actor string) (uaconfig.Config, error) {
	for attempt := 1; ; attempt++ {
		c, rev, err := s.readConfig(ctx, orgID, identityID)
		if err != nil {
			return uaconfig.Config{}, err
		}
		next, err := change(c)
		if err != nil {
			return uaconfig.Config{}, err
		}
		ua := encodeConfig(&next, rev+1)
		canceled, err := s.transact(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{
				TableName: s.tableName(), Key: identityKey(identityID),
				UpdateExpression: aws.String(updateUpdate), ConditionExpression: aws.String(updateCond),
				ExpressionAttributeNames:            revisionNames,
				ExpressionAttributeValues:           map[string]types.AttributeValue{":ua": ua, ":actor": str(actor), ":org": str(orgID), ":rev": num(rev)},
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
			}},
			{Put: &types.Put{TableName: s.tableName(), Item: clientItem(orgID, &next, ua)}},
		}})
		if err != nil {
			return uaconfig.Config{}, fmt.Errorf("dynamostore: update: %w", err)
		}
		if canceled == nil {
			return next, nil
		}
		if attempt == maxUpdateAttempts {
			return uaconfig.Config{}, errors.New("dynamostore: update: the configuration kept changing")
		}
		// Changed since the read (or gone): read again, which explains a
		// deletion or revocation.
	}
}

// DeleteConfig implements uaconfig.Store. One UpdateItem removes the
// configuration; its secrets and tokens die with it (see keys.go).
func (s *Store) DeleteConfig(ctx context.Context, orgID, identityID string, at time.Time, actor string) (uaconfig.Config, error) {
	out, err := call(s, ctx, s.DB.UpdateItem, &dynamodb.UpdateItemInput{
		TableName: s.tableName(), Key: identityKey(identityID),
		UpdateExpression: aws.String(revokeUpdate), ConditionExpression: aws.String(revokeCond),
		ExpressionAttributeNames:            revokeNames,
		ExpressionAttributeValues:           map[string]types.AttributeValue{":actor": str(actor), ":now": timestamp(at), ":org": str(orgID)},
		ReturnValues:                        types.ReturnValueAllOld,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if old, failed := conditionFailed(err); failed {
		if _, err := explain(old, orgID); err != nil {
			return uaconfig.Config{}, err
		}
		return uaconfig.Config{}, uaconfig.ErrNotConfigured
	}
	if err != nil {
		return uaconfig.Config{}, fmt.Errorf("dynamostore: delete: %w", err)
	}
	r, err := decodeIdentity(out.Attributes)
	if err != nil {
		return uaconfig.Config{}, err
	}
	if r.config == nil { // the condition required one
		return uaconfig.Config{}, errors.New("dynamostore: delete: item had no configuration")
	}
	c, _, err := decodeConfig(r.config, identityID)
	return c, err
}
