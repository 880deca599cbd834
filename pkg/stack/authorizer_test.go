package stack

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// authorizerExport is the name, an unevaluated Fn::Sub, under which the
// main template exports the authorizer's ARN.
func authorizerExport(t *testing.T) string {
	t.Helper()
	tmpl, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := tmpl["Outputs"].(map[string]any)["AuthorizerFunctionArn"].(map[string]any)
	if out == nil || !reflect.DeepEqual(out["Value"], map[string]any{"Fn::GetAtt": []any{"AuthorizerFunction", "Arn"}}) {
		t.Fatalf("AuthorizerFunctionArn output = %v, want the authorizer's ARN", out)
	}
	export, _ := out["Export"].(map[string]any)
	name, _ := export["Name"].(map[string]any)["Fn::Sub"].(string)
	if !strings.Contains(name, "${AWS::StackName}") {
		t.Fatalf("AuthorizerFunctionArn export = %v, want a name per stack (${AWS::StackName})", export)
	}
	return name
}

// caching returns the lines of a template that set an authorizer cache
// to anything but 0.
func caching(t *testing.T, path string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, line := range strings.Split(string(raw), "\n") {
		l := strings.TrimSpace(line)
		for _, key := range []string{"ReauthorizeEvery:", "AuthorizerResultTtlInSeconds:"} {
			if strings.HasPrefix(l, key) && l != key+" 0" {
				found = append(found, l)
			}
		}
	}
	return found
}

// TestTheAuthorizerIsExportedUncached: the main template has the
// authorizer, exports it for other stacks, and caches none of its answers
// (a cached answer counts no use and sees no revocation).
func TestTheAuthorizerIsExportedUncached(t *testing.T) {
	tmpl, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tmpl.Resource("AuthorizerFunction"); err != nil {
		t.Fatal(err)
	}
	if name := authorizerExport(t); name != "${AWS::StackName}-AuthorizerFunctionArn" {
		t.Errorf("export name %q: examples/protected-api and the README name ${AWS::StackName}-AuthorizerFunctionArn", name)
	}
	if c := caching(t, "../../template.yaml"); len(c) != 0 {
		t.Errorf("template.yaml caches authorizer answers: %v", c)
	}
}

// TestTheAuthorizerReadsOnlyTheKeysItUses: the signing key always; the
// platform key (its ARN and the right to read it) only when platform
// tokens are allowed. Its ISSUER is the Issuer parameter, or else the
// API's default URL, which is what the API names as iss then.
func TestTheAuthorizerReadsOnlyTheKeysItUses(t *testing.T) {
	tmpl, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	props, err := tmpl.Resource("AuthorizerFunction")
	if err != nil {
		t.Fatal(err)
	}
	ref := func(id string) any { return map[string]any{"Ref": id} }
	var keys any
	for _, p := range props["Policies"].([]any) {
		for _, s := range p.(map[string]any)["Statement"].([]any) {
			if st := s.(map[string]any); slices.Contains(strs(st["Action"]), "secretsmanager:GetSecretValue") {
				if keys != nil {
					t.Fatalf("more than one statement grants GetSecretValue")
				}
				keys = st["Resource"]
			}
		}
	}
	wantKeys := map[string]any{"Fn::If": []any{"AuthorizerAllowsPlatformTokens",
		[]any{ref("SigningKeySecret"), ref("AuthSecret")}, []any{ref("SigningKeySecret")}}}
	if !reflect.DeepEqual(keys, wantKeys) {
		t.Errorf("GetSecretValue on %v, want %v", keys, wantKeys)
	}
	cond := tmpl["Conditions"].(map[string]any)["AuthorizerAllowsPlatformTokens"]
	if want := map[string]any{"Fn::Equals": []any{ref("AuthorizerAllowPlatformTokens"), "true"}}; !reflect.DeepEqual(cond, want) {
		t.Errorf("AuthorizerAllowsPlatformTokens = %v, want %v", cond, want)
	}

	env := props["Environment"].(map[string]any)["Variables"].(map[string]any)
	checks := map[string]any{
		"SIGNING_KEY_SECRET_ARN": ref("SigningKeySecret"),
		"AUTH_SECRET_ARN":        map[string]any{"Fn::If": []any{"AuthorizerAllowsPlatformTokens", ref("AuthSecret"), ref("AWS::NoValue")}},
		"ALLOW_PLATFORM_TOKENS":  ref("AuthorizerAllowPlatformTokens"),
		"ROUTE_PERMISSIONS":      ref("AuthorizerRoutePermissions"),
		"TOKEN_AUDIENCE":         ref("TokenAudience"),
	}
	for name, want := range checks {
		if !reflect.DeepEqual(env[name], want) {
			t.Errorf("%s = %v, want %v", name, env[name], want)
		}
	}
	apiURL, _ := tmpl["Outputs"].(map[string]any)["ApiUrl"].(map[string]any)["Value"].(map[string]any)["Fn::Sub"].(string)
	wantIssuer := map[string]any{"Fn::If": []any{"HasIssuer", ref("Issuer"), map[string]any{"Fn::Sub": strings.TrimSuffix(apiURL, "/")}}}
	if apiURL == "" || !reflect.DeepEqual(env["ISSUER"], wantIssuer) {
		t.Errorf("ISSUER = %v, want %v (ApiUrl without its slash: the API's iss)", env["ISSUER"], wantIssuer)
	}
}

// TestTheExampleStackUsesTheExportedAuthorizer: examples/protected-api
// imports exactly what the main template exports, with simple responses,
// payload 2.0 and no caching, on every route, and lets only its own API
// invoke it.
func TestTheExampleStackUsesTheExportedAuthorizer(t *testing.T) {
	b, err := os.ReadFile("../../examples/protected-api/template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ex, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ex["Parameters"].(map[string]any)["UauthStackName"]; !ok {
		t.Fatal("no UauthStackName parameter")
	}
	// The main template's export name, with the uauth stack's name for its own.
	imported := map[string]any{"Fn::ImportValue": map[string]any{
		"Fn::Sub": strings.ReplaceAll(authorizerExport(t), "${AWS::StackName}", "${UauthStackName}")}}

	api, err := ex.Resource("OrdersApi")
	if err != nil {
		t.Fatal(err)
	}
	auth, _ := api["Auth"].(map[string]any)
	authz, _ := auth["Authorizers"].(map[string]any)["Uauth"].(map[string]any)
	if auth["DefaultAuthorizer"] != "Uauth" {
		t.Errorf("routes do not default to the uauth authorizer: %v", auth["DefaultAuthorizer"])
	}
	if !reflect.DeepEqual(authz["FunctionArn"], imported) {
		t.Errorf("FunctionArn = %v, want %v", authz["FunctionArn"], imported)
	}
	if authz["EnableSimpleResponses"] != true || authz["AuthorizerPayloadFormatVersion"] != "2.0" {
		t.Errorf("authorizer = %v, want simple responses on payload 2.0", authz)
	}
	identity, _ := authz["Identity"].(map[string]any)
	if identity["ReauthorizeEvery"] != 0 || !reflect.DeepEqual(identity["Headers"], []any{"Authorization"}) {
		t.Errorf("Identity = %v, want the Authorization header and ReauthorizeEvery 0: caching would skip the use count and revocation", identity)
	}
	if c := caching(t, "../../examples/protected-api/template.yaml"); len(c) != 0 {
		t.Errorf("the example caches authorizer answers: %v", c)
	}

	perm, err := ex.Resource("InvokeUauthAuthorizer")
	if err != nil {
		t.Fatal(err)
	}
	src, _ := perm["SourceArn"].(map[string]any)["Fn::Sub"].(string)
	if !reflect.DeepEqual(perm["FunctionName"], imported) || perm["Principal"] != "apigateway.amazonaws.com" ||
		perm["Action"] != "lambda:InvokeFunction" || !strings.Contains(src, ":${OrdersApi}/authorizers/") {
		t.Errorf("invoke permission = %v, want API Gateway invoking the imported authorizer for OrdersApi only", perm)
	}

	fn, err := ex.Resource("OrdersFunction")
	if err != nil {
		t.Fatal(err)
	}
	routes := map[string]bool{}
	for name, ev := range fn["Events"].(map[string]any) {
		p := ev.(map[string]any)["Properties"].(map[string]any)
		if p["ApiId"] == nil || !reflect.DeepEqual(p["ApiId"], map[string]any{"Ref": "OrdersApi"}) {
			t.Errorf("%s: not on OrdersApi: %v", name, p["ApiId"])
		}
		if a, set := p["Auth"]; set {
			t.Errorf("%s: route Auth %v overrides the uauth authorizer", name, a)
		}
		routes[p["Method"].(string)+" "+p["Path"].(string)] = true
	}
	if !routes["GET /orders"] || !routes["GET /orders/{id}"] {
		t.Errorf("routes = %v, want GET /orders and GET /orders/{id}", routes)
	}
}
