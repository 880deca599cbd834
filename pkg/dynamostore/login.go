package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/login"
)

var _ login.Store = (*Store)(nil)

// Attributes of a lockout record.
const (
	attrFails      = "fails"
	attrLastFailAt = "lastFailAt" // epoch milliseconds
)

// batchGet reads keys with strongly consistent reads in one BatchGetItem,
// asking again for any DynamoDB leaves unprocessed (it may, under load).
// Items come back by key, in no order.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	var items []map[string]types.AttributeValue
	req := map[string]types.KeysAndAttributes{s.Table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
	for attempt := 0; len(req) > 0; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return nil, err
			}
		}
		out, err := call(s, ctx, s.DB.BatchGetItem, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, fmt.Errorf("dynamostore: batch get: %w", err)
		}
		items = append(items, out.Responses[s.Table]...)
		req = out.UnprocessedKeys
	}
	return items, nil
}

// ReadAttempt implements login.Store: one BatchGetItem of three items
// under the client id.
func (s *Store) ReadAttempt(ctx context.Context, clientID, secretID, bucket string) (login.Attempt, error) {
	items, err := s.batchGet(ctx, []map[string]types.AttributeValue{
		clientKey(clientID), secretKey(clientID, secretID), lockoutKey(clientID, bucket),
	})
	if err != nil {
		return login.Attempt{}, err
	}
	var att login.Attempt
	for _, av := range items {
		it := &item{m: av}
		switch sk := it.str(AttrSK); {
		case sk == clientSK:
			ua := it.sub(attrConfig)
			if ua == nil { // a view is never written without one
				return login.Attempt{}, errors.New("dynamostore: login view without configuration")
			}
			identityID := it.str(attrIdentityID)
			c, _, err := decodeConfig(ua, identityID)
			if err != nil {
				return login.Attempt{}, err
			}
			att.Client = &login.Client{IdentityID: identityID, OrgID: it.str(attrOrgID), Config: c}
		case strings.HasPrefix(sk, secretPrefix):
			sec, err := decodeSecret(av, clientID)
			if err != nil {
				return login.Attempt{}, err
			}
			att.Secret = &sec
		case strings.HasPrefix(sk, lockoutPrefix):
			att.Lockout = decodeLockout(it)
		}
		if it.err != nil {
			return login.Attempt{}, fmt.Errorf("dynamostore: decoding %s: %w", it.str(AttrSK), it.err)
		}
	}
	return att, nil
}

func decodeLockout(it *item) login.Lockout {
	return login.Lockout{Exists: true, Fails: it.num(attrFails), LastFailAt: time.UnixMilli(it.num(attrLastFailAt))}
}

// stillHasClient is the condition, on an identity item, that it still has
// the configuration whose client id is :cid (in any organization: login
// does not know the caller's).
const stillHasClient = "attribute_not_exists(#deleted) AND #ua.#cid = :cid"

var stillHasClientNames = map[string]string{"#deleted": attrDeleted, "#ua": attrConfig, "#cid": cfgClientID}

// A failure either adds to a count still open, or starts a new one; each
// is written only if the record is still as it was read, so that
// concurrent failures all count.
const (
	addFailure   = "ADD #fails :one SET #last = :now, #exp = :exp"
	addCond      = "#fails < :threshold AND #last > :resetStart"
	startFailure = "SET #fails = :one, #last = :now, #exp = :exp"
	startCond    = "attribute_not_exists(#fails) OR (#fails < :threshold AND #last <= :resetStart) OR (#fails >= :threshold AND #last <= :lockStart)"
)

var failureNames = map[string]string{"#fails": attrFails, "#last": attrLastFailAt, "#exp": AttrExpiresAt}

// RecordFailure implements login.Store: one UpdateItem.
func (s *Store) RecordFailure(ctx context.Context, clientID, bucket string, f login.Failure) (*login.Lockout, error) {
	update, cond := startFailure, startCond
	values := map[string]types.AttributeValue{
		":one": num(1), ":now": num(f.At.UnixMilli()), ":exp": num(f.KeepUntil().Unix() + 60),
		":threshold": num(f.Threshold), ":resetStart": num(f.At.Add(-f.ResetAfter).UnixMilli()),
		":lockStart": num(f.At.Add(-f.LockedFor).UnixMilli()),
	}
	if f.Add {
		update, cond = addFailure, addCond
		delete(values, ":lockStart")
	}
	_, err := call(s, ctx, s.DB.UpdateItem, &dynamodb.UpdateItemInput{
		TableName: s.tableName(), Key: lockoutKey(clientID, bucket),
		UpdateExpression: aws.String(update), ConditionExpression: aws.String(cond),
		ExpressionAttributeNames: failureNames, ExpressionAttributeValues: values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if old, failed := conditionFailed(err); failed {
		l := login.Lockout{}
		if len(old) > 0 {
			l = decodeLockout(&item{m: old})
		}
		return &l, nil
	}
	if err != nil {
		return nil, fmt.Errorf("dynamostore: record login failure: %w", err)
	}
	return nil, nil
}

// What a success writes, beside the check that the identity still has the
// configuration.
const (
	countUse      = "SET #uses = #uses + :one, #lastUsed = :now"
	countUseCond  = "#uses < :limit AND " + notRevoked
	addUses       = "ADD #uses :n SET #lastUsed = :now"
	addUsesCond   = "attribute_exists(#pk) AND " + notRevoked
	createdRecord = "attribute_not_exists(#pk)"
)

// Succeed implements login.Store: one TransactWriteItems if anything is to
// be written, and no request otherwise: login's view, which ReadAttempt
// found, is deleted with the configuration (see login's package comment).
// Nothing is written for an unlimited secret and token, without a lockout
// record, between use-count flushes: a secret a whole fleet shares is read
// on every login, never written.
func (s *Store) Succeed(ctx context.Context, sc login.Success) error {
	var items []types.TransactWriteItem
	secret := secretKey(sc.ClientID, sc.SecretID)
	useNames := map[string]string{"#uses": attrUses, "#lastUsed": attrLastUsedAt, "#revoked": attrRevokedAt}
	switch {
	case sc.CountUse:
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName: s.tableName(), Key: secret,
			UpdateExpression: aws.String(countUse), ConditionExpression: aws.String(countUseCond),
			ExpressionAttributeNames:            useNames,
			ExpressionAttributeValues:           map[string]types.AttributeValue{":one": num(1), ":now": timestamp(sc.At), ":limit": num(sc.NumUsesLimit)},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}})
	case sc.AddUses > 0:
		useNames["#pk"] = AttrPK
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName: s.tableName(), Key: secret,
			UpdateExpression: aws.String(addUses), ConditionExpression: aws.String(addUsesCond),
			ExpressionAttributeNames:  useNames,
			ExpressionAttributeValues: map[string]types.AttributeValue{":n": num(sc.AddUses), ":now": timestamp(sc.At)},
		}})
	}
	if t := sc.Token; t != nil {
		it := tokenKey(t.JTI)
		it[attrIdentityID] = str(t.IdentityID)
		it[attrUses] = num(0)
		it[attrUsesLimit] = num(t.Limit)
		it[AttrExpiresAt] = num(t.KeepUntil.Unix())
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: s.tableName(), Item: it,
			ConditionExpression: aws.String(createdRecord), ExpressionAttributeNames: pkName}})
	}
	if sc.ClearLockout != "" {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: s.tableName(), Key: lockoutKey(sc.ClientID, sc.ClearLockout)}})
	}
	if len(items) == 0 {
		return nil
	}
	items = append([]types.TransactWriteItem{{ConditionCheck: &types.ConditionCheck{
		TableName: s.tableName(), Key: identityKey(sc.IdentityID),
		ConditionExpression: aws.String(stillHasClient), ExpressionAttributeNames: stillHasClientNames,
		ExpressionAttributeValues: map[string]types.AttributeValue{":cid": str(sc.ClientID)},
	}}}, items...)
	canceled, err := s.transact(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err != nil {
		return fmt.Errorf("dynamostore: login: %w", err)
	}
	if canceled == nil {
		return nil
	}
	if _, failed := canceled.failed(0); failed {
		return login.ErrGone
	}
	if old, failed := canceled.failed(1); failed && (sc.CountUse || sc.AddUses > 0) {
		if len(old) == 0 || (&item{m: old}).has(attrRevokedAt) {
			return login.ErrSecretRevoked
		}
		return login.ErrNoUsesLeft
	}
	return fmt.Errorf("dynamostore: login: transaction cancelled: %v", canceled.reasons)
}

// ClearLockouts implements login.Store: a read of the identity, a Query of
// the configuration's lockout records, and BatchWriteItem deletes. The
// guard holds at the read.
func (s *Store) ClearLockouts(ctx context.Context, orgID, identityID string, guard identity.Guard) (int, error) {
	c, _, err := s.configured(ctx, orgID, identityID, guard)
	if err != nil {
		return 0, err
	}
	in := &dynamodb.QueryInput{
		TableName: s.tableName(), ConsistentRead: aws.Bool(true),
		KeyConditionExpression:   aws.String("#pk = :pk AND begins_with(#sk, :prefix)"),
		ProjectionExpression:     aws.String("#pk, #sk"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK, "#sk": AttrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(clientPrefix + c.ClientID), ":prefix": str(lockoutPrefix)},
	}
	var keys []map[string]types.AttributeValue
	for {
		page, err := call(s, ctx, s.DB.Query, in)
		if err != nil {
			return 0, fmt.Errorf("dynamostore: clear lockouts: %w", err)
		}
		keys = append(keys, page.Items...)
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	if err := s.batchDelete(ctx, keys); err != nil {
		return 0, fmt.Errorf("dynamostore: clear lockouts: %w", err)
	}
	return len(keys), nil
}

// batchDelete deletes keys with BatchWriteItem, 25 at a time, asking again
// for what DynamoDB leaves unprocessed.
func (s *Store) batchDelete(ctx context.Context, keys []map[string]types.AttributeValue) error {
	for start := 0; start < len(keys); start += 25 {
		var reqs []types.WriteRequest
		for _, k := range keys[start:min(start+25, len(keys))] {
			reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}})
		}
		if err := s.batchWrite(ctx, reqs); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	pending := map[string][]types.WriteRequest{s.Table: reqs}
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return err
			}
		}
		out, err := call(s, ctx, s.DB.BatchWriteItem, &dynamodb.BatchWriteItemInput{RequestItems: pending})
		if err != nil {
			return err
		}
		pending = out.UnprocessedItems
	}
	return nil
}
