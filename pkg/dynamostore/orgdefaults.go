package dynamostore

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/uauth/uauth/pkg/orgdefaults"
)

var _ orgdefaults.Store = (*Store)(nil)

// Attributes of an organization's defaults item; the fields are in "ua".
const attrAutoAttach = "autoAttach"

// OrgDefaults implements orgdefaults.Store: one strongly consistent
// GetItem, so that an Identity Created right after a PUT gets the new
// defaults.
func (s *Store) OrgDefaults(ctx context.Context, orgID string) (*orgdefaults.Defaults, error) {
	out, err := call(s, ctx, s.DB.GetItem, &dynamodb.GetItemInput{
		TableName: s.tableName(), Key: orgDefaultsKey(orgID), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("dynamostore: org defaults: %w", err)
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	it := &item{m: out.Item}
	d := &orgdefaults.Defaults{AutoAttach: it.bool(attrAutoAttach), Source: orgdefaults.SourceOrg, UpdatedAt: it.time(attrUpdatedAt)}
	if ua := it.sub(attrConfig); ua != nil {
		decodeFields(ua, &d.Config)
		if ua.err != nil && it.err == nil {
			it.err = ua.err
		}
	}
	if it.err != nil {
		return nil, fmt.Errorf("dynamostore: decoding org defaults: %w", it.err)
	}
	return d, nil
}

// PutOrgDefaults implements orgdefaults.Store: one PutItem.
func (s *Store) PutOrgDefaults(ctx context.Context, orgID string, d orgdefaults.Defaults, actor string) error {
	it := orgDefaultsKey(orgID)
	it[attrOrgID] = str(orgID)
	it[attrConfig] = &types.AttributeValueMemberM{Value: encodeFields(&d.Config, 0)}
	it[attrAutoAttach] = boolean(d.AutoAttach)
	it[attrUpdatedAt] = timestamp(d.UpdatedAt)
	it[attrActor] = str(actor)
	if _, err := call(s, ctx, s.DB.PutItem, &dynamodb.PutItemInput{TableName: s.tableName(), Item: it}); err != nil {
		return fmt.Errorf("dynamostore: put org defaults: %w", err)
	}
	return nil
}

// DeleteOrgDefaults implements orgdefaults.Store: one DeleteItem.
func (s *Store) DeleteOrgDefaults(ctx context.Context, orgID, actor string) error {
	if _, err := call(s, ctx, s.DB.DeleteItem, &dynamodb.DeleteItemInput{TableName: s.tableName(), Key: orgDefaultsKey(orgID)}); err != nil {
		return fmt.Errorf("dynamostore: delete org defaults: %w", err)
	}
	return nil
}
