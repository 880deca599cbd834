package httpapi

import (
	"net/http"

	"github.com/uauth/uauth/pkg/audit"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/clientsecret"
	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/metrics"
	"github.com/uauth/uauth/pkg/uaconfig"
)

const (
	secretsPath   = configPath + "/client-secrets"
	secretPath    = secretsPath + "/{clientSecretId}"
	revokePath    = secretPath + "/revoke"
	lockoutsPath  = configPath + "/clear-lockouts"
	secretMethods = "GET, POST"
)

func (h *handler) routeClientSecrets() {
	h.handleOnIdentity("POST "+secretsPath, caller.IdentityEditAuth, "create client secret", h.createSecret)
	h.handleOnIdentity("GET "+secretsPath, caller.IdentityRead, "list client secrets", h.listSecrets)
	h.allow(secretsPath, secretMethods)
	h.handleOnIdentity("GET "+secretPath, caller.IdentityRead, "read client secret", h.getSecret)
	h.allow(secretPath, "GET")
	h.handleOnIdentity("POST "+revokePath, caller.IdentityRevokeAuth, "revoke client secret", h.revokeSecret)
	h.allow(revokePath, "POST")
	h.handleOnIdentity("POST "+lockoutsPath, caller.IdentityEditAuth, "clear lockouts", h.clearLockouts)
	h.allow(lockoutsPath, "POST")
}

// secretJSON is clientSecretData as Infisical sends it.
type secretJSON struct {
	ID                       string `json:"id"`
	CreatedAt                string `json:"createdAt"`
	UpdatedAt                string `json:"updatedAt"`
	Description              string `json:"description"`
	ClientSecretPrefix       string `json:"clientSecretPrefix"`
	ClientSecretNumUses      int64  `json:"clientSecretNumUses"`
	ClientSecretNumUsesLimit int64  `json:"clientSecretNumUsesLimit"`
	ClientSecretTTL          int64  `json:"clientSecretTTL"`
	IdentityUAID             string `json:"identityUAId"`
	IsClientSecretRevoked    bool   `json:"isClientSecretRevoked"`
}

// writeSecretData answers {"clientSecretData": s}, as get and revoke do.
func writeSecretData(w http.ResponseWriter, s *clientsecret.Secret) {
	writeJSON(w, http.StatusOK, struct {
		ClientSecretData secretJSON `json:"clientSecretData"`
	}{toSecretJSON(s)})
}

func toSecretJSON(s *clientsecret.Secret) secretJSON {
	return secretJSON{
		ID: s.ID, CreatedAt: formatTime(s.CreatedAt), UpdatedAt: formatTime(s.UpdatedAt), Description: s.Description,
		ClientSecretPrefix: s.Prefix, ClientSecretNumUses: s.NumUses, ClientSecretNumUsesLimit: s.NumUsesLimit,
		ClientSecretTTL: s.TTL, IdentityUAID: s.ConfigID, IsClientSecretRevoked: s.Revoked,
	}
}

func (h *handler) createSecret(w http.ResponseWriter, r *http.Request, actor caller.Actor, guard identity.Guard) {
	id, err := pathID(r, "identityId")
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	var in clientsecret.CreateRequest
	body, err := h.body(w, r)
	if err == nil {
		in, err = clientsecret.DecodeCreate(body, id)
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	secret, s, err := h.Secrets.Create(r.Context(), actor.OrgID, id, in, actor.ID, guard)
	decided(r, audit.Event{Event: audit.SecretCreated, IdentityID: id, OrgID: actor.OrgID, ClientID: s.ClientID, SecretID: s.ID},
		err, metrics.ClientSecretChanges, "created")
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		ClientSecret     string     `json:"clientSecret"`
		ClientSecretData secretJSON `json:"clientSecretData"`
	}{secret, toSecretJSON(&s)})
}

func (h *handler) listSecrets(w http.ResponseWriter, r *http.Request, actor caller.Actor, guard identity.Guard) {
	id, err := pathID(r, "identityId")
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	list, err := h.Secrets.List(r.Context(), actor.OrgID, id, guard)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	out := make([]secretJSON, len(list))
	for i := range list {
		out[i] = toSecretJSON(&list[i])
	}
	writeJSON(w, http.StatusOK, struct {
		ClientSecretData []secretJSON `json:"clientSecretData"`
	}{out})
}

// secretIDs returns the path's identity and secret ids.
func secretIDs(r *http.Request) (string, string, error) {
	id, err := pathID(r, "identityId")
	if err != nil {
		return "", "", err
	}
	secretID, err := pathID(r, "clientSecretId")
	return id, secretID, err
}

func (h *handler) getSecret(w http.ResponseWriter, r *http.Request, actor caller.Actor, guard identity.Guard) {
	id, secretID, err := secretIDs(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	s, err := h.Secrets.Get(r.Context(), actor.OrgID, id, secretID, guard)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeSecretData(w, &s)
}

// revokeSecret takes an optional body: the Terraform provider sends
// {"identityId", "clientSecretId"}, which must match the path.
func (h *handler) revokeSecret(w http.ResponseWriter, r *http.Request, actor caller.Actor, guard identity.Guard) {
	id, secretID, err := secretIDs(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	var in map[string]string
	body, err := h.body(w, r)
	if err == nil {
		in, err = stringMembers(body, "identityId", "clientSecretId")
	}
	if err == nil {
		err = matchesPath(in, "identityId", id)
	}
	if err == nil {
		err = matchesPath(in, "clientSecretId", secretID)
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	s, err := h.Secrets.Revoke(r.Context(), actor.OrgID, id, secretID, actor.ID, guard)
	decided(r, audit.Event{Event: audit.SecretRevoked, IdentityID: id, OrgID: actor.OrgID, ClientID: s.ClientID, SecretID: secretID},
		err, metrics.ClientSecretChanges, "revoked")
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeSecretData(w, &s)
}

// clearLockouts takes an optional body, under the same cap as every
// route's, and an identityId in it must match the path.
func (h *handler) clearLockouts(w http.ResponseWriter, r *http.Request, actor caller.Actor, guard identity.Guard) {
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
	n, err := h.Login.ClearLockouts(r.Context(), actor.OrgID, id, guard)
	decided(r, audit.Event{Event: audit.LockoutsCleared, IdentityID: id, OrgID: actor.OrgID}, err, nil, "")
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Deleted int `json:"deleted"`
	}{n})
}
