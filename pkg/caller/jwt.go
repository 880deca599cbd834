package caller

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/golang-jwt/jwt/v5"
)

// The two token kinds, told apart by algorithm first. Each is verified only
// with its own key material: platform tokens with the shared HS256 key,
// identity tokens with uauth's RSA public keys, found by kid. An HS256
// token "signed" with uauth's public key therefore never verifies.
const (
	AlgPlatform = "HS256"
	AlgIdentity = "RS256"
)

// Leeway is the clock skew allowed on exp, nbf and iat.
const Leeway = 5 * time.Second

// Header is a token's JOSE header.
type Header struct {
	Alg  string         `json:"alg"`
	Kid  string         `json:"kid,omitzero"`
	Typ  string         `json:"typ,omitzero"`
	Crit jsontext.Value `json:"crit,omitzero"`
}

// Token is a compact JWS, split and decoded but not yet verified.
type Token struct {
	Header Header
	// Claims are decoded strictly (see Claims); their signature is not
	// yet checked.
	Claims Claims

	signingInput string
	signature    []byte
}

// Claims is every claim uauth reads, from either kind of token. Names are
// exact: a claim repeated, or one spelled in another case ("ORGID",
// "Permissions"), makes the token invalid, so that no two readers of a
// token can disagree on what it says.
type Claims struct {
	Issuer    string           `json:"iss,omitzero"`
	Subject   string           `json:"sub,omitzero"`
	Audience  jwt.ClaimStrings `json:"aud,omitzero"`
	ExpiresAt *jwt.NumericDate `json:"exp,omitzero"`
	NotBefore *jwt.NumericDate `json:"nbf,omitzero"`
	IssuedAt  *jwt.NumericDate `json:"iat,omitzero"`
	ID        string           `json:"jti,omitzero"`

	OrgID       string   `json:"orgId,omitzero"`
	ActorType   string   `json:"actorType,omitzero"`
	Permissions []string `json:"permissions,omitzero"`

	// Identity access tokens only: when the login that began the token's
	// life happened (renewal keeps it), and what it was issued under.
	AuthTime       *jwt.NumericDate `json:"auth_time,omitzero"`
	ClientID       string           `json:"clientId,omitzero"`
	ClientSecretID string           `json:"clientSecretId,omitzero"`
	NumUsesLimit   int64            `json:"numUsesLimit,omitzero"`

	// Unknown claims are allowed (platforms add their own), as long as
	// none is a known name in another case.
	Unknown jsontext.Value `json:",embed"`
}

// jwt.Claims, for jwt.Validator.
var _ jwt.Claims = (*Claims)(nil)

func (c *Claims) GetExpirationTime() (*jwt.NumericDate, error) { return c.ExpiresAt, nil }
func (c *Claims) GetIssuedAt() (*jwt.NumericDate, error)       { return c.IssuedAt, nil }
func (c *Claims) GetNotBefore() (*jwt.NumericDate, error)      { return c.NotBefore, nil }
func (c *Claims) GetIssuer() (string, error)                   { return c.Issuer, nil }
func (c *Claims) GetSubject() (string, error)                  { return c.Subject, nil }
func (c *Claims) GetAudience() (jwt.ClaimStrings, error)       { return c.Audience, nil }

// knownClaims are Claims' JSON names, in lower case.
var knownClaims = func() map[string]bool {
	m := map[string]bool{}
	t := reflect.TypeFor[Claims]()
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" {
			m[strings.ToLower(name)] = true
		}
	}
	return m
}()

var b64 = base64.RawURLEncoding

// Parse splits and decodes a compact JWS. It checks the form only: the
// signature, the times and the issuer are the verifiers' business. Every
// failure wraps ErrInvalidToken.
func Parse(raw string) (*Token, error) {
	h, rest, ok1 := strings.Cut(raw, ".")
	p, s, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(s, ".") {
		return nil, invalid("not a compact JWS")
	}
	var tok Token
	header, err := b64.DecodeString(h)
	if err != nil {
		return nil, invalid("header: %v", err)
	}
	if err := json.Unmarshal(header, &tok.Header); err != nil {
		return nil, invalid("header: %v", err)
	}
	if len(tok.Header.Crit) > 0 {
		return nil, invalid("header: crit is not supported")
	}
	payload, err := b64.DecodeString(p)
	if err != nil {
		return nil, invalid("payload: %v", err)
	}
	if err := json.Unmarshal(payload, &tok.Claims); err != nil {
		return nil, invalid("claims: %v", err)
	}
	if err := tok.Claims.checkUnknown(); err != nil {
		return nil, err
	}
	if tok.signature, err = b64.DecodeString(s); err != nil {
		return nil, invalid("signature: %v", err)
	}
	tok.signingInput = raw[:len(h)+1+len(p)]
	return &tok, nil
}

// checkUnknown refuses an unknown claim whose name is a known one in
// another case.
func (c *Claims) checkUnknown() error {
	if len(c.Unknown) == 0 {
		return nil
	}
	dec := jsontext.NewDecoder(strings.NewReader(string(c.Unknown)))
	if _, err := dec.ReadToken(); err != nil {
		return invalid("claims: %v", err)
	}
	for dec.PeekKind() == '"' {
		name, err := dec.ReadToken()
		if err != nil {
			return invalid("claims: %v", err)
		}
		if knownClaims[strings.ToLower(name.String())] {
			return invalid("claims: %q is a claim name in the wrong case", name.String())
		}
		if err := dec.SkipValue(); err != nil {
			return invalid("claims: %v", err)
		}
	}
	return nil
}

// VerifySignature checks the signature with method and key.
func (t *Token) VerifySignature(method jwt.SigningMethod, key any) error {
	return method.Verify(t.signingInput, t.signature, key)
}

// UnverifiedIssuedAt is the token's iat as it claims it, for deciding
// whether to look for a newer key; zero if it has none.
func (t *Token) UnverifiedIssuedAt() time.Time {
	if t.Claims.IssuedAt == nil {
		return time.Time{}
	}
	return t.Claims.IssuedAt.Time
}

// Validator returns the time (and optionally issuer and audience) checks
// every token gets: exp is required, iat may not be in the future.
func Validator(now func() time.Time, opts ...jwt.ParserOption) *jwt.Validator {
	return jwt.NewValidator(append([]jwt.ParserOption{
		jwt.WithLeeway(Leeway), jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithTimeFunc(now),
	}, opts...)...)
}

// invalid returns ErrInvalidToken with a reason, which goes to the log
// only: callers see the generic message.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidToken, fmt.Sprintf(format, args...))
}
