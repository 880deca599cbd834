package httpapi_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/uauth/uauth/pkg/caller"
)

const lockedMessage = "This identity auth method is temporarily locked, please try again later"

// TestConcurrentGuessesAreBoundedByTheThreshold: 40 wrong secrets sent at
// once from one address, against a threshold of 3, and at most 3 of them
// learn that they were wrong; the rest are answered as locked, and the
// lockout is then in force, for the right secret too.
func TestConcurrentGuessesAreBoundedByTheThreshold(t *testing.T) {
	e := newEnv(t)
	id, client := e.attached(orgA, `{"lockoutThreshold": 3}`)
	secret, _ := e.newSecret(orgA, id, `{}`)
	var mu sync.Mutex
	answers := map[string]int{}
	parallel(40, func(i int) *response {
		r := e.login(client, fmt.Sprintf("%064x", i+1), addrA)
		body := r.json()
		mu.Lock()
		answers[fmt.Sprintf("%d %v", r.status(), body["message"])]++
		mu.Unlock()
		return r
	})
	invalid, locked := answers["401 Invalid credentials"], answers["401 "+lockedMessage]
	if invalid != 3 || invalid+locked != 40 {
		t.Fatalf("answers = %v, want exactly 3 'Invalid credentials' and the rest locked", answers)
	}
	e.login(client, secret, addrA).expectError(401, "UnauthorizedError", lockedMessage)
	// Another address has its own count.
	e.login(client, secret, addrB).ok()
}

// TestConcurrentPatchesAnswer200Or409: concurrent updates of one
// configuration retry with backoff, and one that still loses is a 409
// Conflict, never a 500; the result is one of the bodies sent, whole.
func TestConcurrentPatchesAnswer200Or409(t *testing.T) {
	e := newEnv(t)
	id, _ := e.attached(orgA, `{}`)
	tok := token(t, orgA, caller.IdentityEditAuth)
	body := func(i int) string {
		return fmt.Sprintf(`{"accessTokenTTL": %d, "accessTokenMaxTTL": %d, "lockoutThreshold": %d}`, 100+i, 200+i, 1+i)
	}
	statuses := parallel(20, func(i int) *response {
		r := e.do("PATCH", path(id), tok, body(i))
		if r.status() == 409 {
			r.expectError(409, "Conflict", "The identity was changed by concurrent requests, please try again")
		}
		return r
	})
	if statuses[200]+statuses[409] != 20 || statuses[200] == 0 {
		t.Fatalf("statuses = %v, want only 200 and 409, and some 200", statuses)
	}
	c := e.do("GET", path(id), token(t, orgA, caller.IdentityRead), "").config()
	i := int(c["accessTokenTTL"].(float64)) - 100
	if i < 0 || i >= 20 || c["accessTokenMaxTTL"] != float64(200+i) || c["lockoutThreshold"] != float64(1+i) {
		got, _ := json.Marshal(c)
		t.Fatalf("final configuration is no single body: %s", got)
	}
}

// TestClearLockoutsCapsItsBody: a body over the cap is refused before
// anything happens, as on every other route.
func TestClearLockoutsCapsItsBody(t *testing.T) {
	e := newEnv(t)
	id, _ := e.attached(orgA, `{}`)
	tok := token(t, orgA, caller.IdentityEditAuth)
	big := `{"description":"` + strings.Repeat("x", 2<<20) + `"}`
	e.do("POST", path(id)+"/clear-lockouts", tok, big).expectError(413, "PayloadTooLarge", "")
	e.do("POST", path(id)+"/clear-lockouts", tok, `{"identityId":"`+orgB+`"}`).expectError(422, "ValidationFailure", "")
	e.do("POST", path(id)+"/clear-lockouts", tok, `{"identityId":"`+id+`"}`).ok()
}
