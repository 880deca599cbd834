package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"
)

// walkthrough is what make run prints once the stack is up: where things
// are, a dev token, and commands to paste, in order, into one shell. The
// commands keep what later ones need in shell variables; each prints the
// API's answer. A test runs them as printed.
type walkthrough struct {
	API, DynamoDB, DBNote, Table, Secret, Token, IdentityID, Logs string
	DevSecret, AutoAttach                                         bool
}

// step is one step of the walkthrough: what it shows, and its commands.
type step struct {
	title    string
	commands []string
}

// capture is a command that keeps curl's answer in a variable and prints it.
func capture(variable, curl string) string {
	return fmt.Sprintf(`%s=$(%s); echo "$%s"`, variable, curl, variable)
}

// extract sets variable to a string field of the JSON in another one.
func extract(variable, from, field string) string {
	return fmt.Sprintf(`%s=$(echo "$%s" | sed -E 's/.*"%s":"([^"]+)".*/\1/')`, variable, from, field)
}

func (v walkthrough) steps() []step {
	event := fmt.Sprintf(`{"version":"0","id":"%s","detail-type":"Identity Created","source":"com.example.identities","account":"000000000000","time":"%s","region":"us-east-1","resources":[],"detail":{"identityId":"%s","orgId":"%s","name":"ci-runner","permissions":["identity:read"]}}`,
		uuid.NewString(), time.Now().UTC().Format(time.RFC3339), v.IdentityID, devOrgID)
	admin := `-H "Authorization: Bearer $UAUTH_TOKEN"`
	json := `-H 'Content-Type: application/json'`
	identity := `$UAUTH/api/v1/auth/universal-auth/identities/$IDENTITY`
	config := `"` + identity + `"`
	return []step{
		{"1. As an org admin, set the defaults your org's new identities get: 1-hour tokens, used only from this machine", []string{
			fmt.Sprintf(`curl -s -X PUT "$UAUTH/api/v1/auth/universal-auth/org-defaults" %s %s -d '%s'; echo`, admin, json,
				`{"accessTokenTTL":3600,"accessTokenMaxTTL":86400,"accessTokenTrustedIps":[{"ipAddress":"127.0.0.0/8"},{"ipAddress":"::1"}]}`),
		}},
		{"2. An Identity Created event, as EventBridge delivers it through SQS; the identity may read configurations", []string{
			fmt.Sprintf(`curl -s -X POST "$UAUTH%s" %s -d '%s'`, eventsPath, json, event),
		}},
		{"3. The configuration the provisioner attached: the org's defaults. Keep its client id", []string{
			capture("CONFIG", fmt.Sprintf(`curl -s %s %s`, config, admin)),
			extract("CLIENT_ID", "CONFIG", "clientId"),
		}},
		{"4. Create a client secret (shown this once; uauth keeps only an HMAC of it)", []string{
			capture("CREATED", fmt.Sprintf(`curl -s -X POST "%s/client-secrets" %s %s -d '{"description":"walkthrough"}'`, identity, admin, json)),
			extract("CLIENT_SECRET", "CREATED", "clientSecret"),
		}},
		{"5. Log in as the machine identity, as Infisical's SDKs and CLI do", []string{
			capture("LOGIN", fmt.Sprintf(`curl -s -X POST "$UAUTH/api/v1/auth/universal-auth/login" %s -d "{\"clientId\":\"$CLIENT_ID\",\"clientSecret\":\"$CLIENT_SECRET\"}"`, json)),
			extract("ACCESS_TOKEN", "LOGIN", "accessToken"),
		}},
		{"6. Call the API with the identity's own token", []string{
			fmt.Sprintf(`curl -s %s -H "Authorization: Bearer $ACCESS_TOKEN"; echo`, config),
		}},
		{"7. Call another API with it: the demo protected API, through uauth's Lambda authorizer as API Gateway calls it", []string{
			`curl -s "$UAUTH/_local/protected/orders" -H "Authorization: Bearer $ACCESS_TOKEN"; echo`,
		}},
		{"8. Introspect it (RFC 7662), as a resource server with token:introspect; client_ip is where its bearer called from", []string{
			fmt.Sprintf(`curl -s -X POST "$UAUTH/api/v1/auth/token/introspect" %s --data-urlencode "token=$ACCESS_TOKEN" -d client_ip=127.0.0.1; echo`, admin),
		}},
		{"9. A second later, renew it, and introspect the new token: the same jti, an exp one second later", []string{
			`sleep 1`,
			capture("RENEWED", fmt.Sprintf(`curl -s -X POST "$UAUTH/api/v1/auth/token/renew" %s -d "{\"accessToken\":\"$ACCESS_TOKEN\"}"`, json)),
			extract("ACCESS_TOKEN", "RENEWED", "accessToken"),
			fmt.Sprintf(`curl -s -X POST "$UAUTH/api/v1/auth/token/introspect" %s --data-urlencode "token=$ACCESS_TOKEN" -d client_ip=127.0.0.1; echo`, admin),
		}},
		{"10. Revoke it, and see the API, the protected API and introspection refuse it", []string{
			fmt.Sprintf(`curl -s -X POST "$UAUTH/api/v1/auth/token/revoke" %s -d "{\"accessToken\":\"$ACCESS_TOKEN\"}"; echo`, json),
			fmt.Sprintf(`curl -s %s -H "Authorization: Bearer $ACCESS_TOKEN"; echo`, config),
			`curl -s "$UAUTH/_local/protected/orders" -H "Authorization: Bearer $ACCESS_TOKEN"; echo`,
			fmt.Sprintf(`curl -s -X POST "$UAUTH/api/v1/auth/token/introspect" %s --data-urlencode "token=$ACCESS_TOKEN" -d client_ip=127.0.0.1; echo`, admin),
		}},
		{"11. What it all counted, as CloudWatch would extract it from the EMF lines in " + v.Logs + " (beside the audit trail)", []string{
			`curl -s "$UAUTH/_local/metrics"; echo`,
		}},
	}
}

func printWalkthrough(w io.Writer, v walkthrough) {
	secretLine := "from AUTH_SECRET (not shown)"
	if v.DevSecret {
		secretLine = v.Secret + " (dev default; set AUTH_SECRET to choose one)"
	}
	lines := []string{
		"",
		"uauth local stack is up",
		"  API          " + v.API,
		"  DynamoDB     " + v.DynamoDB + " (" + v.DBNote + ")",
		"  Table        " + v.Table,
		"  Auth secret  " + secretLine,
		"  Dev org      " + devOrgID,
		"  Dev token    org:admin for the dev org, valid 12h (UAUTH_TOKEN below)",
		"",
		"Walkthrough: paste these into one shell, in order (they need curl and sed).",
		"Change events of what it does appear below as JSON lines, as uauth publishes them to EventBridge.",
		"",
		fmt.Sprintf("export UAUTH=%s IDENTITY=%s UAUTH_TOKEN='%s'", v.API, v.IdentityID, v.Token),
	}
	for _, s := range v.steps() {
		lines = append(lines, "", "# "+s.title)
		lines = append(lines, s.commands...)
	}
	lines = append(lines, "",
		"More tokens:  make token ARGS='--permissions identity:read'  (with the same AUTH_SECRET as this stack)",
		"Ctrl-C stops the API and DynamoDB Local.",
		"",
	)
	fmt.Fprintln(w, strings.Join(lines, "\n"))
}
