package accesstokentest_test

import (
	"testing"

	"github.com/uauth/uauth/pkg/accesstoken/accesstokentest"
)

// TestFakeKeepsTheContract: the token rules' tests may rely on the fake;
// dynamostore runs the same contract against DynamoDB Local.
func TestFakeKeepsTheContract(t *testing.T) {
	accesstokentest.Contract(t, func(*testing.T) accesstokentest.Fixture { return accesstokentest.NewFake() })
}
