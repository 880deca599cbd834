// Command keyrotation is the Lambda Secrets Manager calls to rotate uauth's
// token signing key. It only wires; see package keyrotation.
package main

import (
	"context"
	"errors"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/uauth/uauth/pkg/accesstoken"
	"github.com/uauth/uauth/pkg/envconfig"
	"github.com/uauth/uauth/pkg/keyrotation"
)

func main() {
	level, err := envconfig.LogLevel(os.Getenv)
	log := envconfig.NewLogger(level)
	awsCfg, awsErr := envconfig.LambdaAWS(context.Background())
	if err = errors.Join(err, awsErr); err != nil {
		log.Error("cold start failed", slog.String("error", err.Error()))
		os.Exit(1)
	}
	r := &keyrotation.Rotator{
		SM:       secretsmanager.NewFromConfig(awsCfg),
		Generate: accesstoken.GenerateSigningKeyPEM,
		Check:    func(b []byte) error { _, err := accesstoken.ParseSigningKey(b); return err },
	}
	lambda.Start(r.Handle)
}
