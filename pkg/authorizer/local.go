package authorizer

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"
)

// LocalPrefix is where the local stack serves its demo protected API.
const LocalPrefix = "/_local/protected"

// LocalHandler is the local stack's demo protected API: every request
// under LocalPrefix goes through the authorizer exactly as API Gateway
// would call it, a payload 2.0 event built from the request with the TCP
// peer as sourceIp and "METHOD /_local/protected/{proxy+}" as routeKey,
// and is answered as API Gateway answers: 200 with the authorizer's
// context as JSON (the demo integration), 403 {"message":"Forbidden"} on a
// deny, 401 {"message":"Unauthorized"} without a token, 500 {"message":
// "Internal Server Error"} when the authorizer fails. issuer names the iss
// expected of a request's token, as the local API's does.
func LocalHandler(a *Authorizer, issuer func(*http.Request) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev := events.APIGatewayV2CustomAuthorizerV2Request{Version: "2.0", Type: "REQUEST",
			RouteKey: r.Method + " " + LocalPrefix + "/{proxy+}", RawPath: r.URL.Path, RawQueryString: r.URL.RawQuery,
			Headers: make(map[string]string, len(r.Header))}
		for k, v := range r.Header {
			ev.Headers[strings.ToLower(k)] = strings.Join(v, ",")
		}
		ev.RequestContext.HTTP.Method, ev.RequestContext.HTTP.Path = r.Method, r.URL.Path
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			ev.RequestContext.HTTP.SourceIP = host
		}
		ev.RequestContext.RequestID = uuid.NewString()
		local := *a
		local.Issuer = issuer(r)
		resp, err := local.HTTP(r.Context(), ev)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Apigw-Requestid", ev.RequestContext.RequestID)
		switch {
		case errors.Is(err, ErrUnauthorized):
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"message":"Unauthorized"}`))
		case err != nil:
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"message":"Internal Server Error"}`))
		case !resp.IsAuthorized:
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"message":"Forbidden"}`))
		default:
			b, _ := json.Marshal(resp.Context)
			_, _ = w.Write(b)
		}
	})
}
