package caller

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/uauth/uauth/pkg/strictjson"
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
	Alg string
	Kid string
	Typ string
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
// token can disagree on what it says. Other claims are allowed (platforms
// add their own).
type Claims struct {
	Issuer    string
	Subject   string
	Audience  jwt.ClaimStrings
	ExpiresAt *jwt.NumericDate
	NotBefore *jwt.NumericDate
	IssuedAt  *jwt.NumericDate
	ID        string

	OrgID       string
	ActorType   string
	Permissions []string

	// Identity access tokens only: when the login that began the token's
	// life happened (renewal keeps it), and what it was issued under.
	AuthTime       *jwt.NumericDate
	ClientID       string
	ClientSecretID string
	NumUsesLimit   int64
}

// jwt.Claims, for jwt.Validator.
var _ jwt.Claims = (*Claims)(nil)

func (c *Claims) GetExpirationTime() (*jwt.NumericDate, error) { return c.ExpiresAt, nil }
func (c *Claims) GetIssuedAt() (*jwt.NumericDate, error)       { return c.IssuedAt, nil }
func (c *Claims) GetNotBefore() (*jwt.NumericDate, error)      { return c.NotBefore, nil }
func (c *Claims) GetIssuer() (string, error)                   { return c.Issuer, nil }
func (c *Claims) GetSubject() (string, error)                  { return c.Subject, nil }
func (c *Claims) GetAudience() (jwt.ClaimStrings, error)       { return c.Audience, nil }

// decode reads the claims in one pass.
func (c *Claims) decode(payload []byte) error {
	return strictjson.Decode(payload, false, func(o *strictjson.Object, name string) error {
		var err error
		switch name {
		case "iss":
			c.Issuer, _, err = o.String(name)
		case "sub":
			c.Subject, _, err = o.String(name)
		case "jti":
			c.ID, _, err = o.String(name)
		case "orgId":
			c.OrgID, _, err = o.String(name)
		case "actorType":
			c.ActorType, _, err = o.String(name)
		case "clientId":
			c.ClientID, _, err = o.String(name)
		case "clientSecretId":
			c.ClientSecretID, _, err = o.String(name)
		case "permissions":
			c.Permissions, _, err = o.Strings(name)
		case "aud":
			if o.Kind() == '"' {
				var aud string
				aud, _, err = o.String(name)
				c.Audience = jwt.ClaimStrings{aud}
			} else {
				c.Audience, _, err = o.Strings(name)
			}
		case "exp":
			c.ExpiresAt, err = numericDate(o, name)
		case "nbf":
			c.NotBefore, err = numericDate(o, name)
		case "iat":
			c.IssuedAt, err = numericDate(o, name)
		case "auth_time":
			c.AuthTime, err = numericDate(o, name)
		case "numUsesLimit":
			c.NumUsesLimit, _, err = o.Int(name, 0, 1<<53-1)
		default:
			if knownClaims[strings.ToLower(name)] {
				o.Issue(name, "is a claim name in the wrong case")
			}
			err = o.Skip()
		}
		return err
	})
}

// knownClaims are the claims decode reads, in lower case.
var knownClaims = map[string]bool{
	"iss": true, "sub": true, "jti": true, "orgid": true, "actortype": true, "clientid": true, "clientsecretid": true,
	"permissions": true, "aud": true, "exp": true, "nbf": true, "iat": true, "auth_time": true, "numuseslimit": true,
}

// numericDate reads a NumericDate: seconds since the epoch, possibly with
// a fraction.
func numericDate(o *strictjson.Object, name string) (*jwt.NumericDate, error) {
	text, ok, err := o.Number(name)
	if !ok || err != nil {
		return nil, err
	}
	f, perr := strconv.ParseFloat(text, 64)
	if perr != nil || math.Abs(f) > 1<<53 {
		o.Issue(name, "is not a NumericDate")
		return nil, nil
	}
	secs, frac := math.Modf(f)
	return jwt.NewNumericDate(time.Unix(int64(secs), int64(frac*1e9))), nil
}

func (h *Header) decode(data []byte) error {
	return strictjson.Decode(data, false, func(o *strictjson.Object, name string) error {
		var err error
		switch name {
		case "alg":
			h.Alg, _, err = o.String(name)
		case "kid":
			h.Kid, _, err = o.String(name)
		case "typ":
			h.Typ, _, err = o.String(name)
		case "crit":
			o.Issue(name, "is not supported")
			err = o.Skip()
		default:
			err = o.Skip()
		}
		return err
	})
}

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
	if err := tok.Header.decode(header); err != nil {
		return nil, invalid("header: %v", err)
	}
	payload, err := b64.DecodeString(p)
	if err != nil {
		return nil, invalid("payload: %v", err)
	}
	if err := tok.Claims.decode(payload); err != nil {
		return nil, invalid("claims: %v", err)
	}
	if tok.signature, err = b64.DecodeString(s); err != nil {
		return nil, invalid("signature: %v", err)
	}
	tok.signingInput = raw[:len(h)+1+len(p)]
	return &tok, nil
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

// IssuedAt refuses a token that claims to be issued later than now, beyond
// the leeway. Verifiers apply it before anything that costs: the signature
// is checked later, but no real token comes from the future, and a future
// iat is what would make a key ring look for a newer key.
func (t *Token) IssuedAt(now time.Time) error {
	if iat := t.UnverifiedIssuedAt(); iat.After(now.Add(Leeway)) {
		return invalid("iat is in the future")
	}
	return nil
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
