package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/uauth/uauth/pkg/universalauth"
)

// DynamoDB is the part of *dynamodb.Client the store uses; tests put a
// fault-injecting wrapper here.
type DynamoDB interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Store implements universalauth.Store and the provisioner's store on one
// table. Every operation is a single request; failed conditions are
// explained from the item DynamoDB returns with the failure, never by a
// second read.
type Store struct {
	DB    DynamoDB
	Table string
}

var _ universalauth.Store = (*Store)(nil)

// New returns a Store on table.
func New(db DynamoDB, table string) *Store {
	return &Store{DB: db, Table: table}
}

// liveIn is the condition "this identity exists, is not deleted and belongs
// to orgID": every API operation starts from it.
func liveIn(orgID string) expression.ConditionBuilder {
	return expression.AttributeExists(expression.Name(AttrPK)).
		And(expression.Name(attrOrgID).Equal(expression.Value(orgID))).
		And(expression.AttributeNotExists(expression.Name(attrDeleted)))
}

// CreateConfig implements universalauth.Store.
func (s *Store) CreateConfig(ctx context.Context, orgID string, c universalauth.Config) error {
	update := expression.Set(expression.Name(attrConfig), expression.Value(toConfigItem(c)))
	cond := liveIn(orgID).And(expression.AttributeNotExists(expression.Name(attrConfig)))
	_, err := s.update(ctx, c.IdentityID, update, cond, types.ReturnValueNone)
	if old, failed := conditionFailed(err); failed {
		item, err := explain(old, orgID)
		if err != nil {
			return err
		}
		// The SDK retries a request whose response was lost; if the first
		// try committed, the configuration found is this very one.
		if item.Config != nil && item.Config.ID == c.ID {
			return nil
		}
		return universalauth.ErrAlreadyConfigured
	}
	if err != nil {
		return fmt.Errorf("dynamostore: attach: %w", err)
	}
	return nil
}

// GetConfig implements universalauth.Store. The read is strongly consistent:
// clients such as Terraform read back right after they write.
func (s *Store) GetConfig(ctx context.Context, orgID, identityID string) (universalauth.Config, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &s.Table,
		Key:            identityKey(identityID),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return universalauth.Config{}, fmt.Errorf("dynamostore: get: %w", err)
	}
	item, err := explain(out.Item, orgID)
	if err != nil {
		return universalauth.Config{}, err
	}
	if item.Config == nil {
		return universalauth.Config{}, universalauth.ErrNotConfigured
	}
	return item.Config.config(identityID), nil
}

// UpdateConfig implements universalauth.Store.
func (s *Store) UpdateConfig(ctx context.Context, orgID, identityID string, set universalauth.Settings, now time.Time) (universalauth.Config, error) {
	update := expression.Set(configAttr("updatedAt"), expression.Value(now))
	for name, v := range settingValues(set) {
		update = update.Set(configAttr(name), expression.Value(v))
	}
	cond := liveIn(orgID).And(expression.AttributeExists(expression.Name(attrConfig)))
	// The TTL rule against the stored value of the field not being changed.
	switch {
	case set.AccessTokenTTL != nil && set.AccessTokenMaxTTL == nil:
		maxTTL := configAttr("accessTokenMaxTTL")
		cond = cond.And(maxTTL.Equal(expression.Value(0)).Or(maxTTL.GreaterThanEqual(expression.Value(*set.AccessTokenTTL))))
	case set.AccessTokenMaxTTL != nil && set.AccessTokenTTL == nil && *set.AccessTokenMaxTTL != 0:
		cond = cond.And(configAttr("accessTokenTTL").LessThanEqual(expression.Value(*set.AccessTokenMaxTTL)))
	}
	out, err := s.update(ctx, identityID, update, cond, types.ReturnValueAllNew)
	if old, failed := conditionFailed(err); failed {
		item, err := explain(old, orgID)
		switch {
		case err != nil:
			return universalauth.Config{}, err
		case item.Config == nil:
			return universalauth.Config{}, universalauth.ErrNotConfigured
		default:
			return universalauth.Config{}, universalauth.ErrTTLExceedsMax
		}
	}
	if err != nil {
		return universalauth.Config{}, fmt.Errorf("dynamostore: update: %w", err)
	}
	return decodeConfig(out.Attributes, identityID)
}

// DeleteConfig implements universalauth.Store.
func (s *Store) DeleteConfig(ctx context.Context, orgID, identityID string) (universalauth.Config, error) {
	update := expression.Remove(expression.Name(attrConfig))
	cond := liveIn(orgID).And(expression.AttributeExists(expression.Name(attrConfig)))
	out, err := s.update(ctx, identityID, update, cond, types.ReturnValueAllOld)
	if old, failed := conditionFailed(err); failed {
		if _, err := explain(old, orgID); err != nil {
			return universalauth.Config{}, err
		}
		return universalauth.Config{}, universalauth.ErrNotConfigured
	}
	if err != nil {
		return universalauth.Config{}, fmt.Errorf("dynamostore: delete: %w", err)
	}
	return decodeConfig(out.Attributes, identityID)
}

// RecordIdentity writes a new identity, with c attached when c is not nil,
// in one conditional put. A known identity is left as it is: the error is
// universalauth.ErrIdentityExists, ErrIdentityDeleted for a tombstone, or
// ErrOrgMismatch if it was recorded in another organization.
func (s *Store) RecordIdentity(ctx context.Context, id universalauth.Identity, c *universalauth.Config) error {
	item := identityItem{
		PK: identityPrefix + id.ID, SK: identitySK,
		IdentityID: id.ID, OrgID: id.OrgID, Name: id.Name, CreatedAt: &id.CreatedAt,
	}
	if c != nil {
		item.Config = toConfigItem(*c)
	}
	err := s.put(ctx, item, expression.AttributeNotExists(expression.Name(AttrPK)))
	if old, failed := conditionFailed(err); failed {
		var known identityItem
		if err := attributevalue.UnmarshalMap(old, &known); err != nil {
			return fmt.Errorf("dynamostore: decode identity: %w", err)
		}
		switch {
		case known.OrgID != id.OrgID:
			return universalauth.ErrOrgMismatch
		case known.Deleted:
			return universalauth.ErrIdentityDeleted
		default:
			return universalauth.ErrIdentityExists
		}
	}
	if err != nil {
		return fmt.Errorf("dynamostore: record identity: %w", err)
	}
	return nil
}

// DeleteIdentity replaces an identity, its configuration included, with a
// tombstone that DynamoDB's TTL removes after expiresAt. It also writes the
// tombstone for an identity never seen, so that a create delivered late
// cannot bring it back. ErrOrgMismatch if it is known in another org.
func (s *Store) DeleteIdentity(ctx context.Context, identityID, orgID string, deletedAt, expiresAt time.Time) error {
	item := identityItem{
		PK: identityPrefix + identityID, SK: identitySK,
		IdentityID: identityID, OrgID: orgID,
		Deleted: true, DeletedAt: &deletedAt, ExpiresAt: expiresAt.Unix(),
	}
	cond := expression.AttributeNotExists(expression.Name(AttrPK)).
		Or(expression.Name(attrOrgID).Equal(expression.Value(orgID)))
	err := s.put(ctx, item, cond)
	if _, failed := conditionFailed(err); failed {
		return universalauth.ErrOrgMismatch
	}
	if err != nil {
		return fmt.Errorf("dynamostore: delete identity: %w", err)
	}
	return nil
}

func (s *Store) update(ctx context.Context, identityID string, update expression.UpdateBuilder, cond expression.ConditionBuilder, rv types.ReturnValue) (*dynamodb.UpdateItemOutput, error) {
	expr, err := expression.NewBuilder().WithUpdate(update).WithCondition(cond).Build()
	if err != nil {
		return nil, err
	}
	return s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           &s.Table,
		Key:                                 identityKey(identityID),
		UpdateExpression:                    expr.Update(),
		ConditionExpression:                 expr.Condition(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValues:                        rv,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
}

func (s *Store) put(ctx context.Context, item identityItem, cond expression.ConditionBuilder) error {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return err
	}
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return err
	}
	_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           &s.Table,
		Item:                                av,
		ConditionExpression:                 expr.Condition(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	return err
}

// conditionFailed reports whether err is a failed condition, and returns the
// item as it was then (nil if there was none).
func conditionFailed(err error) (map[string]types.AttributeValue, bool) {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ccf.Item, true
	}
	return nil, false
}

// explain decodes an identity item and returns ErrIdentityNotFound unless it
// is a live identity of orgID. Another org's identity is indistinguishable
// from a missing one.
func explain(av map[string]types.AttributeValue, orgID string) (identityItem, error) {
	var item identityItem
	if len(av) == 0 {
		return item, universalauth.ErrIdentityNotFound
	}
	if err := attributevalue.UnmarshalMap(av, &item); err != nil {
		return item, fmt.Errorf("dynamostore: decode identity: %w", err)
	}
	if item.Deleted || item.OrgID != orgID {
		return item, universalauth.ErrIdentityNotFound
	}
	return item, nil
}

func decodeConfig(av map[string]types.AttributeValue, identityID string) (universalauth.Config, error) {
	var item identityItem
	if err := attributevalue.UnmarshalMap(av, &item); err != nil {
		return universalauth.Config{}, fmt.Errorf("dynamostore: decode configuration: %w", err)
	}
	if item.Config == nil { // the condition required one: unreachable
		return universalauth.Config{}, errors.New("dynamostore: item has no configuration")
	}
	return item.Config.config(identityID), nil
}

// configAttr names an attribute inside the stored configuration map.
func configAttr(name string) expression.NameBuilder {
	return expression.Name(attrConfig + "." + name)
}

// settingValues lists the stored attributes that s sets, by configItem name.
func settingValues(s universalauth.Settings) map[string]any {
	v := map[string]any{}
	if s.ClientSecretTrustedIPs != nil {
		v["clientSecretTrustedIps"] = toIPItems(s.ClientSecretTrustedIPs)
	}
	if s.AccessTokenTrustedIPs != nil {
		v["accessTokenTrustedIps"] = toIPItems(s.AccessTokenTrustedIPs)
	}
	for name, p := range map[string]*int64{
		"accessTokenTTL":             s.AccessTokenTTL,
		"accessTokenMaxTTL":          s.AccessTokenMaxTTL,
		"accessTokenNumUsesLimit":    s.AccessTokenNumUsesLimit,
		"accessTokenPeriod":          s.AccessTokenPeriod,
		"lockoutThreshold":           s.LockoutThreshold,
		"lockoutDurationSeconds":     s.LockoutDurationSeconds,
		"lockoutCounterResetSeconds": s.LockoutCounterResetSeconds,
	} {
		if p != nil {
			v[name] = *p
		}
	}
	if s.LockoutEnabled != nil {
		v["lockoutEnabled"] = *s.LockoutEnabled
	}
	return v
}
