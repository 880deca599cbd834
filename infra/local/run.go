package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/google/uuid"

	"github.com/uauth/uauth/pkg/accesstoken"
	"github.com/uauth/uauth/pkg/app"
	"github.com/uauth/uauth/pkg/authorizer"
	"github.com/uauth/uauth/pkg/caller"
	"github.com/uauth/uauth/pkg/changes"
	"github.com/uauth/uauth/pkg/dynamolocal"
	"github.com/uauth/uauth/pkg/dynamostore"
	"github.com/uauth/uauth/pkg/envconfig"
	"github.com/uauth/uauth/pkg/stack"
)

const defaultTable = "uauth-local"

// run starts the whole stack and blocks until Ctrl-C: DynamoDB Local (data
// under .local/), the table from template.yaml, and the API with event
// injection on 127.0.0.1:$PORT.
func run(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("run takes no arguments; configure it with environment variables (see README)")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runStack(ctx, os.Stdout)
}

// runStack runs the stack until ctx ends, printing progress and the
// walkthrough to out.
func runStack(ctx context.Context, out io.Writer) error {
	root, err := dynamolocal.RepoRoot()
	if err != nil {
		return err
	}
	// DATA_DIR (default .local, under the repository) holds what the stack
	// keeps: DynamoDB Local's data, the signing key, the log groups. Two
	// stacks can run side by side with a directory (and a PORT) each.
	data := cmp.Or(os.Getenv("DATA_DIR"), ".local")
	if !filepath.IsAbs(data) {
		data = filepath.Join(root, data)
	}
	release, err := lockDataDir(data)
	if err != nil {
		return err
	}
	defer release()
	secret, devSecretUsed, err := authSecret()
	if err != nil {
		return err
	}
	keyFile, err := signingKeyFile(data)
	if err != nil {
		return err
	}
	cfg, err := envconfig.Load(func(k string) string {
		switch v := os.Getenv(k); {
		case v != "":
			return v
		case k == "TABLE_NAME":
			return defaultTable
		case k == "AUTH_SECRET":
			return secret
		case k == "SIGNING_KEY_FILE":
			return keyFile
		case k == "CLIENT_SECRET_KEY":
			return devClientSecretKey
		default:
			return ""
		}
	})
	if err != nil {
		return err
	}
	cfg.LogOutput = out

	dbNote := "your DYNAMODB_ENDPOINT"
	if cfg.DynamoDBEndpoint == "" {
		dataDir := filepath.Join(data, "dynamodb")
		if err := os.MkdirAll(dataDir, 0o755); err != nil {
			return err
		}
		logFile, err := os.Create(filepath.Join(data, "dynamodb-local.log"))
		if err != nil {
			return err
		}
		defer logFile.Close()
		fmt.Fprintln(out, "Starting DynamoDB Local ...")
		inst, err := dynamolocal.Start(ctx, dynamolocal.Options{Root: root, DBPath: dataDir, Output: logFile})
		if err != nil {
			return err
		}
		defer func() {
			inst.Stop()
			fmt.Fprintln(out, "DynamoDB Local stopped.")
		}()
		cfg.DynamoDBEndpoint = inst.Endpoint
		dbNote = "data kept in " + rel(root, dataDir)
	}

	awsCfg, err := devAWS(ctx, cfg)
	if err != nil {
		return err
	}
	db := cfg.DynamoDB(awsCfg)
	table, err := stack.TableInput(cfg.TableName)
	if err != nil {
		return err
	}
	ttlAttr, err := stack.TTLAttribute()
	if err != nil {
		return err
	}
	if err := dynamostore.EnsureTable(ctx, db, table, ttlAttr); err != nil {
		return err
	}
	keys, err := cfg.Keys(awsCfg)
	if err != nil {
		return err
	}
	groups, err := newLogGroups(filepath.Join(data, "logs"))
	if err != nil {
		return err
	}
	var outs [3]io.Writer
	for i, fn := range []string{"api", "provisioner", "authorizer"} {
		if outs[i], err = groups.group(fn); err != nil {
			return err
		}
	}
	api, err := app.API(ctx, cfg, db, keys, app.Platform{Out: outs[0]})
	if err != nil {
		return err
	}
	authz, err := app.Authorizer(ctx, cfg, db, keys.Signing, keys.Platform, outs[2])
	if err != nil {
		return err
	}
	handler := newLocalHandler(localRoutes{api: api, prov: app.Provisioner(cfg, db, outs[1]),
		protected: authorizer.LocalHandler(authz, localIssuer(cfg.Issuer)), metrics: groups, log: cfg.Logger()})

	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return fmt.Errorf("listening on 127.0.0.1:%s (set PORT to use another): %w", port, err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	devToken, err := mintToken(cfg.AuthSecret, devOrgID, devActor, "user", []caller.Permission{caller.OrgAdmin}, 12*time.Hour)
	if err != nil {
		return err
	}
	// The change events of what the walkthrough does are printed as they
	// come; the walkthrough waits until the stream is being read.
	tailing := make(chan struct{})
	go printChanges(ctx, out, db, changes.NewStreamsClient(awsCfg, cfg.DynamoDBEndpoint), cfg.TableName, tailing)
	select {
	case <-tailing:
	case <-time.After(5 * time.Second): // no stream to read; printChanges says why
	}
	printWalkthrough(out, walkthrough{
		API: "http://" + ln.Addr().String(), DynamoDB: cfg.DynamoDBEndpoint, DBNote: dbNote,
		Table: cfg.TableName, Secret: cfg.AuthSecret, DevSecret: devSecretUsed,
		Token: devToken, IdentityID: uuid.NewString(), AutoAttach: cfg.AutoAttach, Logs: rel(root, groups.dir) + "/",
	})

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(out, "\nShutting down ...")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// localIssuer names the iss the demo protected API expects: ISSUER, or the
// URL a request came in on, as the local API names it.
func localIssuer(configured string) func(*http.Request) string {
	return func(r *http.Request) string {
		if configured != "" {
			return configured
		}
		return "http://" + r.Host
	}
}

// rel is path relative to root if it is under it, for messages.
func rel(root, path string) string {
	if r, err := filepath.Rel(root, path); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return path
}

// signingKeyFile returns SIGNING_KEY_FILE, or signing-key.pem in the data
// directory, which it generates on first use: the local stack's token
// signing key, kept so that tokens survive a restart.
func signingKeyFile(data string) (string, error) {
	if f := os.Getenv("SIGNING_KEY_FILE"); f != "" {
		return f, nil
	}
	f := filepath.Join(data, "signing-key.pem")
	if _, err := os.Stat(f); err == nil {
		return f, nil
	}
	pem, err := accesstoken.GenerateSigningKeyPEM()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
		return "", err
	}
	return f, os.WriteFile(f, pem, 0o600)
}

// devAWS is the SDK configuration of the local stack: static credentials
// for a DynamoDB on this machine, and the developer's usual chain (profiles,
// SSO) for anything else, which the Lambda functions never need.
func devAWS(ctx context.Context, cfg envconfig.Config) (aws.Config, error) {
	if c, err := cfg.AWS(ctx); err == nil {
		return c, nil
	}
	return awsconfig.LoadDefaultConfig(ctx)
}

// printChanges prints each auth-method change event, as the changes
// function would publish it to the bus in AWS, as one JSON line.
func printChanges(ctx context.Context, out io.Writer, db *dynamodb.Client, streams *dynamodbstreams.Client, table string, tailing chan<- struct{}) {
	err := changes.Tail(ctx, db, streams, table, false, func() { close(tailing) }, func(recs []events.DynamoDBEventRecord) {
		for _, r := range recs {
			if c, ok := changes.FromRecord(r); ok {
				b, _ := json.Marshal(map[string]any{"detail-type": changes.DetailType, "source": changeSource, "detail": c})
				fmt.Fprintln(out, string(b))
			}
		}
	})
	if err != nil && ctx.Err() == nil {
		fmt.Fprintf(out, "change events are not shown: %v (a table made before uauth had a stream needs make clean)\n", err)
	}
}

// changeSource is the source of change events, as CHANGE_EVENT_SOURCE
// sets it in AWS.
const changeSource = "uauth"
