// Package changes turns the table's DynamoDB stream into auth-method change
// events, for audit, SIEM and chat-ops systems: every attach, update and
// revoke of an identity's Universal Auth, by the API or the provisioner,
// and every client secret created or revoked.
//
// The stream is the source, not the code that writes: a crash between a
// write and its publication loses nothing, since the stream holds the write
// until it is published. The writer records who made the change on the
// item ("actor"), so that the stream carries it. Publication is at least
// once: a retried batch may publish an event again.
package changes

import (
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// DetailType is the detail-type of every change event.
const DetailType = "Identity Auth Method Changed"

// AuthMethod is the auth method uauth implements.
const AuthMethod = "universal-auth"

// Kinds of change.
const (
	Added             = "added"
	Updated           = "updated"
	Removed           = "removed"
	CredentialAdded   = "credential-added"
	CredentialRevoked = "credential-revoked"
)

// Change is one change event's detail. It never carries a secret or its
// hash.
type Change struct {
	IdentityID string `json:"identityId"`
	OrgID      string `json:"orgId"`
	AuthMethod string `json:"authMethod"`
	Change     string `json:"change"`
	Actor      string `json:"actor"`
	At         string `json:"at"`
}

// image is one side of a stream record, with forgiving accessors: a
// missing or mistyped attribute reads as empty.
type image map[string]events.DynamoDBAttributeValue

func (im image) str(name string) string {
	if v, ok := im[name]; ok && v.DataType() == events.DataTypeString {
		return v.String()
	}
	return ""
}

func (im image) has(name string) bool { _, ok := im[name]; return ok }

func (im image) sub(name string) image {
	if v, ok := im[name]; ok && v.DataType() == events.DataTypeMap {
		return image(v.Map())
	}
	return nil
}

func (im image) num(name string) string {
	if v, ok := im[name]; ok && v.DataType() == events.DataTypeNumber {
		return v.Number()
	}
	return ""
}

// FromRecord returns the change a stream record is, if it is one. Records
// of other items (login's views, lockouts, token records, organization
// defaults) and changes that are not auth-method changes (permissions, use
// counts) are none.
func FromRecord(rec events.DynamoDBEventRecord) (Change, bool) {
	keys := image(rec.Change.Keys)
	oldIm, newIm := image(rec.Change.OldImage), image(rec.Change.NewImage)
	streamTime := rec.Change.ApproximateCreationDateTime.UTC().Format(time.RFC3339)
	sk := keys.str("sk")
	switch {
	case sk == "IDENTITY":
		before, after := oldIm.sub("ua"), newIm.sub("ua")
		c := Change{IdentityID: firstOf(newIm.str("identityId"), oldIm.str("identityId")), OrgID: firstOf(newIm.str("orgId"), oldIm.str("orgId")),
			AuthMethod: AuthMethod, Actor: newIm.str("actor")}
		switch {
		case before == nil && after != nil:
			c.Change, c.At = Added, firstOf(after.str("createdAt"), streamTime)
		case before != nil && after == nil:
			// A tombstone says when the identity was deleted; a revoke,
			// when the configuration was removed. The stream's own time
			// is a fallback: DynamoDB Local rounds it to the minute.
			c.Change, c.At = Removed, firstOf(newIm.str("deletedAt"), newIm.str("removedAt"), streamTime)
			if rec.EventName == "REMOVE" { // not a write of ours: TTL removed it
				c.Actor = "expiry"
			}
		case before != nil && after != nil && before.num("rev") != after.num("rev"):
			c.Change, c.At = Updated, firstOf(after.str("updatedAt"), streamTime)
		default:
			return Change{}, false
		}
		c.At = normalTime(c.At)
		return c, true
	case strings.HasPrefix(sk, "SECRET#"):
		c := Change{IdentityID: firstOf(newIm.str("identityId"), oldIm.str("identityId")), OrgID: firstOf(newIm.str("orgId"), oldIm.str("orgId")),
			AuthMethod: AuthMethod, Actor: newIm.str("actor")}
		switch {
		case rec.EventName == "INSERT":
			c.Change, c.At = CredentialAdded, firstOf(newIm.str("createdAt"), streamTime)
		case !oldIm.has("revokedAt") && newIm.has("revokedAt"):
			c.Change, c.At = CredentialRevoked, firstOf(newIm.str("revokedAt"), streamTime)
		default:
			return Change{}, false
		}
		c.At = normalTime(c.At)
		return c, true
	}
	return Change{}, false
}

// TimeFormat is the format of a change's "at": UTC, in milliseconds.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// normalTime writes an item's RFC 3339 time (stored with as many
// fractional digits as it has) as TimeFormat; one it cannot read stays as
// it is.
func normalTime(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.UTC().Format(TimeFormat)
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
