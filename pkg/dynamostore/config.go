package dynamostore

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/uauth/uauth/pkg/identity"
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
	revokeCond   = liveIn + " AND #ua.#rev = :rev"
)

var (
	configNames   = withNames(liveInNames, "#ua", attrConfig, "#actor", attrActor)
	revisionNames = withNames(configNames, "#rev", cfgRevision)
	revokeNames   = withNames(revisionNames, "#removedAt", attrRemovedAt)
)

// maxUpdateAttempts bounds an update's read-modify-write loop under
// concurrent updates of the same configuration; with backoff between
// attempts, they span about a second before the update gives up with
// identity.ErrConflict.
const maxUpdateAttempts = 10

// CreateConfig implements uaconfig.Store. Without a guard it is one
// transaction; with one, a read of the identity comes first, and the
// transaction holds the permissions the guard approved.
func (s *Store) CreateConfig(ctx context.Context, orgID string, c uaconfig.Config, actor string, guard identity.Guard) error {
	ua := encodeConfig(&c, 1)
	cond, names := attachCond, configNames
	values := map[string]types.AttributeValue{":ua": ua, ":actor": str(actor), ":org": str(orgID)}
	var read identityRecord
	if guard != nil {
		var err error
		if read, err = s.readIdentity(ctx, orgID, c.IdentityID, guard); err != nil {
			return err
		}
		cond, names = guarded(cond, names, values, &read)
	}
	canceled, err := s.transact(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{
				TableName: s.tableName(), Key: identityKey(c.IdentityID),
				UpdateExpression: aws.String(attachUpdate), ConditionExpression: aws.String(cond),
				ExpressionAttributeNames: names, ExpressionAttributeValues: values,
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
	if r.config == nil && guard != nil && permsChanged(old, &read) {
		return identity.ErrConflict
	}
	return uaconfig.ErrAlreadyConfigured
}

// GetConfig implements uaconfig.Store. The read is strongly consistent:
// clients such as Terraform read back right after they write.
func (s *Store) GetConfig(ctx context.Context, orgID, identityID string) (uaconfig.Config, error) {
	c, _, _, err := s.readConfig(ctx, orgID, identityID, nil)
	return c, err
}

// readConfig reads an identity's configuration, with its revision and the
// identity as read, applying guard first.
func (s *Store) readConfig(ctx context.Context, orgID, identityID string, guard identity.Guard) (uaconfig.Config, int64, identityRecord, error) {
	r, err := s.readIdentity(ctx, orgID, identityID, guard)
	if err != nil {
		return uaconfig.Config{}, 0, r, err
	}
	if r.config == nil {
		return uaconfig.Config{}, 0, r, &uaconfig.NotFoundError{IdentityID: identityID}
	}
	c, rev, err := decodeConfig(r.config, identityID)
	return c, rev, r, err
}

// UpdateConfig implements uaconfig.Store: a strongly consistent read, then
// one transaction that replaces the configuration and login's view of it
// on the condition that its revision (and, with a guard, the identity's
// permissions) is still the one read. A concurrent update makes it read
// again, after a jittered backoff; identity.ErrConflict if it kept losing.
func (s *Store) UpdateConfig(ctx context.Context, orgID, identityID string, change func(uaconfig.Config) (uaconfig.Config, error), actor string, guard identity.Guard) (uaconfig.Config, error) {
	for attempt := 1; ; attempt++ {
		c, rev, read, err := s.readConfig(ctx, orgID, identityID, guard)
		if err != nil {
			return uaconfig.Config{}, err
		}
		next, err := change(c)
		if err != nil {
			return uaconfig.Config{}, err
		}
		ua := encodeConfig(&next, rev+1)
		cond, names := updateCond, revisionNames
		values := map[string]types.AttributeValue{":ua": ua, ":actor": str(actor), ":org": str(orgID), ":rev": num(rev)}
		if guard != nil {
			cond, names = guarded(cond, names, values, &read)
		}
		canceled, err := s.transact(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{
				TableName: s.tableName(), Key: identityKey(identityID),
				UpdateExpression: aws.String(updateUpdate), ConditionExpression: aws.String(cond),
				ExpressionAttributeNames: names, ExpressionAttributeValues: values,
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
			return uaconfig.Config{}, identity.ErrConflict
		}
		// Changed since the read (or gone): read again, which explains a
		// deletion or revocation. The backoff spreads concurrent updates
		// out, so that each gets its turn rather than all losing together.
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return uaconfig.Config{}, identity.ErrConflict
		}
	}
}

// DeleteConfig implements uaconfig.Store: a strongly consistent read, then
// one transaction that removes the configuration, on the condition that it
// is still the one read (the answer is what was removed), and deletes
// login's view of it, so that its client id is unknown to login at once.
// Its secrets and tokens die with it (see keys.go).
func (s *Store) DeleteConfig(ctx context.Context, orgID, identityID string, at time.Time, actor string, guard identity.Guard) (uaconfig.Config, error) {
	for attempt := 1; ; attempt++ {
		c, rev, read, err := s.readConfig(ctx, orgID, identityID, guard)
		if _, ok := err.(*uaconfig.NotFoundError); ok {
			return uaconfig.Config{}, uaconfig.ErrNotConfigured
		}
		if err != nil {
			return uaconfig.Config{}, err
		}
		cond, names := revokeCond, revokeNames
		values := map[string]types.AttributeValue{":actor": str(actor), ":now": timestamp(at), ":org": str(orgID), ":rev": num(rev)}
		if guard != nil {
			cond, names = guarded(cond, names, values, &read)
		}
		canceled, err := s.transact(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{
				TableName: s.tableName(), Key: identityKey(identityID),
				UpdateExpression: aws.String(revokeUpdate), ConditionExpression: aws.String(cond),
				ExpressionAttributeNames: names, ExpressionAttributeValues: values,
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
			}},
			{Delete: &types.Delete{TableName: s.tableName(), Key: clientKey(c.ClientID)}},
		}})
		if err != nil {
			return uaconfig.Config{}, fmt.Errorf("dynamostore: delete: %w", err)
		}
		if canceled == nil {
			return c, nil
		}
		old, failed := canceled.failed(0)
		if !failed {
			return uaconfig.Config{}, fmt.Errorf("dynamostore: delete: transaction cancelled (%v)", canceled.codes())
		}
		if guard != nil && permsChanged(old, &read) {
			return uaconfig.Config{}, identity.ErrConflict
		}
		if attempt == maxUpdateAttempts {
			return uaconfig.Config{}, identity.ErrConflict
		}
		// Updated, revoked or deleted since the read: read again, which
		// explains the last two.
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return uaconfig.Config{}, identity.ErrConflict
		}
	}
}
