// Package app assembles uauth's functions from their configuration. The
// Lambda entry points and the local stack both call it, so that what runs
// locally is what runs in Lambda.
package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/uauth/uauth/pkg/accesstoken"
	"github.com/uauth/uauth/pkg/audit"
	"github.com/uauth/uauth/pkg/authorizer"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/clientsecret"
	"github.com/uauth/uauth/pkg/dynamostore"
	"github.com/uauth/uauth/pkg/envconfig"
	"github.com/uauth/uauth/pkg/httpapi"
	"github.com/uauth/uauth/pkg/keyring"
	"github.com/uauth/uauth/pkg/login"
	"github.com/uauth/uauth/pkg/orgdefaults"
	"github.com/uauth/uauth/pkg/provisioner"
	"github.com/uauth/uauth/pkg/uaconfig"
)

// Platform is what the API takes from the platform it runs on: API
// Gateway's request id, source address and domain in Lambda, and Out,
// where metrics (EMF) and the audit trail go: stdout, which Lambda sends
// to CloudWatch Logs. Nil functions fall back to a generated id, the TCP
// peer and the Host header; a nil Out writes neither.
type Platform struct {
	RequestID func(*http.Request) string
	ClientIP  func(*http.Request) netip.Addr
	BaseURL   func(*http.Request) string
	Out       io.Writer
}

// auditWriter is an audit.Writer on w, or nil.
func auditWriter(w io.Writer) *audit.Writer {
	if w == nil {
		return nil
	}
	return audit.NewWriter(w)
}

// Store returns the table's store, with the configured call deadline.
func Store(cfg envconfig.Config, db *dynamodb.Client) *dynamostore.Store {
	s := dynamostore.New(db, cfg.TableName)
	s.CallTimeout = cfg.CallTimeout
	return s
}

// API returns the API handler. It reads every key once now, so that a
// missing, unreadable or weak key fails the cold start rather than a
// request.
func API(ctx context.Context, cfg envconfig.Config, db *dynamodb.Client, keys envconfig.Keys, p Platform) (http.Handler, error) {
	log := cfg.Logger()
	reloadError := func(what string) func(error) {
		return func(err error) {
			log.Error("re-reading a key failed; the keys in hand stay in use", slog.String("key", what), slog.String("error", err.Error()))
		}
	}
	platformKeys, err := keyring.New(ctx, keys.Platform, keyring.Secret)
	if err != nil {
		return nil, fmt.Errorf("platform token key: %w", err)
	}
	platformKeys.OnError = reloadError("platform token key")
	signingKeys, err := keyring.New(ctx, keys.Signing, accesstoken.ParseSigningKey)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	signingKeys.OnError = reloadError("signing key")
	// The client-secret key is not rotated: every stored secret is kept
	// under it (see README). Only its current version is used.
	secretKeys, err := keyring.New(ctx, keys.ClientSecret, keyring.Secret)
	if err != nil {
		return nil, fmt.Errorf("client secret key: %w", err)
	}
	hasher, err := clientsecret.NewHasher(secretKeys.Keys(ctx)[0])
	if err != nil {
		return nil, err
	}

	store := Store(cfg, db)
	signer := accesstoken.NewSigner(signingKeys, cfg.Audience)
	tokens := &accesstoken.Service{Store: store, Signer: signer}
	platform := caller.NewPlatform(platformKeys)
	platform.ForbiddenIssuer = cfg.Issuer
	return httpapi.New(httpapi.Options{
		Config:       uaconfig.NewService(store),
		Secrets:      &clientsecret.Service{Store: store, Hasher: hasher},
		Login:        &login.Service{Store: store, Hasher: hasher, Signer: signer},
		Tokens:       tokens,
		OrgDefaults:  OrgDefaults(cfg, store),
		Auth:         &caller.Authenticator{Platform: platform, Identity: tokens},
		Logger:       log,
		MaxBodyBytes: cfg.MaxBodyBytes,
		RequestID:    p.RequestID,
		ClientIP:     p.ClientIP,
		Issuer:       cfg.Issuer,
		BaseURL:      p.BaseURL,
		Metrics:      p.Out,
		Audit:        auditWriter(p.Out),
	}), nil
}

// OrgDefaults returns the organizations' defaults over the deployment's
// (DEFAULT_UA_CONFIG and AUTO_ATTACH).
func OrgDefaults(cfg envconfig.Config, store *dynamostore.Store) *orgdefaults.Service {
	return &orgdefaults.Service{Store: store, Deployment: orgdefaults.Deployment(cfg.DefaultConfig, cfg.AutoAttach)}
}

// Provisioner returns the SQS batch handler for identity events; its
// metrics and audit records go to out (stdout in Lambda; nil: none).
func Provisioner(cfg envconfig.Config, db *dynamodb.Client, out io.Writer) *provisioner.Handler {
	store := Store(cfg, db)
	return &provisioner.Handler{
		Store:        store,
		Defaults:     OrgDefaults(cfg, store),
		TombstoneTTL: cfg.TombstoneTTL,
		Logger:       cfg.Logger(),
		// A record makes at most two calls (its org's defaults, then its
		// write), each within the call deadline.
		Reserve: 2 * cfg.CallTimeout,
		Metrics: out,
		Audit:   auditWriter(out),
	}
}

// Authorizer returns the Lambda authorizer for other APIs. It reads its
// keys once now, as API does. In Lambda it needs ISSUER, since it sees no
// request of uauth's own to take the issuer from (functions/authorizer
// refuses to start without it); the local stack leaves it empty and names
// the issuer with each request, as its API does.
//
// Its metrics and audit records go to out (stdout in Lambda; nil: none).
func Authorizer(ctx context.Context, cfg envconfig.Config, db *dynamodb.Client, signing, platform keyring.Source, out io.Writer) (*authorizer.Authorizer, error) {
	routes, err := authorizer.ParseRoutes(cfg.RoutePermissions)
	if err != nil {
		return nil, fmt.Errorf("ROUTE_PERMISSIONS: %w", err)
	}
	log := cfg.Logger()
	signingKeys, err := keyring.New(ctx, signing, accesstoken.ParseSigningKey)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	signingKeys.OnError = func(err error) {
		log.Error("re-reading a key failed; the keys in hand stay in use", slog.String("key", "signing key"), slog.String("error", err.Error()))
	}
	a := &authorizer.Authorizer{
		Tokens: &accesstoken.Service{Store: Store(cfg, db), Signer: accesstoken.NewSigner(signingKeys, cfg.Audience)},
		Issuer: cfg.Issuer, Routes: routes, Logger: log, Metrics: out, Audit: auditWriter(out),
	}
	if cfg.AllowPlatformTokens {
		platformKeys, err := keyring.New(ctx, platform, keyring.Secret)
		if err != nil {
			return nil, fmt.Errorf("platform token key: %w", err)
		}
		a.Platform = caller.NewPlatform(platformKeys)
		a.Platform.ForbiddenIssuer = cfg.Issuer
	}
	return a, nil
}
