package httpapi

import (
	"net/http"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/uauth/uauth/pkg/audit"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/orgdefaults"
)

const orgDefaultsPath = "/api/v1/auth/universal-auth/org-defaults"

// The org is the caller's: an admin manages their own org's defaults.
func (h *handler) routeOrgDefaults() {
	h.handle("GET "+orgDefaultsPath, caller.IdentityRead, h.getOrgDefaults)
	h.handle("PUT "+orgDefaultsPath, caller.OrgAdmin, h.putOrgDefaults)
	h.handle("DELETE "+orgDefaultsPath, caller.OrgAdmin, h.deleteOrgDefaults)
	h.allow(orgDefaultsPath, "GET, PUT, DELETE")
}

// orgDefaultsJSON is {"orgDefaults": {...fields, autoAttach, source,
// updatedAt}}; updatedAt is null for the deployment's defaults.
func orgDefaultsJSON(d *orgdefaults.Defaults) []byte {
	tokens := append(newTokens(), jsontext.BeginObject, jsontext.String("orgDefaults"), jsontext.BeginObject)
	tokens = appendFields(tokens, &d.Config)
	updated := jsontext.Null
	if !d.UpdatedAt.IsZero() {
		updated = jsontext.String(formatTime(d.UpdatedAt))
	}
	tokens = append(tokens,
		jsontext.String("autoAttach"), jsontext.Bool(d.AutoAttach),
		jsontext.String("source"), jsontext.String(d.Source),
		jsontext.String("updatedAt"), updated,
		jsontext.EndObject, jsontext.EndObject)
	return encodeTokens(tokens)
}

func (h *handler) getOrgDefaults(w http.ResponseWriter, r *http.Request, actor caller.Actor) {
	d, err := h.OrgDefaults.Get(r.Context(), actor.OrgID)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeBody(w, http.StatusOK, orgDefaultsJSON(&d))
}

func (h *handler) putOrgDefaults(w http.ResponseWriter, r *http.Request, actor caller.Actor) {
	body, err := h.body(w, r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	// A body refused by its decoder is answered before any decision, as
	// on the other routes: not audited.
	settings, autoAttach, err := orgdefaults.Decode(body)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	d, err := h.OrgDefaults.Put(r.Context(), actor.OrgID, settings, autoAttach, actor.ID)
	decided(r, audit.Event{Event: audit.OrgDefaultsChanged, OrgID: actor.OrgID}, err, nil, "")
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeBody(w, http.StatusOK, orgDefaultsJSON(&d))
}

func (h *handler) deleteOrgDefaults(w http.ResponseWriter, r *http.Request, actor caller.Actor) {
	d, err := h.OrgDefaults.Delete(r.Context(), actor.OrgID, actor.ID)
	decided(r, audit.Event{Event: audit.OrgDefaultsChanged, OrgID: actor.OrgID}, err, nil, "")
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeBody(w, http.StatusOK, orgDefaultsJSON(&d))
}
