package logintest_test

import (
	"testing"

	"github.com/uauth/uauth/pkg/login/logintest"
)

// TestFakeKeepsTheContract: login's own tests may rely on the fake.
// dynamostore runs the same contract against DynamoDB Local.
func TestFakeKeepsTheContract(t *testing.T) {
	logintest.Contract(t, func(*testing.T) logintest.Fixture { return logintest.NewFake() })
}
