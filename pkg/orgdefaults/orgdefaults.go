// Package orgdefaults holds each organization's default Universal Auth
// configuration, and the rule for which configuration a new identity gets:
//
//  1. the event's own detail.universalAuth, if it carries one: an object of
//     attach fields (over the org's defaults, else the deployment's), or
//     false to attach nothing;
//  2. otherwise the org's defaults, if an admin set them, unless they say
//     autoAttach: false;
//  3. otherwise the deployment's (DEFAULT_UA_CONFIG over Infisical's), unless
//     AUTO_ATTACH is false.
package orgdefaults

import (
	"context"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/uauth/uauth/pkg/strictjson"
	"github.com/uauth/uauth/pkg/uaconfig"
	"github.com/uauth/uauth/pkg/validation"
)

// Sources of defaults.
const (
	SourceDeployment = "deployment"
	SourceOrg        = "org"
)

// Defaults is an organization's default configuration: the fields a new
// identity's configuration takes, and whether one is attached at all.
type Defaults struct {
	// Config holds the fields; its ids and timestamps are unused.
	Config     uaconfig.Config
	AutoAttach bool
	Source     string
	UpdatedAt  time.Time // zero for the deployment's
}

// Store persists organizations' defaults.
type Store interface {
	// OrgDefaults returns the org's defaults, or nil if none are set.
	OrgDefaults(ctx context.Context, orgID string) (*Defaults, error)
	// OrgDefaultsBatch returns the defaults of those of orgIDs (which may
	// repeat) that set some, in as few requests as it can; bad holds the
	// orgs whose defaults could not be read back.
	OrgDefaultsBatch(ctx context.Context, orgIDs []string) (found map[string]*Defaults, bad map[string]error, err error)
	PutOrgDefaults(ctx context.Context, orgID string, d Defaults, actor string) error
	// DeleteOrgDefaults removes them; deleting none is not an error.
	DeleteOrgDefaults(ctx context.Context, orgID, actor string) error
}

// Service manages organizations' defaults.
type Service struct {
	Store Store
	// Deployment are the defaults of an org that set none.
	Deployment Defaults
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Deployment returns the deployment's defaults: base with autoAttach.
func Deployment(base uaconfig.Config, autoAttach bool) Defaults {
	return Defaults{Config: base, AutoAttach: autoAttach, Source: SourceDeployment}
}

// Get returns the org's effective defaults.
func (s *Service) Get(ctx context.Context, orgID string) (Defaults, error) {
	d, err := s.Store.OrgDefaults(ctx, orgID)
	if err != nil || d == nil {
		return s.Deployment, err
	}
	return *d, nil
}

// GetBatch returns the effective defaults of each of orgIDs, read
// together: what a batch of events for several orgs needs. An org whose
// defaults could not be read back is in bad, with why, and not in all.
func (s *Service) GetBatch(ctx context.Context, orgIDs []string) (all map[string]Defaults, bad map[string]error, err error) {
	found, bad, err := s.Store.OrgDefaultsBatch(ctx, orgIDs)
	if err != nil {
		return nil, nil, err
	}
	all = make(map[string]Defaults, len(orgIDs))
	for _, org := range orgIDs {
		if bad[org] != nil {
			continue
		}
		all[org] = s.Deployment
		if d := found[org]; d != nil {
			all[org] = *d
		}
	}
	return all, bad, nil
}

// Put replaces the org's defaults with settings (a body read by Decode), as
// a whole: a field left out takes the deployment's default. The TTL rule
// is checked on the result (400).
func (s *Service) Put(ctx context.Context, orgID string, settings uaconfig.Settings, autoAttach bool, actor string) (Defaults, error) {
	c := settings.Apply(s.Deployment.Config)
	if err := uaconfig.CheckTTL(c.AccessTokenTTL, c.AccessTokenMaxTTL); err != nil {
		return Defaults{}, err
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	d := Defaults{Config: c, AutoAttach: autoAttach, Source: SourceOrg, UpdatedAt: uaconfig.WireTime(now())}
	if err := s.Store.PutOrgDefaults(ctx, orgID, d, actor); err != nil {
		return Defaults{}, err
	}
	return d, nil
}

// Delete removes the org's defaults and returns the deployment's, which
// apply again.
func (s *Service) Delete(ctx context.Context, orgID, actor string) (Defaults, error) {
	if err := s.Store.DeleteOrgDefaults(ctx, orgID, actor); err != nil {
		return Defaults{}, err
	}
	return s.Deployment, nil
}

// Decode reads a defaults body, in one pass: the attach fields, validated
// by the same code as an attach body (422 for the schema, 400 for the IP
// rules), and autoAttach (default true).
func Decode(body []byte) (uaconfig.Settings, bool, error) {
	autoAttach := true
	settings, err := uaconfig.DecodeSettingsWith(body, "", func(o *strictjson.Object, name string) error {
		if name != "autoAttach" {
			return o.Skip()
		}
		b, ok, err := o.Bool(name)
		if ok {
			autoAttach = b
		}
		return err
	})
	return settings, autoAttach, err
}

// Choice is the configuration a new identity gets.
type Choice struct {
	// Attach is false when nothing is to be attached.
	Attach bool
	// Defaults are what the configuration is built from.
	Defaults uaconfig.Config
	// Why says where the choice came from, for the log.
	Why string
}

// Choose applies the rule of the package comment to the org's effective
// defaults d (from Get). override is the event's detail.universalAuth: nil
// when absent or null. An invalid override is an error (a poison event),
// never a silent fall back to the defaults.
func Choose(d Defaults, identityID string, override jsontext.Value) (Choice, error) {
	switch {
	case len(override) == 0 || override.Kind() == 'n':
		return Choice{Attach: d.AutoAttach, Defaults: d.Config, Why: d.Source + " defaults"}, nil
	case override.Kind() == 'f':
		return Choice{Why: "the event's universalAuth: false"}, nil
	case override.Kind() != '{':
		return Choice{}, validation.Invalid("universalAuth", "expected an object of attach fields, or false")
	}
	settings, err := uaconfig.DecodeSettings(override, identityID)
	if err != nil {
		return Choice{}, err
	}
	c := settings.Apply(d.Config)
	if err := uaconfig.CheckTTL(c.AccessTokenTTL, c.AccessTokenMaxTTL); err != nil {
		return Choice{}, err
	}
	return Choice{Attach: true, Defaults: c, Why: "the event's universalAuth over the " + d.Source + " defaults"}, nil
}
