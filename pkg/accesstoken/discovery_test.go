package accesstoken_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uauth/uauth/pkg/accesstoken"
	"github.com/uauth/uauth/pkg/keyring"
	"github.com/uauth/uauth/pkg/testkeys"
	"github.com/uauth/uauth/pkg/uaconfig"
)

// TestDiscoveryNamesEveryClaimTheTokensCarry.
func TestDiscoveryNamesEveryClaimTheTokensCarry(t *testing.T) {
	ring, err := keyring.New(context.Background(), keyring.Static(testkeys.SigningKeyPEM()), accesstoken.ParseSigningKey)
	if err != nil {
		t.Fatal(err)
	}
	c := uaconfig.InfisicalDefaults()
	issued, _, err := accesstoken.NewSigner(ring, "uauth").Issue(context.Background(), "https://uauth.example",
		accesstoken.Grant{IdentityID: "i", OrgID: "o", ClientID: "c", ClientSecretID: "s", JTI: "j", AuthTime: time.Now(), NumUsesLimit: 3}, &c, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(issued.AccessToken, ".")[1])
	var claims map[string]any
	_ = json.Unmarshal(payload, &claims)
	b, _ := accesstoken.Discovery("https://uauth.example")
	var doc struct {
		Claims        []string `json:"claims_supported"`
		Introspection string   `json:"introspection_endpoint"`
	}
	_ = json.Unmarshal(b, &doc)
	for name := range claims {
		if !slices.Contains(doc.Claims, name) {
			t.Errorf("the tokens carry %s, which claims_supported does not name", name)
		}
	}
	if len(claims) != len(doc.Claims) || doc.Introspection != "https://uauth.example/api/v1/auth/token/introspect" {
		t.Errorf("claims %v, discovery %+v", claims, doc)
	}
}
