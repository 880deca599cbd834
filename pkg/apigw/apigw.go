// Package apigw adapts the API's http.Handler to API Gateway HTTP API
// (payload format 2.0) events, through aws-lambda-go-api-proxy.
package apigw

import (
	"context"
	"net/http"
	"net/netip"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

// Handler returns the Lambda handler that serves h.
func Handler(h http.Handler) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return httpadapter.NewV2(h).ProxyWithContext
}

// RequestID returns API Gateway's request id for r, the id its access logs
// carry, or "" outside Lambda.
func RequestID(r *http.Request) string {
	rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context())
	if !ok {
		return ""
	}
	return rc.RequestID
}

// SourceIP returns the caller's address as API Gateway saw it
// (requestContext.http.sourceIp), IPv4-mapped addresses unmapped; the zero
// Addr outside Lambda or if it does not parse.
func SourceIP(r *http.Request) netip.Addr {
	rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context())
	if !ok {
		return netip.Addr{}
	}
	addr, err := netip.ParseAddr(rc.HTTP.SourceIP)
	if err != nil {
		return netip.Addr{}
	}
	return addr.Unmap().WithZone("")
}

// BaseURL returns the URL the request came in on, https://<domain name>
// as API Gateway saw it (a custom domain, or the execute-api one); "" outside
// Lambda.
func BaseURL(r *http.Request) string {
	rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context())
	if !ok || rc.DomainName == "" {
		return ""
	}
	return "https://" + rc.DomainName
}
