// Command provisioner is the Lambda that consumes identity events from SQS.
// It only wires; see packages app and provisioner.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/uauth/uauth/pkg/app"
	"github.com/uauth/uauth/pkg/envconfig"
)

func main() {
	cfg, err := envconfig.Load(os.Getenv)
	check(cfg, "configuration", err)
	awsCfg, err := cfg.AWS(context.Background())
	check(cfg, "aws configuration", err)
	lambda.Start(app.Provisioner(cfg, cfg.DynamoDB(awsCfg), os.Stdout).Handle)
}

// check ends a cold start that cannot succeed, with a log line that says why.
func check(cfg envconfig.Config, stage string, err error) {
	if err != nil {
		cfg.Logger().Error("cold start failed", slog.String("stage", stage), slog.String("error", err.Error()))
		os.Exit(1)
	}
}
