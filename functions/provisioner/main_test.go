package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/uauth/uauth/pkg/dynamostore"
	"github.com/uauth/uauth/pkg/dynamotest"
	"github.com/uauth/uauth/pkg/lambdatest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }

// TestBootstrapProvisionsFromTheSampleBatch runs the real bootstrap with
// DEFAULT_UA_CONFIG under the Lambda Runtime Interface Emulator and feeds
// it the events/ SQS samples.
func TestBootstrapProvisionsFromTheSampleBatch(t *testing.T) {
	table := dynamotest.NewTable(t)
	fn := lambdatest.Start(t, lambdatest.Build(t, "."),
		"TABLE_NAME="+table, "DYNAMODB_ENDPOINT="+dynamotest.Endpoint(),
		`DEFAULT_UA_CONFIG={"accessTokenTTL":3600,"accessTokenTrustedIps":[{"ipAddress":"10.0.0.0/8"}]}`)
	store := dynamostore.New(dynamotest.Client(t), table)
	const identityID, org = "8c1f4b8e-5d2a-4b7e-9f3c-2a6d1e0b7c45", "11111111-1111-4111-8111-111111111111"

	for _, sample := range []string{"sqs-identity-created.json", "sqs-identity-deleted.json"} {
		raw, err := os.ReadFile("../../events/" + sample)
		if err != nil {
			t.Fatal(err)
		}
		res := fn.Invoke(raw)
		var resp events.SQSEventResponse
		if res.Error != nil || json.Unmarshal(res.Payload, &resp) != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("%s: %s; log:\n%s", sample, res, fn.Log())
		}
		c, err := store.GetConfig(context.Background(), org, identityID)
		switch sample {
		case "sqs-identity-created.json":
			if err != nil || c.AccessTokenTTL != 3600 || c.AccessTokenTrustedIPs[0].Address != "10.0.0.0" {
				t.Fatalf("after create: %+v, %v; want DEFAULT_UA_CONFIG attached", c, err)
			}
		default:
			if err == nil {
				t.Fatal("the identity survived its delete")
			}
		}
	}
}

func TestBootstrapRefusesAnInvalidDefault(t *testing.T) {
	fn := lambdatest.Start(t, lambdatest.Build(t, "."), "TABLE_NAME=t",
		`DEFAULT_UA_CONFIG={"accessTokenTrustedIps":[{"ipAddress":"10.0.0.0/8x"}]}`)
	if res := fn.Invoke([]byte(`{"Records":[]}`)); !res.Exited() {
		t.Fatalf("a misconfigured function answered: %s", res)
	}
	fn.Stop()
	log := fn.Log()
	if !fn.InitFailed() || !strings.Contains(log, `"msg":"cold start failed"`) || !strings.Contains(log, "The IP is not a valid IPv4, IPv6, or CIDR block") {
		t.Fatalf("cold start log:\n%s", log)
	}
}
