// Package app assembles uauth's two functions from their configuration.
// The Lambda entry points and the local stack both call it, so that what
// runs locally is what runs in Lambda.
package app

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/uauth/uauth/pkg/auth"
	"github.com/uauth/uauth/pkg/dynamostore"
	"github.com/uauth/uauth/pkg/envconfig"
	"github.com/uauth/uauth/pkg/httpapi"
	"github.com/uauth/uauth/pkg/provisioner"
	"github.com/uauth/uauth/pkg/universalauth"
)

// API returns the API handler; it reads the token keys once now. requestID
// supplies the platform's request id (apigw.RequestID in Lambda); nil
// generates one per request.
func API(ctx context.Context, cfg envconfig.Config, db *dynamodb.Client, keys auth.KeySource, requestID func(*http.Request) string) (http.Handler, error) {
	verifier, err := auth.NewVerifier(ctx, keys)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger()
	verifier.OnReloadError = func(err error) {
		log.Error("re-reading token keys failed; the current ones stay in use", slog.String("error", err.Error()))
	}
	return httpapi.New(httpapi.Options{
		Service:      universalauth.NewService(dynamostore.New(db, cfg.TableName)),
		Verifier:     verifier,
		Logger:       log,
		MaxBodyBytes: cfg.MaxBodyBytes,
		RequestID:    requestID,
	}), nil
}

// Provisioner returns the SQS batch handler for identity events.
func Provisioner(cfg envconfig.Config, db *dynamodb.Client) *provisioner.Handler {
	h := &provisioner.Handler{
		Store:        dynamostore.New(db, cfg.TableName),
		TombstoneTTL: cfg.TombstoneTTL,
		Logger:       cfg.Logger(),
	}
	if cfg.AutoAttach {
		h.Defaults = &cfg.DefaultConfig
	}
	return h
}
