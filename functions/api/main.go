// Command api is the Lambda behind API Gateway that serves the Universal
// Auth configuration API. It only wires; see packages app and httpapi.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/uauth/uauth/pkg/apigw"
	"github.com/uauth/uauth/pkg/app"
	"github.com/uauth/uauth/pkg/envconfig"
)

func main() {
	ctx := context.Background()
	cfg, err := envconfig.Load(os.Getenv)
	check(cfg, "configuration", err)
	awsCfg, err := cfg.AWS(ctx)
	check(cfg, "aws configuration", err)
	keys, err := cfg.Keys(awsCfg)
	check(cfg, "keys", err)
	// Reads the keys once, at cold start; see package keyring for rotation.
	handler, err := app.API(ctx, cfg, cfg.DynamoDB(awsCfg), keys,
		app.Platform{RequestID: apigw.RequestID, ClientIP: apigw.SourceIP, BaseURL: apigw.BaseURL, Out: os.Stdout})
	check(cfg, "api", err)
	lambda.Start(apigw.Handler(handler))
}

// check ends a cold start that cannot succeed, with a log line that says why.
func check(cfg envconfig.Config, stage string, err error) {
	if err != nil {
		cfg.Logger().Error("cold start failed", slog.String("stage", stage), slog.String("error", err.Error()))
		os.Exit(1)
	}
}
