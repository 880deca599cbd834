package dynamostore

import (
	"context"
	"fmt"
	"slices"
	"strings"

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
	return decodeOrgDefaults(out.Item)
}

// maxBatchGetKeys is BatchGetItem's limit on keys.
const maxBatchGetKeys = 100

// OrgDefaultsBatch implements orgdefaults.Store: the defaults of several
// orgs in one strongly consistent BatchGetItem (per 100 orgs), asking
// again, a bounded number of times, for keys DynamoDB leaves unprocessed.
// An org whose item cannot be decoded is in bad, so that only its own
// identities fail.
func (s *Store) OrgDefaultsBatch(ctx context.Context, orgIDs []string) (found map[string]*orgdefaults.Defaults, bad map[string]error, err error) {
	orgIDs = slices.Compact(slices.Sorted(slices.Values(orgIDs))) // a key may appear once per request
	found, bad = make(map[string]*orgdefaults.Defaults, len(orgIDs)), map[string]error{}
	for start := 0; start < len(orgIDs); start += maxBatchGetKeys {
		keys := make([]map[string]types.AttributeValue, 0, min(len(orgIDs)-start, maxBatchGetKeys))
		for _, org := range orgIDs[start:min(start+maxBatchGetKeys, len(orgIDs))] {
			keys = append(keys, orgDefaultsKey(org))
		}
		req := map[string]types.KeysAndAttributes{s.Table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
		for attempt := 0; len(req) > 0; attempt++ {
			if attempt > maxConflictRetries {
				return nil, nil, fmt.Errorf("dynamostore: org defaults: %d keys still unprocessed after %d attempts", len(req[s.Table].Keys), attempt)
			}
			if attempt > 0 {
				if err := sleep(ctx, backoff(attempt)); err != nil {
					return nil, nil, fmt.Errorf("dynamostore: org defaults: %w", err)
				}
			}
			out, err := call(s, ctx, s.DB.BatchGetItem, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, nil, fmt.Errorf("dynamostore: org defaults: %w", err)
			}
			for _, av := range out.Responses[s.Table] {
				// The org is the one its key names, whatever else the
				// item holds.
				org, _ := strings.CutPrefix((&item{m: av}).str(AttrPK), orgPrefix)
				if d, err := decodeOrgDefaults(av); err != nil {
					bad[org] = err
				} else {
					found[org] = d
				}
			}
			req = out.UnprocessedKeys
		}
	}
	return found, bad, nil
}

// decodeOrgDefaults decodes an org's defaults item; nil for none.
func decodeOrgDefaults(av map[string]types.AttributeValue) (*orgdefaults.Defaults, error) {
	if len(av) == 0 {
		return nil, nil
	}
	it := &item{m: av}
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
