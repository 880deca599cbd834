package dynamostore

import (
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/uauth/uauth/pkg/uaconfig"
)

// Items are built and read directly, attribute by attribute, rather than
// through attributevalue's reflection: the hot paths then allocate little,
// and the stored names come from one place (uaconfig.Fields and the
// constants below).

// Attributes of the stored configuration map ("ua"), beside the fields of
// uaconfig.Fields, which are stored under their wire names.
const (
	attrConfig    = "ua"
	cfgID         = "id"
	cfgClientID   = "clientId"
	cfgCreatedAt  = "createdAt"
	cfgUpdatedAt  = "updatedAt"
	cfgRevision   = "rev"    // counts writes, for read-modify-write updates
	cfgTokenNets  = "atNets" // accessTokenTrustedIps as masked CIDRs, for conditions (uaconfig.TrustedIPs.Nets)
	ipAddressAttr = "ipAddress"
	ipTypeAttr    = "type"
	ipPrefixAttr  = "prefix"
)

func str(s string) *types.AttributeValueMemberS { return &types.AttributeValueMemberS{Value: s} }
func num(n int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
func boolean(b bool) *types.AttributeValueMemberBOOL {
	return &types.AttributeValueMemberBOOL{Value: b}
}
func timestamp(t time.Time) *types.AttributeValueMemberS {
	return str(t.UTC().Format(time.RFC3339Nano))
}

func strList(list []string) *types.AttributeValueMemberL {
	l := make([]types.AttributeValue, len(list))
	for i, s := range list {
		l[i] = str(s)
	}
	return &types.AttributeValueMemberL{Value: l}
}

// item is a decoded item with typed accessors; a missing or mistyped
// attribute reads as the zero value, and err records the first mistyped.
type item struct {
	m   map[string]types.AttributeValue
	err error
}

func (it *item) bad(name string, av types.AttributeValue) {
	if it.err == nil {
		it.err = fmt.Errorf("attribute %s: unexpected %T", name, av)
	}
}

func (it *item) has(name string) bool { _, ok := it.m[name]; return ok }

func (it *item) str(name string) string {
	switch v := it.m[name].(type) {
	case nil:
	case *types.AttributeValueMemberS:
		return v.Value
	default:
		it.bad(name, v)
	}
	return ""
}

func (it *item) num(name string) int64 {
	switch v := it.m[name].(type) {
	case nil:
	case *types.AttributeValueMemberN:
		n, err := strconv.ParseInt(v.Value, 10, 64)
		if err != nil && it.err == nil {
			it.err = fmt.Errorf("attribute %s: %w", name, err)
		}
		return n
	default:
		it.bad(name, v)
	}
	return 0
}

func (it *item) bool(name string) bool {
	switch v := it.m[name].(type) {
	case nil:
	case *types.AttributeValueMemberBOOL:
		return v.Value
	default:
		it.bad(name, v)
	}
	return false
}

func (it *item) time(name string) time.Time {
	s := it.str(name)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil && it.err == nil {
		it.err = fmt.Errorf("attribute %s: %w", name, err)
	}
	return t
}

func (it *item) strs(name string) []string {
	switch v := it.m[name].(type) {
	case nil:
	case *types.AttributeValueMemberL:
		out := make([]string, len(v.Value))
		for i, e := range v.Value {
			if s, ok := e.(*types.AttributeValueMemberS); ok {
				out[i] = s.Value
			} else {
				it.bad(name, e)
			}
		}
		return out
	default:
		it.bad(name, v)
	}
	return nil
}

// sub returns a nested map attribute, or nil.
func (it *item) sub(name string) *item {
	switch v := it.m[name].(type) {
	case nil:
	case *types.AttributeValueMemberM:
		return &item{m: v.Value}
	default:
		it.bad(name, v)
	}
	return nil
}

// encodeConfig is the stored form of a configuration: a map of its ids,
// timestamps, revision and every field of uaconfig.Fields.
func encodeConfig(c *uaconfig.Config, rev int64) *types.AttributeValueMemberM {
	m := encodeFields(c, 6)
	m[cfgID] = str(c.ID)
	m[cfgClientID] = str(c.ClientID)
	m[cfgCreatedAt] = timestamp(c.CreatedAt)
	m[cfgUpdatedAt] = timestamp(c.UpdatedAt)
	m[cfgRevision] = num(rev)
	m[cfgTokenNets] = &types.AttributeValueMemberSS{Value: c.AccessTokenTrustedIPs.Nets()}
	return &types.AttributeValueMemberM{Value: m}
}

// encodeFields is every field of uaconfig.Fields, under its wire name, in a
// map with room for extra more attributes.
func encodeFields(c *uaconfig.Config, extra int) map[string]types.AttributeValue {
	m := make(map[string]types.AttributeValue, len(uaconfig.Fields)+extra)
	for i := range uaconfig.Fields {
		f := &uaconfig.Fields[i]
		switch f.Kind {
		case uaconfig.Int:
			m[f.Name] = num(*f.IntOf(c))
		case uaconfig.Bool:
			m[f.Name] = boolean(*f.BoolOf(c))
		case uaconfig.IPList:
			m[f.Name] = encodeIPs(*f.IPsOf(c))
		}
	}
	return m
}

func encodeIPs(ips uaconfig.TrustedIPs) *types.AttributeValueMemberL {
	l := make([]types.AttributeValue, len(ips))
	for i, ip := range ips {
		m := map[string]types.AttributeValue{ipAddressAttr: str(ip.Address), ipTypeAttr: str(ip.Type)}
		if ip.Prefix != nil {
			m[ipPrefixAttr] = num(int64(*ip.Prefix))
		}
		l[i] = &types.AttributeValueMemberM{Value: m}
	}
	return &types.AttributeValueMemberL{Value: l}
}

// decodeConfig reads a stored configuration map, and its revision.
func decodeConfig(ua *item, identityID string) (uaconfig.Config, int64, error) {
	c := uaconfig.Config{
		ID:         ua.str(cfgID),
		ClientID:   ua.str(cfgClientID),
		IdentityID: identityID,
		CreatedAt:  ua.time(cfgCreatedAt),
		UpdatedAt:  ua.time(cfgUpdatedAt),
	}
	rev := ua.num(cfgRevision)
	decodeFields(ua, &c)
	if ua.err != nil {
		return uaconfig.Config{}, 0, fmt.Errorf("dynamostore: decoding configuration: %w", ua.err)
	}
	return c, rev, nil
}

// decodeFields reads every field of uaconfig.Fields into c.
func decodeFields(ua *item, c *uaconfig.Config) {
	for i := range uaconfig.Fields {
		f := &uaconfig.Fields[i]
		switch f.Kind {
		case uaconfig.Int:
			*f.IntOf(c) = ua.num(f.Name)
		case uaconfig.Bool:
			*f.BoolOf(c) = ua.bool(f.Name)
		case uaconfig.IPList:
			*f.IPsOf(c) = decodeIPs(ua, f.Name)
		}
	}
}

func decodeIPs(ua *item, name string) uaconfig.TrustedIPs {
	l, ok := ua.m[name].(*types.AttributeValueMemberL)
	if !ok {
		ua.bad(name, ua.m[name])
		return nil
	}
	out := make(uaconfig.TrustedIPs, len(l.Value))
	for i, e := range l.Value {
		m, ok := e.(*types.AttributeValueMemberM)
		if !ok {
			ua.bad(name, e)
			continue
		}
		entry := &item{m: m.Value}
		out[i] = uaconfig.TrustedIP{Address: entry.str(ipAddressAttr), Type: entry.str(ipTypeAttr)}
		if entry.has(ipPrefixAttr) {
			p := int(entry.num(ipPrefixAttr))
			out[i].Prefix = &p
		}
		if entry.err != nil && ua.err == nil {
			ua.err = entry.err
		}
	}
	return out
}
