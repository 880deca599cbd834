// Command provisioner is the Lambda that consumes identity events from SQS.
// It only wires; see package provisioner.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/uauth/uauth/pkg/dynamostore"
	"github.com/uauth/uauth/pkg/envconfig"
	"github.com/uauth/uauth/pkg/provisioner"
	"github.com/uauth/uauth/pkg/universalauth"
)

func main() {
	cfg, err := envconfig.Load(os.Getenv)
	log := cfg.Logger()
	if err != nil {
		log.Error("cold start failed", slog.String("error", err.Error()))
		os.Exit(1)
	}
	awsCfg, err := cfg.AWS(context.Background())
	if err != nil {
		log.Error("cold start failed", slog.String("error", err.Error()))
		os.Exit(1)
	}
	store := dynamostore.New(cfg.DynamoDB(awsCfg), cfg.TableName)
	h := &provisioner.Handler{Store: store, TombstoneTTL: cfg.TombstoneTTL, Logger: log}
	if cfg.AutoAttach {
		h.Configs = &universalauth.Service{Defaults: cfg.DefaultConfig}
	}
	lambda.Start(h.Handle)
}
