package clientsecret_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/uauth/uauth/pkg/clientsecret"
	"github.com/uauth/uauth/pkg/validation"
)

const pathID = "8c1f4b8e-5d2a-4b7e-9f3c-2a6d1e0b7c45"

func TestDecodeCreateAcceptsTheContract(t *testing.T) {
	long := strings.Repeat("é", 512) // 1024 bytes, the most allowed
	cases := []struct {
		body string
		want clientsecret.CreateRequest
	}{
		{``, clientsecret.CreateRequest{}},
		{"  \n", clientsecret.CreateRequest{}},
		{`null`, clientsecret.CreateRequest{}},
		{`{}`, clientsecret.CreateRequest{}},
		{`{"description":null,"numUsesLimit":null,"ttl":null,"identityId":null}`, clientsecret.CreateRequest{}},
		{`{"description":"ci","numUsesLimit":5,"ttl":3600}`, clientsecret.CreateRequest{Description: "ci", NumUsesLimit: 5, TTL: 3600}},
		{`{"numUsesLimit":5.0,"ttl":3.6e3}`, clientsecret.CreateRequest{NumUsesLimit: 5, TTL: 3600}},
		{`{"numUsesLimit":0,"ttl":0}`, clientsecret.CreateRequest{}},
		{`{"numUsesLimit":9007199254740991,"ttl":315360000}`, clientsecret.CreateRequest{NumUsesLimit: 1<<53 - 1, TTL: 315360000}},
		{`{"description":"` + long + `"}`, clientsecret.CreateRequest{Description: long}},
		{`{"description":"","ttl":1}`, clientsecret.CreateRequest{TTL: 1}},
		// The path's id, repeated (the Terraform provider does), in any case.
		{`{"identityId":"` + pathID + `","ttl":60}`, clientsecret.CreateRequest{TTL: 60}},
		{`{"identityId":"` + strings.ToUpper(pathID) + `"}`, clientsecret.CreateRequest{}},
		// Unknown names, and names in another case, are ignored.
		{`{"TTL":"x","Description":7,"clientSecret":"abc","extra":{"ttl":-1,"a":[1,{"b":2}]},"ttl":9}`, clientsecret.CreateRequest{TTL: 9}},
	}
	for _, c := range cases {
		got, err := clientsecret.DecodeCreate([]byte(c.body), pathID)
		if err != nil || got != c.want {
			t.Errorf("DecodeCreate(%.80s) = %+v, %v; want %+v", c.body, got, err, c.want)
		}
	}
}

func TestDecodeCreateRefusesWhatTheSchemaDoesNot(t *testing.T) {
	rng := func(path, max string) validation.Issue {
		return validation.Issue{Path: path, Message: "must be an integer from 0 to " + max}
	}
	const maxUses, maxTTL = "9007199254740991", "315360000"
	cases := []struct {
		body string
		want []validation.Issue
	}{
		{`{"numUsesLimit":-1}`, []validation.Issue{rng("numUsesLimit", maxUses)}},
		{`{"numUsesLimit":9007199254740992}`, []validation.Issue{rng("numUsesLimit", maxUses)}},
		{`{"numUsesLimit":1e300}`, []validation.Issue{rng("numUsesLimit", maxUses)}},
		{`{"numUsesLimit":1.5}`, []validation.Issue{{Path: "numUsesLimit", Message: "expected an integer, got 1.5"}}},
		{`{"numUsesLimit":"5"}`, []validation.Issue{{Path: "numUsesLimit", Message: "expected an integer, got string"}}},
		{`{"ttl":-1}`, []validation.Issue{rng("ttl", maxTTL)}},
		{`{"ttl":315360001}`, []validation.Issue{rng("ttl", maxTTL)}},
		{`{"ttl":true}`, []validation.Issue{{Path: "ttl", Message: "expected an integer, got boolean"}}},
		{`{"description":1}`, []validation.Issue{{Path: "description", Message: "expected a string, got number"}}},
		{`{"description":["a"]}`, []validation.Issue{{Path: "description", Message: "expected a string, got array"}}},
		{`{"description":"` + strings.Repeat("x", 1025) + `"}`, []validation.Issue{{Path: "description", Message: "must be at most 1024 bytes"}}},
		{`{"description":"` + strings.Repeat("é", 513) + `"}`, []validation.Issue{{Path: "description", Message: "must be at most 1024 bytes"}}},
		{`{"identityId":"9d2e5c9f-6e3b-4c8f-a04d-3b7e2f1c8d56"}`, []validation.Issue{{Path: "identityId", Message: "does not match the identity id in the path"}}},
		{`{"identityId":"not-a-uuid"}`, []validation.Issue{{Path: "identityId", Message: "does not match the identity id in the path"}}},
		{`{"identityId":""}`, []validation.Issue{{Path: "identityId", Message: "does not match the identity id in the path"}}},
		{`{"identityId":"` + strings.ReplaceAll(pathID, "-", "") + `"}`, []validation.Issue{{Path: "identityId", Message: "does not match the identity id in the path"}}},
		{`{"identityId":"{` + pathID + `}"}`, []validation.Issue{{Path: "identityId", Message: "does not match the identity id in the path"}}},
		{`{"identityId":{"id":"` + pathID + `"}}`, []validation.Issue{{Path: "identityId", Message: "expected a string, got object"}}},
		// Every problem at once, in the body's order.
		{`{"ttl":"1","description":false,"numUsesLimit":-2,"identityId":7}`, []validation.Issue{
			{Path: "ttl", Message: "expected an integer, got string"},
			{Path: "description", Message: "expected a string, got boolean"},
			rng("numUsesLimit", maxUses),
			{Path: "identityId", Message: "expected a string, got number"},
		}},
		// A name given twice is refused, whatever its values.
		{`{"ttl":1,"ttl":1}`, []validation.Issue{{Path: "ttl", Message: "appears more than once"}}},
		{`{"description":"a","ttl":1,"description":"a"}`, []validation.Issue{{Path: "description", Message: "appears more than once"}}},
		{`{"extra":1,"extra":2}`, []validation.Issue{{Path: "extra", Message: "appears more than once"}}},
		// Not an object, or not JSON.
		{`[]`, []validation.Issue{{Path: "", Message: "body must be a JSON object: got array"}}},
		{`"ttl"`, []validation.Issue{{Path: "", Message: "body must be a JSON object: got string"}}},
		{`{"ttl":1`, []validation.Issue{{Path: "", Message: "body must be a JSON object: malformed JSON at byte 8"}}},
		{`{"ttl":1}x`, []validation.Issue{{Path: "", Message: "body must be a JSON object: malformed JSON at byte 9"}}},
	}
	for _, c := range cases {
		got, err := clientsecret.DecodeCreate([]byte(c.body), pathID)
		var verr *validation.Error
		if !errors.As(err, &verr) {
			t.Errorf("DecodeCreate(%.80s) = %+v, %v; want a *validation.Error", c.body, got, err)
			continue
		}
		if !reflect.DeepEqual(verr.Issues, c.want) {
			t.Errorf("DecodeCreate(%.80s) issues\n got  %+v\n want %+v", c.body, verr.Issues, c.want)
		}
		if got != (clientsecret.CreateRequest{}) {
			t.Errorf("DecodeCreate(%.80s) returned %+v with its error, want the zero request", c.body, got)
		}
	}
}
