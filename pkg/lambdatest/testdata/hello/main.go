// Command hello is the smallest aws-lambda-go function: the baseline that
// cold-start benchmarks divide by.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, map[string]any) (string, error) { return "hello", nil })
}
