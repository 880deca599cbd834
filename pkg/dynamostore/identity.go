package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/uaconfig"
)

// Attributes of the identity item.
const (
	attrIdentityID   = "identityId"
	attrOrgID        = "orgId"
	attrName         = "name"
	attrCreatedAt    = "createdAt"
	attrPermissions  = "permissions"
	attrPermsVersion = "permissionsVersion" // orders Identity Updated events
	attrDeleted      = "deleted"
	attrDeletedAt    = "deletedAt"
	attrActor        = "actor"     // who made the last change to "ua", for the change stream
	attrRemovedAt    = "removedAt" // when "ua" was last removed, for the change stream
)

// The condition every API operation on an identity starts from: it exists,
// is not deleted and belongs to the caller's organization.
const liveIn = "attribute_exists(#pk) AND #org = :org AND attribute_not_exists(#deleted)"

var liveInNames = map[string]string{"#pk": AttrPK, "#org": attrOrgID, "#deleted": attrDeleted}

func withNames(base map[string]string, more ...string) map[string]string {
	m := make(map[string]string, len(base)+len(more)/2)
	for k, v := range base {
		m[k] = v
	}
	for i := 0; i+1 < len(more); i += 2 {
		m[more[i]] = more[i+1]
	}
	return m
}

// identityRecord is a decoded identity item.
type identityRecord struct {
	orgID       string
	deleted     bool
	permissions []string
	permsAV     types.AttributeValue // permissions as stored, for conditions; nil if absent
	config      *item                // the "ua" map, nil without a configuration
}

func decodeIdentity(av map[string]types.AttributeValue) (identityRecord, error) {
	it := &item{m: av}
	r := identityRecord{
		orgID:       it.str(attrOrgID),
		deleted:     it.bool(attrDeleted),
		permissions: it.strs(attrPermissions),
		permsAV:     av[attrPermissions],
		config:      it.sub(attrConfig),
	}
	if it.err != nil {
		return r, fmt.Errorf("dynamostore: decoding identity: %w", it.err)
	}
	return r, nil
}

// explain decodes an identity item and returns identity.ErrNotFound unless
// it is a live identity of orgID. Another organization's identity is
// indistinguishable from a missing one.
func explain(av map[string]types.AttributeValue, orgID string) (identityRecord, error) {
	if len(av) == 0 {
		return identityRecord{}, identity.ErrNotFound
	}
	r, err := decodeIdentity(av)
	if err != nil {
		return r, err
	}
	if r.deleted || r.orgID != orgID {
		return r, identity.ErrNotFound
	}
	return r, nil
}

// readIdentity reads a live identity of orgID, strongly consistent, and
// applies guard to its permissions (nil: no check).
func (s *Store) readIdentity(ctx context.Context, orgID, identityID string, guard identity.Guard) (identityRecord, error) {
	out, err := call(s, ctx, s.DB.GetItem, &dynamodb.GetItemInput{
		TableName: s.tableName(), Key: identityKey(identityID), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return identityRecord{}, fmt.Errorf("dynamostore: get: %w", err)
	}
	r, err := explain(out.Item, orgID)
	if err == nil && guard != nil {
		err = guard(r.permissions)
	}
	return r, err
}

// guarded adds to a request on an identity item the condition that its
// permissions are still those a guard approved in r, so that a permission
// change between the read and the write cannot slip through. names and
// values are the request's own maps; names is copied, since requests share
// their names.
func guarded(cond string, names map[string]string, values map[string]types.AttributeValue, r *identityRecord) (string, map[string]string) {
	names = withNames(names, "#perms", attrPermissions)
	if r.permsAV == nil {
		return cond + " AND attribute_not_exists(#perms)", names
	}
	values[":perms"] = r.permsAV
	return cond + " AND #perms = :perms", names
}

// permsChanged reports whether the identity item old (as a failed
// condition returned it) no longer has the permissions of r.
func permsChanged(old map[string]types.AttributeValue, r *identityRecord) bool {
	now, err := decodeIdentity(old)
	return err != nil || (now.permsAV == nil) != (r.permsAV == nil) || !slices.Equal(now.permissions, r.permissions)
}

// identityItem is the item of a newly recorded identity.
func identityItem(id identity.Identity) map[string]types.AttributeValue {
	m := identityKey(id.ID)
	m[attrIdentityID] = str(id.ID)
	m[attrOrgID] = str(id.OrgID)
	m[attrCreatedAt] = timestamp(id.CreatedAt)
	m[attrPermissions] = strList(id.Permissions)
	if id.PermissionsVersion != "" {
		m[attrPermsVersion] = str(id.PermissionsVersion)
	}
	if id.Name != "" {
		m[attrName] = str(id.Name)
	}
	return m
}

// clientItem is login's view of a configuration: what it needs to decide,
// under the client id it is given.
func clientItem(orgID string, c *uaconfig.Config, ua *types.AttributeValueMemberM) map[string]types.AttributeValue {
	m := clientKey(c.ClientID)
	m[attrIdentityID] = str(c.IdentityID)
	m[attrOrgID] = str(orgID)
	m[attrConfig] = ua
	return m
}

const notExists = "attribute_not_exists(#pk)"

var pkName = map[string]string{"#pk": AttrPK}

// RecordIdentity writes a new identity, with c attached when c is not nil,
// atomically. A known identity is left as it is: the error is
// identity.ErrExists, ErrDeleted for a tombstone, or ErrOrgMismatch if it
// was recorded in another organization.
func (s *Store) RecordIdentity(ctx context.Context, id identity.Identity, c *uaconfig.Config, actor string) error {
	items := recordItems(s.tableName(), id, c, actor)
	if len(items) == 1 {
		put := items[0].Put
		_, err := call(s, ctx, s.DB.PutItem, &dynamodb.PutItemInput{
			TableName: put.TableName, Item: put.Item,
			ConditionExpression: put.ConditionExpression, ExpressionAttributeNames: put.ExpressionAttributeNames,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if old, failed := conditionFailed(err); failed {
			return knownIdentity(old, id.OrgID)
		}
		if err != nil {
			return fmt.Errorf("dynamostore: record identity: %w", err)
		}
		return nil
	}
	canceled, err := s.transact(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err != nil {
		return fmt.Errorf("dynamostore: record identity: %w", err)
	}
	if canceled != nil {
		if err, ok := canceled.recordFailed(0, id.OrgID); ok {
			return err
		}
		if _, ok := canceled.failed(1); ok {
			return fmt.Errorf("dynamostore: record identity: client id %s is taken", c.ClientID)
		}
		return fmt.Errorf("dynamostore: record identity: transaction cancelled (%v)", canceled.codes())
	}
	return nil
}

// recordItems are the writes that record a new identity: its item, on the
// condition that it is new, and with a configuration, login's view of it.
// The identity's item comes first.
func recordItems(table *string, id identity.Identity, c *uaconfig.Config, actor string) []types.TransactWriteItem {
	it := identityItem(id)
	put := &types.Put{TableName: table, Item: it,
		ConditionExpression: aws.String(notExists), ExpressionAttributeNames: pkName,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}
	if c == nil {
		return []types.TransactWriteItem{{Put: put}}
	}
	ua := encodeConfig(c, 1)
	it[attrConfig] = ua
	it[attrActor] = str(actor)
	return []types.TransactWriteItem{{Put: put},
		{Put: &types.Put{TableName: table, Item: clientItem(id.OrgID, c, ua),
			ConditionExpression: aws.String(notExists), ExpressionAttributeNames: pkName}}}
}

// recordFailed explains a cancelled record whose identity item is item i:
// why the identity is known, if its condition failed.
func (c canceled) recordFailed(i int, orgID string) (error, bool) {
	old, failed := c.failed(i)
	if !failed {
		return nil, false
	}
	return knownIdentity(old, orgID), true
}

// maxTransactItems is TransactWriteItems' limit on items.
const maxTransactItems = 100

// maxAlone bounds the identities RecordIdentities writes at once on their
// own, when a transaction of them failed.
const maxAlone = 10

// RecordIdentities records new identities as RecordIdentity does, ids[i]
// with configs[i] (nil attaches none), and returns RecordIdentity's answer
// for each. They go in as few TransactWriteItems as its limit of 100 items
// allows, rather than one request each, so that a burst of new identities
// is written at the speed of DynamoDB's batches.
//
// A transaction is all or nothing. When it is cancelled because some of the
// identities are known already (a duplicate delivery), those get their
// answer from the cancellation, and the others go again together. When it
// fails otherwise (a throttle that outlasted the SDK's retries, a 5xx),
// each is recorded on its own, so that one that cannot be written does not
// hold back the rest.
func (s *Store) RecordIdentities(ctx context.Context, ids []identity.Identity, configs []*uaconfig.Config, actor string) []error {
	errs := make([]error, len(ids))
	// A transaction may touch an item only once: a repeated identity (the
	// same event twice in one batch) goes on its own, after the first.
	seen := make(map[string]bool, len(ids))
	var together, later []int
	for i, id := range ids {
		if seen[id.ID] {
			later = append(later, i)
			continue
		}
		seen[id.ID] = true
		together = append(together, i)
	}
	var alone []int
	for len(together) > 0 {
		// Two items for an identity with a configuration, one without.
		k, n := 0, 0
		for ; k < len(together); k++ {
			if configs[together[k]] != nil {
				n++
			}
			if n++; n > maxTransactItems {
				break
			}
		}
		alone = append(alone, s.recordTogether(ctx, ids, configs, actor, together[:k], errs)...)
		together = together[k:]
	}
	// One at a time would be slow; all at once, after a transaction that
	// just failed, would pile onto whatever made it fail.
	sem := make(chan struct{}, maxAlone)
	var wg sync.WaitGroup
	for _, i := range alone {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = s.RecordIdentity(ctx, ids[i], configs[i], actor)
		})
	}
	wg.Wait()
	for _, i := range later {
		errs[i] = s.RecordIdentity(ctx, ids[i], configs[i], actor)
	}
	return errs
}

// recordTogether writes the identities of chunk in one transaction, and
// again without those found known, until the rest is written. It returns
// those left to record on their own.
func (s *Store) recordTogether(ctx context.Context, ids []identity.Identity, configs []*uaconfig.Config, actor string, chunk []int, errs []error) []int {
	for len(chunk) > 1 {
		var items []types.TransactWriteItem
		first := make([]int, len(chunk)) // each identity's first item
		for k, i := range chunk {
			first[k] = len(items)
			items = append(items, recordItems(s.tableName(), ids[i], configs[i], actor)...)
		}
		canceled, err := s.transact(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err != nil {
			return chunk
		}
		if canceled == nil {
			return nil
		}
		var rest []int
		for k, i := range chunk {
			if err, known := canceled.recordFailed(first[k], ids[i].OrgID); known {
				errs[i] = err
				continue
			}
			rest = append(rest, i)
		}
		if len(rest) == len(chunk) { // cancelled for another reason
			return chunk
		}
		chunk = rest
	}
	return chunk
}

// knownIdentity says why an identity could not be recorded.
func knownIdentity(old map[string]types.AttributeValue, orgID string) error {
	r, err := decodeIdentity(old)
	switch {
	case err != nil:
		return err
	case r.orgID != orgID:
		return identity.ErrOrgMismatch
	case r.deleted:
		return identity.ErrDeleted
	default:
		return identity.ErrExists
	}
}

// DeleteIdentity replaces an identity, its configuration included, with a
// tombstone that DynamoDB's TTL removes after expiresAt. That one write
// kills every client secret and access token of the identity, since each
// use checks the identity item; login's view of its configuration goes in
// the same transaction. It also writes the tombstone for an identity never
// seen, so that a create delivered late cannot bring it back.
// ErrOrgMismatch if it is known in another org.
//
// It reads the identity first, to learn which view to delete, and writes on
// the condition that the identity is still as read, reading again if a
// concurrent create or attach changed it.
func (s *Store) DeleteIdentity(ctx context.Context, identityID, orgID string, deletedAt, expiresAt time.Time, actor string) error {
	for attempt := 1; ; attempt++ {
		out, err := call(s, ctx, s.DB.GetItem, &dynamodb.GetItemInput{
			TableName: s.tableName(), Key: identityKey(identityID), ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return fmt.Errorf("dynamostore: delete identity: %w", err)
		}
		tombstone := identityKey(identityID)
		tombstone[attrIdentityID] = str(identityID)
		tombstone[attrOrgID] = str(orgID)
		tombstone[attrDeleted] = boolean(true)
		tombstone[attrDeletedAt] = timestamp(deletedAt)
		tombstone[AttrExpiresAt] = num(expiresAt.Unix())
		tombstone[attrActor] = str(actor)
		put := &types.Put{TableName: s.tableName(), Item: tombstone, ExpressionAttributeNames: pkName}
		items := []types.TransactWriteItem{{Put: put}}
		if len(out.Item) == 0 {
			put.ConditionExpression = aws.String(notExists)
		} else {
			r, err := decodeIdentity(out.Item)
			switch {
			case err != nil:
				return err
			case r.orgID != orgID:
				return identity.ErrOrgMismatch
			case r.deleted:
				return nil // already
			}
			put.ExpressionAttributeNames = map[string]string{"#org": attrOrgID, "#ua": attrConfig, "#cid": cfgClientID}
			put.ExpressionAttributeValues = map[string]types.AttributeValue{":org": str(orgID)}
			put.ConditionExpression = aws.String("#org = :org AND attribute_not_exists(#ua)")
			if r.config != nil {
				clientID := r.config.str(cfgClientID)
				put.ConditionExpression = aws.String("#org = :org AND #ua.#cid = :cid")
				put.ExpressionAttributeValues[":cid"] = str(clientID)
				items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: s.tableName(), Key: clientKey(clientID)}})
			} else {
				delete(put.ExpressionAttributeNames, "#cid")
			}
		}
		canceled, err := s.transact(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err != nil {
			return fmt.Errorf("dynamostore: delete identity: %w", err)
		}
		if canceled == nil {
			return nil
		}
		if attempt == maxUpdateAttempts {
			return errors.New("dynamostore: delete identity: the identity kept changing")
		}
	}
}

// A permission change applies only to a live identity of the org, over an
// older version.
const (
	setPermissions     = "SET #perms = :perms, #pv = :pv"
	setPermissionsCond = "attribute_exists(#pk) AND attribute_not_exists(#deleted) AND #org = :org AND (attribute_not_exists(#pv) OR #pv < :pv)"
)

// SetPermissions implements provisioner.Store: one UpdateItem, whose
// failure is explained from the item returned with it.
func (s *Store) SetPermissions(ctx context.Context, id identity.Identity) error {
	_, err := call(s, ctx, s.DB.UpdateItem, &dynamodb.UpdateItemInput{
		TableName: s.tableName(), Key: identityKey(id.ID),
		UpdateExpression: aws.String(setPermissions), ConditionExpression: aws.String(setPermissionsCond),
		ExpressionAttributeNames: map[string]string{"#perms": attrPermissions, "#pv": attrPermsVersion, "#pk": AttrPK,
			"#deleted": attrDeleted, "#org": attrOrgID},
		ExpressionAttributeValues: map[string]types.AttributeValue{":perms": strList(id.Permissions),
			":pv": str(id.PermissionsVersion), ":org": str(id.OrgID)},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if old, failed := conditionFailed(err); failed {
		if len(old) == 0 {
			return identity.ErrNotRecorded
		}
		r, err := decodeIdentity(old)
		switch {
		case err != nil:
			return err
		case r.orgID != id.OrgID:
			return identity.ErrOrgMismatch
		case r.deleted:
			return identity.ErrDeleted
		default:
			return identity.ErrStale
		}
	}
	if err != nil {
		return fmt.Errorf("dynamostore: set permissions: %w", err)
	}
	return nil
}
