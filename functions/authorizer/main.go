// Command authorizer is the Lambda authorizer that enforces uauth's
// identity tokens in front of other APIs. It only wires; see packages app
// and authorizer.
package main

import (
	"context"
	"errors"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/uauth/uauth/pkg/app"
	"github.com/uauth/uauth/pkg/envconfig"
	"github.com/uauth/uauth/pkg/keyring"
)

func main() {
	ctx := context.Background()
	cfg, err := envconfig.Load(os.Getenv)
	if err == nil && cfg.Issuer == "" {
		err = errors.New("ISSUER is required: the iss of the tokens the authorizer accepts")
	}
	check(cfg, "configuration", err)
	awsCfg, err := cfg.AWS(ctx)
	check(cfg, "aws configuration", err)
	signing, err := cfg.SigningKey(awsCfg)
	check(cfg, "signing key", err)
	var platform keyring.Source
	if cfg.AllowPlatformTokens {
		platform, err = cfg.PlatformKey(awsCfg)
		check(cfg, "platform token key", err)
	}
	a, err := app.Authorizer(ctx, cfg, cfg.DynamoDB(awsCfg), signing, platform, os.Stdout)
	check(cfg, "authorizer", err)
	lambda.Start(a.Handle)
}

// check ends a cold start that cannot succeed, with a log line that says why.
func check(cfg envconfig.Config, stage string, err error) {
	if err != nil {
		cfg.Logger().Error("cold start failed", slog.String("stage", stage), slog.String("error", err.Error()))
		os.Exit(1)
	}
}
