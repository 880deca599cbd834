// Package app assembles uauth's two functions from their configuration.
// The Lambda entry points and the local stack both call it, so that what
// runs locally is what runs in Lambda.
package app

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/dynamostore"
	"github.com/uauth/uauth/pkg/envconfig"
	"github.com/uauth/uauth/pkg/httpapi"
	"github.com/uauth/uauth/pkg/keyring"
	"github.com/uauth/uauth/pkg/provisioner"
	"github.com/uauth/uauth/pkg/uaconfig"
)

// Platform is what the API takes from the platform it runs on: API
// Gateway's request id and source address in Lambda. Nil functions fall
// back to a generated id and the TCP peer.
type Platform struct {
	RequestID func(*http.Request) string
	ClientIP  func(*http.Request) netip.Addr
}

// API returns the API handler; it reads the token keys once now, so that a
// missing or weak key fails the cold start.
func API(ctx context.Context, cfg envconfig.Config, db *dynamodb.Client, keys keyring.Source, p Platform) (http.Handler, error) {
	log := cfg.Logger()
	ring, err := keyring.New(ctx, keys, keyring.Secret)
	if err != nil {
		return nil, err
	}
	ring.OnError = func(err error) {
		log.Error("re-reading the platform token key failed; the keys in hand stay in use", slog.String("error", err.Error()))
	}
	return httpapi.New(httpapi.Options{
		Config:       uaconfig.NewService(dynamostore.New(db, cfg.TableName)),
		Auth:         &caller.Authenticator{Platform: caller.NewPlatform(ring)},
		Logger:       log,
		MaxBodyBytes: cfg.MaxBodyBytes,
		RequestID:    p.RequestID,
		ClientIP:     p.ClientIP,
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
