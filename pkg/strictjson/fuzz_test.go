package strictjson_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/uauth/uauth/pkg/strictjson"
	"github.com/uauth/uauth/pkg/validation"
)

// FuzzDecode: Decode never panics; it fails only with a *validation.Error;
// and whenever it succeeds, the document was one valid JSON object (or
// null, or nothing) with no name repeated at any depth, read to its end.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		``, `null`, `{}`, `{"a":1}`, `{"a":1,"a":2}`, `{"a":{"b":[1,{"c":"d"}]}}`, `{"a":[1,]}`,
		`{"a":"\u00e9\ud83d\ude00"}`, `{"a":1}{}`, `{"a":1} x`, `[1]`, `{"a":3.6e3,"b":true,"c":null}`,
		"{\"a\":\"\xff\"}", `{"a":1,"\u0061":2}`, `{"A":1,"a":2}`,
	} {
		f.Add([]byte(seed), true)
		f.Add([]byte(seed), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, allowNull bool) {
		// A copy: Decode must not write to the document.
		doc := bytes.Clone(data)
		err := strictjson.Decode(doc, allowNull, walk)
		if !bytes.Equal(doc, data) {
			t.Fatalf("Decode changed the document")
		}
		if err != nil {
			var verr *validation.Error
			if !errors.As(err, &verr) || len(verr.Issues) == 0 {
				t.Fatalf("Decode(%q) = %v (%T), want a *validation.Error with issues", data, err, err)
			}
			return
		}
		trimmed := bytes.TrimSpace(data)
		if len(trimmed) == 0 {
			// Emptiness is judged by bytes.TrimSpace; see
			// TestDecodeEmptyMeansJSONWhitespaceOnly.
			if !allowNull {
				t.Fatalf("Decode(%q, false) = nil for an empty document", data)
			}
			return
		}
		v := jsontext.Value(data)
		if !v.IsValid() { // one value, valid UTF-8, no duplicate names
			t.Fatalf("Decode(%q) = nil for a document that is not valid JSON", data)
		}
		switch k := v.Kind(); {
		case k == '{':
		case k == 'n' && allowNull:
		default:
			t.Fatalf("Decode(%q, %v) = nil for a %v", data, allowNull, k)
		}
	})
}
