// Package envconfig reads the functions' configuration from the environment
// and builds what depends on it: the logger, the DynamoDB client, the token
// secret. Every knob is documented in the README's configuration table.
package envconfig

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/uauth/uauth/pkg/dynamostore"
	"github.com/uauth/uauth/pkg/keyring"
	"github.com/uauth/uauth/pkg/uaconfig"
)

// DefaultAudience is the aud of uauth's tokens unless TOKEN_AUDIENCE says
// otherwise; a JWT authorizer in front of another API names it.
const DefaultAudience = "uauth"

// DefaultTombstoneTTL outlives any event still on its way: SQS keeps a
// message at most 14 days, and EventBridge retries delivery for up to 24
// hours before that. Tombstones are tiny, so the margin is generous.
const DefaultTombstoneTTL = 30 * 24 * time.Hour

// Config is the environment of both functions.
type Config struct {
	TableName        string     // TABLE_NAME, required
	DynamoDBEndpoint string     // DYNAMODB_ENDPOINT: DynamoDB Local, LocalStack; empty for AWS
	LogLevel         slog.Level // LOG_LEVEL: debug, info (default), warn, error

	AuthSecret    string // AUTH_SECRET: HS256 key of platform tokens, for local use only
	AuthSecretARN string // AUTH_SECRET_ARN: Secrets Manager secret holding it, in Lambda
	MaxBodyBytes  int64  // MAX_BODY_BYTES: request body cap; 0 means the API's default

	SigningKeyARN      string        // SIGNING_KEY_SECRET_ARN: Secrets Manager secret holding uauth's RSA key (PEM)
	SigningKeyFile     string        // SIGNING_KEY_FILE: the same in a file, for local use
	ClientSecretKeyARN string        // CLIENT_SECRET_KEY_ARN: Secrets Manager secret holding the client-secret HMAC key
	ClientSecretKey    string        // CLIENT_SECRET_KEY: the same, for local use
	Issuer             string        // ISSUER: the iss of uauth's tokens; empty means the URL requests come in on
	Audience           string        // TOKEN_AUDIENCE: the aud of uauth's tokens (default "uauth")
	CallTimeout        time.Duration // DYNAMODB_TIMEOUT: deadline of each DynamoDB call (default 3s)

	// The authorizer's.
	RoutePermissions    string // ROUTE_PERMISSIONS: "METHOD /path=permission" entries, ";" or newline separated
	AllowPlatformTokens bool   // ALLOW_PLATFORM_TOKENS: the authorizer accepts platform (HS256) tokens too (default false)

	AutoAttach    bool            // AUTO_ATTACH: attach DefaultConfig on Identity Created (default true)
	DefaultConfig uaconfig.Config // DEFAULT_UA_CONFIG: POST-body JSON over Infisical's defaults
	TombstoneTTL  time.Duration   // TOMBSTONE_TTL: how long a deleted identity stays deleted

	// LogOutput is where the logs go: not read from the environment; nil
	// means stdout, which Lambda sends to CloudWatch Logs.
	LogOutput io.Writer
}

// Load reads the configuration through getenv (os.Getenv in production)
// and validates it, so that a bad deployment fails at cold start rather
// than on a request.
func Load(getenv func(string) string) (Config, error) {
	c := Config{
		TableName:          getenv("TABLE_NAME"),
		DynamoDBEndpoint:   getenv("DYNAMODB_ENDPOINT"),
		AuthSecret:         getenv("AUTH_SECRET"),
		AuthSecretARN:      getenv("AUTH_SECRET_ARN"),
		SigningKeyARN:      getenv("SIGNING_KEY_SECRET_ARN"),
		SigningKeyFile:     getenv("SIGNING_KEY_FILE"),
		ClientSecretKeyARN: getenv("CLIENT_SECRET_KEY_ARN"),
		ClientSecretKey:    getenv("CLIENT_SECRET_KEY"),
		Issuer:             strings.TrimSuffix(getenv("ISSUER"), "/"),
		Audience:           DefaultAudience,
		CallTimeout:        dynamostore.DefaultCallTimeout,
		AutoAttach:         true,
		DefaultConfig:      uaconfig.InfisicalDefaults(),
		TombstoneTTL:       DefaultTombstoneTTL,
	}
	var errs []error
	if c.TableName == "" {
		errs = append(errs, errors.New("TABLE_NAME is required"))
	}
	var err error
	if c.LogLevel, err = LogLevel(getenv); err != nil {
		errs = append(errs, err)
	}
	if v := getenv("MAX_BODY_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("MAX_BODY_BYTES: want a positive integer, got %q", v))
		}
		c.MaxBodyBytes = n
	}
	if v := getenv("AUTO_ATTACH"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("AUTO_ATTACH: want true or false, got %q", v))
		}
		c.AutoAttach = b
	}
	c.RoutePermissions = getenv("ROUTE_PERMISSIONS")
	if v := getenv("ALLOW_PLATFORM_TOKENS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("ALLOW_PLATFORM_TOKENS: want true or false, got %q", v))
		}
		c.AllowPlatformTokens = b
	}
	if v := getenv("DEFAULT_UA_CONFIG"); strings.TrimSpace(v) != "" {
		// The same decoder and rules as a POST body.
		s, err := uaconfig.DecodeSettings([]byte(v), "")
		if err == nil {
			c.DefaultConfig = s.Apply(c.DefaultConfig)
			err = uaconfig.CheckTTL(c.DefaultConfig.AccessTokenTTL, c.DefaultConfig.AccessTokenMaxTTL)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("DEFAULT_UA_CONFIG: %w", err))
		}
	}
	if v := getenv("TOKEN_AUDIENCE"); v != "" {
		c.Audience = v
	}
	if c.Issuer != "" {
		if u, err := url.Parse(c.Issuer); err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
			errs = append(errs, fmt.Errorf("ISSUER: want an absolute URL such as https://auth.example.com, got %q", c.Issuer))
		}
	}
	if v := getenv("DYNAMODB_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("DYNAMODB_TIMEOUT: want a positive duration such as 3s, got %q", v))
		}
		c.CallTimeout = d
	}
	if v := getenv("TOMBSTONE_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("TOMBSTONE_TTL: want a positive duration such as 360h, got %q", v))
		}
		c.TombstoneTTL = d
	}
	return c, errors.Join(errs...)
}

// Logger returns the JSON logger every line of uauth goes through.
func (c Config) Logger() *slog.Logger {
	out := c.LogOutput
	if out == nil {
		out = os.Stdout
	}
	return slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: c.LogLevel}))
}

// NewLogger is the JSON logger at level, for functions that need no more
// of Config (the changes and key rotation functions).
func NewLogger(level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level}))
}

// LogLevel reads LOG_LEVEL: info when unset.
func LogLevel(getenv func(string) string) (slog.Level, error) {
	var level slog.Level
	if v := getenv("LOG_LEVEL"); v != "" {
		if err := level.UnmarshalText([]byte(v)); err != nil {
			return slog.LevelInfo, fmt.Errorf("LOG_LEVEL: %w", err)
		}
	}
	return level, nil
}

// AWS returns the SDK configuration: the function's own in Lambda (see
// LambdaAWS), or static credentials for an endpoint on this machine
// (DynamoDB Local, LocalStack), which takes any.
func (c Config) AWS(ctx context.Context) (aws.Config, error) {
	if isLoopback(c.DynamoDBEndpoint) {
		return LocalAWS(), nil
	}
	return LambdaAWS(ctx)
}

// LambdaAWS is the SDK configuration of a Lambda function, read the way
// Lambda provides it: the region from AWS_REGION, and the execution role's
// credentials from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN), which Lambda keeps valid for the life of the
// execution environment, or, where Lambda serves them from an endpoint
// instead (AWS_CONTAINER_CREDENTIALS_FULL_URI, as with SnapStart), from
// that endpoint, cached and refreshed before they expire.
//
// It stands in for config.LoadDefaultConfig, which also links the shared
// config files, SSO, STS web identity and IMDS, none of which a function
// uses: that is about 2.5 MB of binary and package init before the first
// request (see the cold-start figures in docs/benchmarks.md).
func LambdaAWS(ctx context.Context) (aws.Config, error) {
	cfg := aws.Config{Region: os.Getenv("AWS_REGION")}
	if cfg.Region == "" {
		cfg.Region = os.Getenv("AWS_DEFAULT_REGION")
	}
	if cfg.Region == "" {
		return aws.Config{}, errors.New("AWS_REGION is not set")
	}
	switch uri := os.Getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI"); {
	case uri != "":
		provider := endpointcreds.New(uri, func(o *endpointcreds.Options) {
			o.AuthorizationToken = os.Getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN")
			if file := os.Getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); file != "" {
				o.AuthorizationTokenProvider = endpointcreds.TokenProviderFunc(func() (string, error) {
					b, err := os.ReadFile(file)
					return strings.TrimSpace(string(b)), err
				})
			}
		})
		cfg.Credentials = aws.NewCredentialsCache(provider)
	case os.Getenv("AWS_ACCESS_KEY_ID") != "":
		cfg.Credentials = credentials.NewStaticCredentialsProvider(
			os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN"))
	default:
		return aws.Config{}, errors.New("no AWS credentials in the environment (AWS_ACCESS_KEY_ID or AWS_CONTAINER_CREDENTIALS_FULL_URI)")
	}
	return cfg, nil
}

func isLoopback(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return false
	}
	if u.Hostname() == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(u.Hostname())
	return err == nil && ip.IsLoopback()
}

// DynamoDB returns a client for the table, pointed at DynamoDBEndpoint when set.
func (c Config) DynamoDB(cfg aws.Config) *dynamodb.Client {
	return NewDynamoDB(cfg, c.DynamoDBEndpoint)
}

// LocalAWS is the SDK configuration for a local endpoint: DynamoDB Local
// accepts any static credentials.
func LocalAWS() aws.Config {
	return aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	}
}

// maxRetryBackoff caps the SDK's backoff between attempts.
const maxRetryBackoff = 300 * time.Millisecond

// NewDynamoDB returns a DynamoDB client, on endpoint if it is not empty.
func NewDynamoDB(cfg aws.Config, endpoint string, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, append([]func(*dynamodb.Options){countAttempts, func(o *dynamodb.Options) {
		// The SDK's 3 attempts, with backoffs short enough to fit in a call's
		// deadline (DYNAMODB_TIMEOUT): the default's up to 20 s would end a
		// throttled request in a deadline error rather than the throttle,
		// which the API answers with a 503 and Retry-After.
		o.Retryer = retry.AddWithMaxBackoffDelay(retry.NewStandard(), maxRetryBackoff)
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			// DynamoDB Local's error responses fail the SDK's CRC32 check,
			// which only logs a warning; real DynamoDB keeps the check.
			o.DisableValidateResponseChecksum = true
		}
	}}, optFns...)...)
}

// Keys are where the API's key material comes from.
type Keys struct {
	// Platform is the HS256 key of platform tokens.
	Platform keyring.Source
	// Signing is uauth's RSA key, in PEM, that signs identity access tokens.
	Signing keyring.Source
	// ClientSecret is the HMAC key client secrets are kept under.
	ClientSecret keyring.Source
}

// Keys returns the API's key sources. Each is a Secrets Manager secret in
// AWS (its AWSCURRENT and, once rotated, AWSPREVIOUS versions, so that
// either side of a rotation verifies), or a local stand-in: AUTH_SECRET,
// SIGNING_KEY_FILE and CLIENT_SECRET_KEY.
func (c Config) Keys(cfg aws.Config) (Keys, error) {
	var k Keys
	var errs [3]error
	k.Platform, errs[0] = c.PlatformKey(cfg)
	k.Signing, errs[1] = c.SigningKey(cfg)
	k.ClientSecret, errs[2] = c.ClientSecretKeySource(cfg)
	return k, errors.Join(errs[:]...)
}

// PlatformKey is the source of the platform tokens' HS256 key:
// AUTH_SECRET_ARN, or AUTH_SECRET locally.
func (c Config) PlatformKey(cfg aws.Config) (keyring.Source, error) {
	var local keyring.Source
	if c.AuthSecret != "" {
		local = keyring.Static([]byte(c.AuthSecret))
	}
	return secretSource(cfg, "AUTH_SECRET_ARN", c.AuthSecretARN, "AUTH_SECRET", local)
}

// SigningKey is the source of uauth's RSA signing key (PEM):
// SIGNING_KEY_SECRET_ARN, or SIGNING_KEY_FILE locally.
func (c Config) SigningKey(cfg aws.Config) (keyring.Source, error) {
	var local keyring.Source
	if c.SigningKeyFile != "" {
		local = func(context.Context) ([][]byte, error) {
			b, err := os.ReadFile(c.SigningKeyFile)
			return [][]byte{b}, err
		}
	}
	return secretSource(cfg, "SIGNING_KEY_SECRET_ARN", c.SigningKeyARN, "SIGNING_KEY_FILE", local)
}

// ClientSecretKeySource is the source of the client secrets' HMAC key:
// CLIENT_SECRET_KEY_ARN, or CLIENT_SECRET_KEY locally.
func (c Config) ClientSecretKeySource(cfg aws.Config) (keyring.Source, error) {
	var local keyring.Source
	if c.ClientSecretKey != "" {
		local = keyring.Static([]byte(c.ClientSecretKey))
	}
	return secretSource(cfg, "CLIENT_SECRET_KEY_ARN", c.ClientSecretKeyARN, "CLIENT_SECRET_KEY", local)
}

// secretSource is the Secrets Manager secret arn (named by arnEnv) if set,
// else the local stand-in (named by localEnv).
func secretSource(cfg aws.Config, arnEnv, arn, localEnv string, local keyring.Source) (keyring.Source, error) {
	switch {
	case arn != "":
		return SecretVersions(secretsmanager.NewFromConfig(cfg), arnEnv, arn), nil
	case local != nil:
		return local, nil
	default:
		return nil, fmt.Errorf("set %s (or %s for local use)", arnEnv, localEnv)
	}
}

// SecretVersions is a keyring.Source over a Secrets Manager secret: its
// AWSCURRENT version and, once it has been rotated, AWSPREVIOUS. env names
// the variable that gave arn, for error messages.
func SecretVersions(client *secretsmanager.Client, env, arn string) keyring.Source {
	return func(ctx context.Context) ([][]byte, error) {
		var keys [][]byte
		for _, stage := range []string{"AWSCURRENT", "AWSPREVIOUS"} {
			out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
				SecretId: &arn, VersionStage: aws.String(stage),
			})
			var missing *smtypes.ResourceNotFoundException
			switch {
			case stage == "AWSPREVIOUS" && errors.As(err, &missing):
				continue // never rotated
			case err != nil:
				return nil, fmt.Errorf("%s (%s): %w", env, stage, err)
			case out.SecretString == nil || *out.SecretString == "":
				return nil, fmt.Errorf("%s (%s): the secret has no string value", env, stage)
			}
			keys = append(keys, []byte(*out.SecretString))
		}
		return keys, nil
	}
}
