package envconfig

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/uauth/uauth/pkg/dynamostore"
	"github.com/uauth/uauth/pkg/metrics"
)

// countAttempts adds to the invocation's metrics (metrics.FromContext) the
// SDK's retries of each DynamoDB request, and the attempts DynamoDB
// throttled: a throttle the retries absorbed costs latency, not an error,
// and is seen nowhere else.
func countAttempts(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		if err := s.Initialize.Add(middleware.InitializeMiddlewareFunc("uauthAttempts",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				m := metrics.FromContext(ctx)
				if m == nil {
					return next.HandleInitialize(ctx, in)
				}
				var n attempts
				out, md, err := next.HandleInitialize(context.WithValue(ctx, attemptsKey{}, &n), in)
				if n.tries > 1 {
					m.Add(metrics.DynamoDBRetries, "", n.tries-1)
				}
				if n.throttled > 0 {
					m.Add(metrics.DynamoDBThrottles, "", n.throttled)
				}
				return out, md, err
			}), middleware.Before); err != nil {
			return err
		}
		// After the retry middleware: once per attempt.
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("uauthAttempt",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleFinalize(ctx, in)
				if n, ok := ctx.Value(attemptsKey{}).(*attempts); ok {
					n.tries++
					if err != nil && dynamostore.IsThrottle(err) {
						n.throttled++
					}
				}
				return out, md, err
			}), middleware.After)
	})
}

type attemptsKey struct{}

// attempts of one request; the SDK's attempts of a request are sequential.
type attempts struct{ tries, throttled int }
