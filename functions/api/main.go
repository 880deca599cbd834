// Command api is the Lambda behind API Gateway that serves the Universal
// Auth configuration API. It only wires; see package httpapi.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/uauth/uauth/pkg/apigw"
	"github.com/uauth/uauth/pkg/auth"
	"github.com/uauth/uauth/pkg/dynamostore"
	"github.com/uauth/uauth/pkg/envconfig"
	"github.com/uauth/uauth/pkg/httpapi"
	"github.com/uauth/uauth/pkg/universalauth"
)

func main() {
	ctx := context.Background()
	cfg, err := envconfig.Load(os.Getenv)
	log := cfg.Logger()
	if err != nil {
		fail(log, "configuration", err)
	}
	awsCfg, err := cfg.AWS(ctx)
	if err != nil {
		fail(log, "aws configuration", err)
	}
	secret, err := cfg.LoadAuthSecret(ctx, awsCfg)
	if err != nil {
		fail(log, "auth secret", err)
	}
	verifier, err := auth.NewVerifier(secret)
	if err != nil {
		fail(log, "auth secret", err)
	}
	store := dynamostore.New(cfg.DynamoDB(awsCfg), cfg.TableName)
	handler := httpapi.New(httpapi.Options{
		Service:      universalauth.NewService(store),
		Verifier:     verifier,
		Logger:       log,
		MaxBodyBytes: cfg.MaxBodyBytes,
		RequestID:    apigw.RequestID,
	})
	lambda.Start(apigw.Handler(handler))
}

func fail(log *slog.Logger, what string, err error) {
	log.Error("cold start failed", slog.String("stage", what), slog.String("error", err.Error()))
	os.Exit(1)
}
