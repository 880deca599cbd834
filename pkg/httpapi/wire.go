package httpapi

import (
	"time"

	"github.com/uauth/uauth/pkg/universalauth"
)

// timeFormat is RFC 3339 in UTC with milliseconds, as Infisical sends it.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

type configResponse struct {
	IdentityUniversalAuth wireConfig `json:"identityUniversalAuth"`
}

// wireConfig is a configuration as clients see it; field order follows
// Infisical's responses.
type wireConfig struct {
	ID                         string   `json:"id"`
	ClientID                   string   `json:"clientId"`
	IdentityID                 string   `json:"identityId"`
	AccessTokenTTL             int64    `json:"accessTokenTTL"`
	AccessTokenMaxTTL          int64    `json:"accessTokenMaxTTL"`
	AccessTokenNumUsesLimit    int64    `json:"accessTokenNumUsesLimit"`
	AccessTokenPeriod          int64    `json:"accessTokenPeriod"`
	ClientSecretTrustedIPs     []wireIP `json:"clientSecretTrustedIps"`
	AccessTokenTrustedIPs      []wireIP `json:"accessTokenTrustedIps"`
	LockoutEnabled             bool     `json:"lockoutEnabled"`
	LockoutThreshold           int64    `json:"lockoutThreshold"`
	LockoutDurationSeconds     int64    `json:"lockoutDurationSeconds"`
	LockoutCounterResetSeconds int64    `json:"lockoutCounterResetSeconds"`
	CreatedAt                  string   `json:"createdAt"`
	UpdatedAt                  string   `json:"updatedAt"`
}

// wireIP omits prefix for a plain address: see universalauth.TrustedIP.
type wireIP struct {
	Address string `json:"ipAddress"`
	Type    string `json:"type"`
	Prefix  *int   `json:"prefix,omitempty"`
}

func toWire(c universalauth.Config) configResponse {
	return configResponse{wireConfig{
		ID:                         c.ID,
		ClientID:                   c.ClientID,
		IdentityID:                 c.IdentityID,
		AccessTokenTTL:             c.AccessTokenTTL,
		AccessTokenMaxTTL:          c.AccessTokenMaxTTL,
		AccessTokenNumUsesLimit:    c.AccessTokenNumUsesLimit,
		AccessTokenPeriod:          c.AccessTokenPeriod,
		ClientSecretTrustedIPs:     toWireIPs(c.ClientSecretTrustedIPs),
		AccessTokenTrustedIPs:      toWireIPs(c.AccessTokenTrustedIPs),
		LockoutEnabled:             c.LockoutEnabled,
		LockoutThreshold:           c.LockoutThreshold,
		LockoutDurationSeconds:     c.LockoutDurationSeconds,
		LockoutCounterResetSeconds: c.LockoutCounterResetSeconds,
		CreatedAt:                  formatTime(c.CreatedAt),
		UpdatedAt:                  formatTime(c.UpdatedAt),
	}}
}

func toWireIPs(ips []universalauth.TrustedIP) []wireIP {
	out := make([]wireIP, len(ips))
	for i, ip := range ips {
		out[i] = wireIP(ip)
	}
	return out
}

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }
