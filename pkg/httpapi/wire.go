package httpapi

import (
	"bytes"
	"net/http"
	"sync"
	"time"

	"encoding/json"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/uauth/uauth/pkg/uaconfig"
)

// timeFormat is RFC 3339 in UTC with milliseconds, as Infisical sends it.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// writeJSON sends v as the response body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // only reachable by a programming error
		status, b = http.StatusInternalServerError, []byte(`{"statusCode":500,"message":"Something went wrong","error":"InternalServerError"}`)
	}
	writeBody(w, status, b)
}

func writeBody(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// configJSON is {"identityUniversalAuth": {...}}: the ids, every field of
// uaconfig.Fields in list order, which is Infisical's, then the timestamps.
func configJSON(c *uaconfig.Config) []byte {
	tokens := append(newTokens(), jsontext.BeginObject, jsontext.String("identityUniversalAuth"), jsontext.BeginObject,
		jsontext.String("id"), jsontext.String(c.ID),
		jsontext.String("clientId"), jsontext.String(c.ClientID),
		jsontext.String("identityId"), jsontext.String(c.IdentityID))
	tokens = appendFields(tokens, c)
	tokens = append(tokens,
		jsontext.String("createdAt"), jsontext.String(formatTime(c.CreatedAt)),
		jsontext.String("updatedAt"), jsontext.String(formatTime(c.UpdatedAt)),
		jsontext.EndObject, jsontext.EndObject)
	return encodeTokens(tokens)
}

// appendFields appends every field of uaconfig.Fields, as members. A
// trusted IP carries "prefix" only if it was given as a CIDR (see
// uaconfig.TrustedIP).
func appendFields(tokens []jsontext.Token, c *uaconfig.Config) []jsontext.Token {
	for i := range uaconfig.Fields {
		f := &uaconfig.Fields[i]
		tokens = append(tokens, jsontext.String(f.Name))
		switch f.Kind {
		case uaconfig.Int:
			tokens = append(tokens, jsontext.Int(*f.IntOf(c)))
		case uaconfig.Bool:
			tokens = append(tokens, jsontext.Bool(*f.BoolOf(c)))
		case uaconfig.IPList:
			tokens = append(tokens, jsontext.BeginArray)
			for _, ip := range *f.IPsOf(c) {
				tokens = append(tokens, jsontext.BeginObject,
					jsontext.String("ipAddress"), jsontext.String(ip.Address), jsontext.String("type"), jsontext.String(ip.Type))
				if ip.Prefix != nil {
					tokens = append(tokens, jsontext.String("prefix"), jsontext.Int(int64(*ip.Prefix)))
				}
				tokens = append(tokens, jsontext.EndObject)
			}
			tokens = append(tokens, jsontext.EndArray)
		}
	}
	return tokens
}

// encoder is a reusable jsontext encoder and its buffer: a new Encoder
// allocates several kilobytes of state, more than the response it writes.
type encoder struct {
	buf bytes.Buffer
	enc *jsontext.Encoder
}

var encoders = sync.Pool{New: func() any {
	e := &encoder{}
	e.enc = jsontext.NewEncoder(&e.buf)
	return e
}}

// newTokens returns a token slice with room for a configuration response.
func newTokens() []jsontext.Token { return make([]jsontext.Token, 0, 96) }

// encodeTokens writes a token sequence that is well-formed by construction.
func encodeTokens(tokens []jsontext.Token) []byte {
	e := encoders.Get().(*encoder)
	defer encoders.Put(e)
	e.buf.Reset()
	e.enc.Reset(&e.buf)
	for _, t := range tokens {
		if err := e.enc.WriteToken(t); err != nil {
			panic(err) // a programming error in the sequence
		}
	}
	return bytes.Clone(bytes.TrimSuffix(e.buf.Bytes(), []byte("\n")))
}
