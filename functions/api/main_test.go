package main

import (
	"context"
	"encoding/json"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/dynamostore"
	"github.com/uauth/uauth/pkg/dynamotest"
	"github.com/uauth/uauth/pkg/identity"
	"github.com/uauth/uauth/pkg/lambdatest"
	"github.com/uauth/uauth/pkg/testkeys"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

const org = "11111111-1111-4111-8111-111111111111"

// TestBootstrapServesTheSampleEvent runs the real bootstrap under the
// Lambda Runtime Interface Emulator, cold start included, and invokes it
// with events/apigw-attach.json.
func TestBootstrapServesTheSampleEvent(t *testing.T) {
	table := dynamotest.NewTable(t)
	raw, err := os.ReadFile("../../events/apigw-attach.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	identityID := ev.PathParameters["identityId"]
	store := dynamostore.New(dynamotest.Client(t), table)
	if err := store.RecordIdentity(context.Background(), identity.Identity{ID: identityID, OrgID: org, CreatedAt: time.Now()}, nil, "test"); err != nil {
		t.Fatal(err)
	}
	secret := "bootstrap-test-secret-0123456789abcdef"
	tok, err := caller.SignPlatform([]byte(secret), caller.PlatformClaims{Subject: "tf", OrgID: org, Permissions: []caller.Permission{caller.IdentityEditAuth},
		IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	ev.Headers["authorization"] = "Bearer " + tok
	payload, _ := json.Marshal(ev)

	fn := lambdatest.Start(t, lambdatest.Build(t, "."), append(localKeys(t),
		"TABLE_NAME="+table, "DYNAMODB_ENDPOINT="+dynamotest.Endpoint(), "AUTH_SECRET="+secret)...)
	for i, want := range []int{200, 400} { // cold, then warm: already configured
		res := fn.Invoke(payload)
		var resp events.APIGatewayV2HTTPResponse
		if res.Error != nil || json.Unmarshal(res.Payload, &resp) != nil || resp.StatusCode != want {
			t.Fatalf("invocation %d: %s, want status %d; log:\n%s", i, res, want, fn.Log())
		}
		if i == 0 {
			t.Logf("cold start to first response: %s", res.Duration.Round(time.Millisecond))
		}
	}
	fn.Stop()
	if !strings.Contains(fn.Log(), `"reqId":"`+ev.RequestContext.RequestID+`"`) {
		t.Fatalf("no log line carries API Gateway's request id:\n%s", fn.Log())
	}
}

func TestBootstrapRefusesABadConfiguration(t *testing.T) {
	fn := lambdatest.Start(t, lambdatest.Build(t, "."), "AUTH_SECRET=x", "MAX_BODY_BYTES=-1")
	if res := fn.Invoke([]byte(`{}`)); !res.Exited() {
		t.Fatalf("a misconfigured function answered: %s", res)
	}
	fn.Stop()
	if !fn.InitFailed() {
		t.Errorf("the emulator saw no failed init:\n%s", fn.Log())
	}
	log := fn.Log()
	for _, want := range []string{`"msg":"cold start failed"`, "TABLE_NAME is required", "MAX_BODY_BYTES"} {
		if !strings.Contains(log, want) {
			t.Errorf("cold start log lacks %q:\n%s", want, log)
		}
	}
}

// BenchmarkColdStart measures cold starts under the Lambda Runtime
// Interface Emulator, which starts a bootstrap at its first invocation, as
// Lambda does: each iteration starts a fresh emulator for the API's
// bootstrap and one for the baseline (pkg/lambdatest/baseline: the same
// GetItem in minimal idiomatic aws-lambda-go), in alternating order, and
// times each from the invoke request to the end of the first response.
// The API serves a GET of a configuration that does not exist (a token
// check and one GetItem), the baseline a GetItem of a missing item.
//
// Both take the Lambda path to their AWS configuration, region and
// credentials from the environment (see lambdatest.Start), because
// DynamoDB Local is reached by a host name that is not a loopback literal
// (see envconfig.Config.AWS). The API's keys come from AUTH_SECRET,
// SIGNING_KEY_FILE and CLIENT_SECRET_KEY: the Secrets Manager reads of a
// real cold start are not in the figure.
//
// It also reports each bootstrap's package initialization
// (GODEBUG=inittrace=1) and the size of what is deployed (linux/arm64).
func BenchmarkColdStart(b *testing.B) {
	endpoint := loopbackByName(b, dynamotest.Endpoint())
	table := dynamotest.NewTable(b)
	api, baseline := lambdatest.Build(b, "."), lambdatest.Build(b, lambdatest.BaselineDir())
	tok, _ := caller.SignPlatform([]byte(benchSecret), caller.PlatformClaims{Subject: "bench", OrgID: org, Permissions: []caller.Permission{caller.IdentityRead},
		IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)})
	const missing = "8c1f4b8e-5d2a-4b7e-9f3c-2a6d1e0b7c45"
	get, _ := json.Marshal(events.APIGatewayV2HTTPRequest{
		RawPath: "/api/v1/auth/universal-auth/identities/" + missing,
		Headers: map[string]string{"authorization": "Bearer " + tok},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "bench", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET"},
		},
	})
	shared := []string{"TABLE_NAME=" + table, "DYNAMODB_ENDPOINT=" + endpoint}
	runs := []struct {
		name, bin string
		env       []string
		event     []byte
		answered  func(payload string) bool
		times     []time.Duration
	}{
		{name: "api", bin: api, env: append(append(localKeys(b), shared...), "AUTH_SECRET="+benchSecret), event: get,
			answered: func(p string) bool { return strings.Contains(p, `"statusCode":404`) }},
		{name: "baseline", bin: baseline, env: shared, event: []byte(`{"identityId":"` + missing + `"}`),
			answered: func(p string) bool { return p == `{"found":false}` }},
	}
	for i := 0; b.Loop(); i++ {
		for j := range runs {
			r := &runs[(i+j)%len(runs)]
			fn := lambdatest.Start(b, r.bin, r.env...)
			res := fn.Invoke(r.event)
			fn.Stop()
			if !r.answered(string(res.Payload)) {
				b.Fatalf("%s: %s; log:\n%s", r.name, res, fn.Log())
			}
			r.times = append(r.times, res.Duration)
		}
	}
	apiCold, baseCold := median(runs[0].times), median(runs[1].times)
	b.ReportMetric(ms(apiCold), "api-cold-ms")
	b.ReportMetric(ms(baseCold), "baseline-cold-ms")
	b.ReportMetric(float64(apiCold)/float64(baseCold), "api/baseline")

	for _, r := range runs {
		in := lambdatest.InitTrace(b, r.bin)
		b.ReportMetric(ms(in.Clock), r.name+"-init-ms")
		b.ReportMetric(float64(in.Bytes), r.name+"-init-bytes")
		b.ReportMetric(float64(in.Packages), r.name+"-init-pkgs")
	}
	for name, dir := range map[string]string{"api": ".", "provisioner": "../provisioner", "baseline": lambdatest.BaselineDir()} {
		st, err := os.Stat(lambdatest.BuildLambda(b, dir))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(st.Size())/1e6, name+"-arm64-MB")
	}
}

func median(ds []time.Duration) time.Duration {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return ds[len(ds)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// loopbackByName returns endpoint with its host replaced by a name that
// resolves to 127.x only, without being a loopback literal or "localhost":
// this machine's host name, or else a name from /etc/hosts. It skips the
// benchmark when there is none.
func loopbackByName(b *testing.B, endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		b.Fatal(err)
	}
	var names []string
	if h, err := os.Hostname(); err == nil {
		names = append(names, h)
	}
	if hosts, err := os.ReadFile("/etc/hosts"); err == nil {
		for line := range strings.Lines(string(hosts)) {
			line, _, _ = strings.Cut(line, "#")
			if f := strings.Fields(line); len(f) > 1 {
				names = append(names, f[1:]...)
			}
		}
	}
	for _, name := range names {
		if name == "localhost" || net.ParseIP(name) != nil || !resolvesToLoopback(name) {
			continue
		}
		u.Host = net.JoinHostPort(name, u.Port())
		return u.String()
	}
	b.Skip("no host name resolves to 127.x only, so the functions cannot take their Lambda path to DynamoDB Local")
	return ""
}

func resolvesToLoopback(name string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, name)
	if err != nil || len(addrs) == 0 {
		return false
	}
	for _, a := range addrs {
		if ip := net.ParseIP(a).To4(); ip == nil || ip[0] != 127 {
			return false
		}
	}
	return true
}

const benchSecret = "cold-start-bench-secret-0123456789abcdef"

// localKeys is the environment that gives the bootstrap its signing and
// client-secret keys the local way.
func localKeys(t testing.TB) []string {
	file := filepath.Join(t.TempDir(), "signing-key.pem")
	if err := os.WriteFile(file, testkeys.SigningKeyPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"SIGNING_KEY_FILE=" + file, "CLIENT_SECRET_KEY=" + testkeys.ClientSecretKey}
}
