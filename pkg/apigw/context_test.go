package apigw_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/uauth/uauth/pkg/apigw"
)

// seen is what a handler behind the adapter reads of API Gateway's
// request context.
type seen struct {
	ip          netip.Addr
	reqID, base string
}

func through(t *testing.T, rc events.APIGatewayV2HTTPRequestContext) seen {
	t.Helper()
	var got seen
	h := apigw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = seen{apigw.SourceIP(r), apigw.RequestID(r), apigw.BaseURL(r)}
		w.WriteHeader(http.StatusOK)
	}))
	rc.HTTP.Method, rc.HTTP.Path = "GET", "/"
	resp, err := h(context.Background(), events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: "/", RequestContext: rc})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, %v", resp.StatusCode, err)
	}
	return got
}

// TestRequestContext: a handler behind the adapter reads the caller's
// address (unmapped, without a zone; the zero Addr if it does not parse),
// API Gateway's request id and the https URL of the domain the request
// came in on; outside Lambda it reads zeros.
func TestRequestContext(t *testing.T) {
	rc := func(ip, domain string) events.APIGatewayV2HTTPRequestContext {
		c := events.APIGatewayV2HTTPRequestContext{RequestID: "Kx3LfgWnoAMEVhw=", DomainName: domain}
		c.HTTP.SourceIP = ip
		return c
	}
	for _, tc := range []struct {
		name string
		rc   events.APIGatewayV2HTTPRequestContext
		want seen
	}{
		{"IPv4", rc("203.0.113.7", "api.example.com"), seen{netip.MustParseAddr("203.0.113.7"), "Kx3LfgWnoAMEVhw=", "https://api.example.com"}},
		{"IPv4-mapped", rc("::ffff:203.0.113.7", "api.example.com"), seen{netip.MustParseAddr("203.0.113.7"), "Kx3LfgWnoAMEVhw=", "https://api.example.com"}},
		{"IPv6 with a zone", rc("fe80::1%eth0", ""), seen{netip.MustParseAddr("fe80::1"), "Kx3LfgWnoAMEVhw=", ""}},
		{"not an address", rc("unknown", ""), seen{netip.Addr{}, "Kx3LfgWnoAMEVhw=", ""}},
	} {
		if got := through(t, tc.rc); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}

	r := httptest.NewRequest("GET", "/", nil)
	if ip, id, base := apigw.SourceIP(r), apigw.RequestID(r), apigw.BaseURL(r); ip.IsValid() || id != "" || base != "" {
		t.Errorf("outside Lambda: %v %q %q", ip, id, base)
	}
}
