package dynamostore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/uauth/uauth/pkg/accesstoken"
	"github.com/uauth/uauth/pkg/caller"
)

var _ accesstoken.Store = (*Store)(nil)

// TokenState implements accesstoken.Store: one BatchGetItem of the
// identity, the secret and the token's record.
func (s *Store) TokenState(ctx context.Context, ref accesstoken.Ref) (accesstoken.State, error) {
	items, err := s.batchGet(ctx, []map[string]types.AttributeValue{
		identityKey(ref.IdentityID), secretKey(ref.ClientID, ref.SecretID), tokenKey(ref.JTI),
	})
	if err != nil {
		return accesstoken.State{}, err
	}
	st := accesstoken.State{
		Identity: &accesstoken.IdentityState{Missing: true},
		Secret:   &accesstoken.SecretState{Missing: true},
		Token:    &accesstoken.Record{Missing: true},
	}
	for _, av := range items {
		var err error
		switch sk := (&item{m: av}).str(AttrSK); {
		case sk == identitySK:
			st.Identity, err = identityState(av, ref.IdentityID)
		case strings.HasPrefix(sk, secretPrefix):
			st.Secret = secretState(av)
		case sk == tokenSK:
			st.Token, err = tokenRecord(av)
		}
		if err != nil {
			return accesstoken.State{}, err
		}
	}
	return st, nil
}

func identityState(av map[string]types.AttributeValue, identityID string) (*accesstoken.IdentityState, error) {
	if len(av) == 0 {
		return &accesstoken.IdentityState{Missing: true}, nil
	}
	r, err := decodeIdentity(av)
	if err != nil {
		return nil, err
	}
	st := &accesstoken.IdentityState{Deleted: r.deleted, OrgID: r.orgID, Permissions: r.permissions}
	if r.config != nil {
		c, _, err := decodeConfig(r.config, identityID)
		if err != nil {
			return nil, err
		}
		st.Config = &c
	}
	return st, nil
}

func secretState(av map[string]types.AttributeValue) *accesstoken.SecretState {
	return &accesstoken.SecretState{Missing: len(av) == 0, Revoked: (&item{m: av}).has(attrRevokedAt)}
}

func tokenRecord(av map[string]types.AttributeValue) (*accesstoken.Record, error) {
	if len(av) == 0 {
		return &accesstoken.Record{Missing: true}, nil
	}
	it := &item{m: av}
	r := &accesstoken.Record{Revoked: it.has(attrRevokedAt), Uses: it.num(attrUses), Limit: it.num(attrUsesLimit)}
	if it.err != nil {
		return nil, fmt.Errorf("dynamostore: decoding token record: %w", it.err)
	}
	return r, nil
}

// The parts of a limited token's use. The identity's condition holds every
// check of the identity at once, the caller's address included: the
// address's networks (uaconfig.CallerNets) are tested against the stored
// accessTokenTrustedIps networks (uaconfig.TrustedIPs.Nets), so that a
// refused address consumes nothing. That is up to 129 terms for an IPv6
// caller, within DynamoDB's 300 operators and 4 KB per expression.
const (
	useToken     = "SET #uses = #uses + :one"
	useTokenCond = "attribute_exists(#pk) AND #uses < #limit AND " + notRevoked
	useIdentity  = "attribute_exists(#pk) AND " + stillHasClient + " AND #org = :org"
	usePerm      = " AND (contains(#perms, :perm) OR contains(#perms, :admin))"
	useSecret    = "attribute_exists(#pk) AND " + notRevoked
)

var (
	useTokenNames       = map[string]string{"#pk": AttrPK, "#uses": attrUses, "#limit": attrUsesLimit, "#revoked": attrRevokedAt}
	useIdentityNames    = withNames(stillHasClientNames, "#pk", AttrPK, "#org", attrOrgID, "#perms", attrPermissions, "#nets", cfgTokenNets)
	useAnyIdentityNames = withNames(stillHasClientNames, "#pk", AttrPK, "#org", attrOrgID, "#nets", cfgTokenNets)
	useSecretNames      = map[string]string{"#pk": AttrPK, "#revoked": attrRevokedAt}
	// useConditions[withPerm][n] is the identity's condition for n caller
	// networks (33 for IPv4, 129 for IPv6), with or without a permission,
	// built once.
	useConditions = map[bool]map[int]string{
		false: {33: useIdentity + netsCondition(33), 129: useIdentity + netsCondition(129)},
		true:  {33: useIdentity + usePerm + netsCondition(33), 129: useIdentity + usePerm + netsCondition(129)},
	}
)

func netsCondition(n int) string {
	var b strings.Builder
	b.WriteString(" AND (")
	for i := range n {
		if i > 0 {
			b.WriteString(" OR ")
		}
		b.WriteString("contains(#ua.#nets, :n" + strconv.Itoa(i) + ")")
	}
	b.WriteString(")")
	return b.String()
}

// UseLimited implements accesstoken.Store: one TransactWriteItems.
func (s *Store) UseLimited(ctx context.Context, ref accesstoken.Ref, nets []string, perm caller.Permission) (*accesstoken.State, error) {
	identityCond, ok := useConditions[perm != ""][len(nets)]
	if !ok {
		return nil, fmt.Errorf("dynamostore: %d caller networks, want 33 or 129", len(nets))
	}
	values := map[string]types.AttributeValue{":cid": str(ref.ClientID), ":org": str(ref.OrgID)}
	for i, n := range nets {
		values[":n"+strconv.Itoa(i)] = str(n)
	}
	identityNames := useAnyIdentityNames
	if perm != "" {
		values[":perm"], values[":admin"] = str(string(perm)), str(string(caller.OrgAdmin))
		identityNames = useIdentityNames
	}
	canceled, err := s.transact(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{
			TableName: s.tableName(), Key: tokenKey(ref.JTI),
			UpdateExpression: aws.String(useToken), ConditionExpression: aws.String(useTokenCond),
			ExpressionAttributeNames:            useTokenNames,
			ExpressionAttributeValues:           map[string]types.AttributeValue{":one": num(1)},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}},
		{ConditionCheck: &types.ConditionCheck{
			TableName: s.tableName(), Key: identityKey(ref.IdentityID),
			ConditionExpression:                 aws.String(identityCond),
			ExpressionAttributeNames:            identityNames,
			ExpressionAttributeValues:           values,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}},
		{ConditionCheck: &types.ConditionCheck{
			TableName: s.tableName(), Key: secretKey(ref.ClientID, ref.SecretID),
			ConditionExpression: aws.String(useSecret), ExpressionAttributeNames: useSecretNames,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}},
	}})
	if err != nil || canceled == nil {
		if err != nil {
			err = fmt.Errorf("dynamostore: use token: %w", err)
		}
		return nil, err
	}
	refused := &accesstoken.State{}
	if old, failed := canceled.failed(0); failed {
		if refused.Token, err = tokenRecord(old); err != nil {
			return nil, err
		}
	}
	if old, failed := canceled.failed(1); failed {
		if refused.Identity, err = identityState(old, ref.IdentityID); err != nil {
			return nil, err
		}
	}
	if old, failed := canceled.failed(2); failed {
		refused.Secret = secretState(old)
	}
	if refused.Token == nil && refused.Identity == nil && refused.Secret == nil {
		return nil, fmt.Errorf("dynamostore: use token: transaction cancelled: %v", canceled.reasons)
	}
	return refused, nil
}

// RevokeToken implements accesstoken.Store: one UpdateItem, which creates
// the record of a token that had none.
func (s *Store) RevokeToken(ctx context.Context, jti string, now, keepUntil time.Time) error {
	_, err := call(s, ctx, s.DB.UpdateItem, &dynamodb.UpdateItemInput{
		TableName: s.tableName(), Key: tokenKey(jti),
		UpdateExpression:          aws.String("SET #revoked = if_not_exists(#revoked, :now), #exp = :keep"),
		ExpressionAttributeNames:  map[string]string{"#revoked": attrRevokedAt, "#exp": AttrExpiresAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": timestamp(now), ":keep": num(keepUntil.Unix())},
	})
	if err != nil {
		return fmt.Errorf("dynamostore: revoke token: %w", err)
	}
	return nil
}

// ExtendRecord implements accesstoken.Store: one UpdateItem.
func (s *Store) ExtendRecord(ctx context.Context, jti string, keepUntil time.Time) error {
	_, err := call(s, ctx, s.DB.UpdateItem, &dynamodb.UpdateItemInput{
		TableName: s.tableName(), Key: tokenKey(jti),
		UpdateExpression:          aws.String("SET #exp = :keep"),
		ConditionExpression:       aws.String("attribute_exists(#pk) AND " + notRevoked),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK, "#exp": AttrExpiresAt, "#revoked": attrRevokedAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{":keep": num(keepUntil.Unix())},
	})
	if _, failed := conditionFailed(err); failed {
		return accesstoken.ErrRenewRevoked
	}
	if err != nil {
		return fmt.Errorf("dynamostore: renew token: %w", err)
	}
	return nil
}

// IdentityPermissions implements accesstoken.Store: one GetItem.
func (s *Store) IdentityPermissions(ctx context.Context, orgID, identityID string) ([]string, error) {
	r, err := s.readIdentity(ctx, orgID, identityID, nil)
	return r.permissions, err
}
