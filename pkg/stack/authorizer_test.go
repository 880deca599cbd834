package stack

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestTheAuthorizerIsExportedUncached: the main template exports the
// authorizer for other stacks, and nothing caches its answers.
func TestTheAuthorizerIsExportedUncached(t *testing.T) {
	tmpl, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tmpl.Resource("AuthorizerFunction"); err != nil {
		t.Fatal(err)
	}
	out, _ := tmpl["Outputs"].(map[string]any)["AuthorizerFunctionArn"].(map[string]any)
	want := map[string]any{"Value": map[string]any{"Fn::GetAtt": []any{"AuthorizerFunction", "Arn"}},
		"Export": map[string]any{"Name": map[string]any{"Fn::Sub": "${AWS::StackName}-AuthorizerFunctionArn"}}}
	if out == nil || !reflect.DeepEqual(out["Value"], want["Value"]) || !reflect.DeepEqual(out["Export"], want["Export"]) {
		t.Fatalf("AuthorizerFunctionArn output = %v", out)
	}
	raw, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, caching := range []string{"ReauthorizeEvery:", "AuthorizerResultTtlInSeconds:"} {
		for _, line := range strings.Split(string(raw), "\n") {
			if l := strings.TrimSpace(line); strings.HasPrefix(l, caching) && l != caching+" 0" {
				t.Errorf("template.yaml caches authorizer answers: %s", l)
			}
		}
	}
}

// TestTheExampleStackUsesTheExportedAuthorizer: examples/protected-api
// imports exactly what the main template exports, with simple responses,
// payload 2.0 and no caching, on every route.
func TestTheExampleStackUsesTheExportedAuthorizer(t *testing.T) {
	b, err := os.ReadFile("../../examples/protected-api/template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ex, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	api, err := ex.Resource("OrdersApi")
	if err != nil {
		t.Fatal(err)
	}
	auth, _ := api["Auth"].(map[string]any)
	authz, _ := auth["Authorizers"].(map[string]any)["Uauth"].(map[string]any)
	imported := map[string]any{"Fn::ImportValue": map[string]any{"Fn::Sub": "${UauthStackName}-AuthorizerFunctionArn"}}
	switch {
	case auth["DefaultAuthorizer"] != "Uauth":
		t.Errorf("routes do not default to the uauth authorizer: %v", auth["DefaultAuthorizer"])
	case !reflect.DeepEqual(authz["FunctionArn"], imported):
		t.Errorf("FunctionArn = %v, want the import of the main template's export", authz["FunctionArn"])
	case authz["EnableSimpleResponses"] != true || authz["AuthorizerPayloadFormatVersion"] != "2.0":
		t.Errorf("authorizer = %v, want simple responses on payload 2.0", authz)
	}
	identity, _ := authz["Identity"].(map[string]any)
	if identity["ReauthorizeEvery"] != 0 {
		t.Errorf("ReauthorizeEvery = %v, want 0: caching would skip the use count and revocation", identity["ReauthorizeEvery"])
	}
	perm, err := ex.Resource("InvokeUauthAuthorizer")
	if err != nil || !reflect.DeepEqual(perm["FunctionName"], imported) || perm["Principal"] != "apigateway.amazonaws.com" {
		t.Errorf("invoke permission = %v, %v", perm, err)
	}
	fn, err := ex.Resource("OrdersFunction")
	if err != nil {
		t.Fatal(err)
	}
	routes := map[string]bool{}
	for _, ev := range fn["Events"].(map[string]any) {
		p := ev.(map[string]any)["Properties"].(map[string]any)
		routes[p["Method"].(string)+" "+p["Path"].(string)] = true
	}
	if !routes["GET /orders"] || !routes["GET /orders/{id}"] {
		t.Errorf("routes = %v", routes)
	}
}
