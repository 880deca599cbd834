package httpapi

import (
	"context"
	"net/http"

	"github.com/uauth/uauth/pkg/audit"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/metrics"
	"github.com/uauth/uauth/pkg/uaconfig"
)

// configPath is the configuration resource: an identity's Universal Auth.
const configPath = "/api/v1/auth/universal-auth/identities/{identityId}"

// Checks run in the contract's order, cheapest first, so that a refused
// request never reaches the database: token and permission (in handle),
// the path, the schema, the semantics, then the store.
func (h *handler) routeConfig() {
	h.handleOnIdentity("POST "+configPath, caller.IdentityEditAuth, "attach universal auth", h.attachConfig)
	h.handle("GET "+configPath, caller.IdentityRead, h.getConfig)
	h.handleOnIdentity("PATCH "+configPath, caller.IdentityEditAuth, "update universal auth", h.updateConfig)
	h.handleOnIdentity("DELETE "+configPath, caller.IdentityRevokeAuth, "revoke universal auth", h.revokeConfig)
	h.allow(configPath, "GET, POST, PATCH, DELETE")
}

func (h *handler) attachConfig(w http.ResponseWriter, r *http.Request, actor caller.Actor, guard identity.Guard) {
	h.changeConfig(w, r, actor, guard, h.Config.Attach, audit.ConfigAttached, "attached")
}

func (h *handler) updateConfig(w http.ResponseWriter, r *http.Request, actor caller.Actor, guard identity.Guard) {
	h.changeConfig(w, r, actor, guard, h.Config.Update, audit.ConfigUpdated, "updated")
}

// changeConfig decodes a body of settings for attach or update.
func (h *handler) changeConfig(w http.ResponseWriter, r *http.Request, actor caller.Actor, guard identity.Guard,
	apply func(ctx context.Context, orgID, identityID string, s uaconfig.Settings, actor string, guard identity.Guard) (uaconfig.Config, error),
	event, outcome string) {
	id, err := pathID(r, "identityId")
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	body, err := h.body(w, r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	s, err := uaconfig.DecodeSettings(body, id)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	c, err := apply(r.Context(), actor.OrgID, id, s, actor.ID, guard)
	decided(r, audit.Event{Event: event, IdentityID: id, OrgID: actor.OrgID, ClientID: c.ClientID}, err, metrics.ConfigChanges, outcome)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeBody(w, http.StatusOK, configJSON(&c))
}

func (h *handler) getConfig(w http.ResponseWriter, r *http.Request, actor caller.Actor) {
	id, err := pathID(r, "identityId")
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	c, err := h.Config.Get(r.Context(), actor.OrgID, id)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeBody(w, http.StatusOK, configJSON(&c))
}

// revokeConfig takes an optional body: the Terraform provider sends
// {"identityId": ...}, which must match the path.
func (h *handler) revokeConfig(w http.ResponseWriter, r *http.Request, actor caller.Actor, guard identity.Guard) {
	id, err := pathID(r, "identityId")
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	body, err := h.body(w, r)
	if err == nil {
		err = uaconfig.CheckBodyIdentity(body, id)
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	c, err := h.Config.Revoke(r.Context(), actor.OrgID, id, actor.ID, guard)
	decided(r, audit.Event{Event: audit.ConfigRevoked, IdentityID: id, OrgID: actor.OrgID, ClientID: c.ClientID}, err, metrics.ConfigChanges, "revoked")
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeBody(w, http.StatusOK, configJSON(&c))
}
