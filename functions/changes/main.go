// Command changes is the Lambda that reads the table's DynamoDB stream and
// publishes auth-method change events to the event bus. It only wires; see
// package changes.
package main

import (
	"context"
	"errors"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/uauth/uauth/pkg/changes"
	"github.com/uauth/uauth/pkg/envconfig"
)

func main() {
	level, err := envconfig.LogLevel(os.Getenv)
	log := envconfig.NewLogger(level)
	bus, source := os.Getenv("EVENT_BUS_NAME"), os.Getenv("CHANGE_EVENT_SOURCE")
	awsCfg, awsErr := envconfig.LambdaAWS(context.Background())
	err = errors.Join(err, awsErr)
	if err == nil && (bus == "" || source == "") {
		err = errAssert("EVENT_BUS_NAME and CHANGE_EVENT_SOURCE are required")
	}
	if err != nil {
		log.Error("cold start failed", slog.String("error", err.Error()))
		os.Exit(1)
	}
	p := &changes.Publisher{EB: eventbridge.NewFromConfig(awsCfg), Bus: bus, Source: source, Logger: log, Metrics: os.Stdout}
	lambda.Start(p.Handle)
}

type errAssert string

func (e errAssert) Error() string { return string(e) }
