package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
)

// ReadJSON returns the raw JSON body of a callback after the checks
// encoding/json does not make. The body is read raw, never decompressed: a
// 16 KB gzip body can expand without bound, and no carrier compresses.
func ReadJSON(c *fiber.Ctx) ([]byte, error) {
	hdr := &c.Request().Header
	ct := hdr.ContentType()
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	if !bytes.EqualFold(bytes.TrimSpace(ct), []byte(fiber.MIMEApplicationJSON)) {
		return nil, &Error{Status: http.StatusUnsupportedMediaType, Message: "want application/json"}
	}
	if enc := bytes.TrimSpace(hdr.Peek(fiber.HeaderContentEncoding)); len(enc) > 0 && !bytes.EqualFold(enc, []byte("identity")) {
		return nil, &Error{Status: http.StatusUnsupportedMediaType, Message: "content encoding not supported"}
	}
	body := c.Request().Body()
	// encoding/json turns invalid bytes into U+FFFD without an error, so
	// the raw bytes are checked first.
	if !utf8.Valid(body) {
		return nil, Invalid("body", "not valid UTF-8")
	}
	return body, nil
}

// ObjectKeys returns the keys of the JSON object in body, in order, and
// refuses anything but exactly one object (trailing data included). It lets
// an adapter refuse a duplicated key, of which encoding/json silently keeps
// the last.
func ObjectKeys(body []byte) ([]string, error) {
	malformed := Invalid("body", "not a single JSON object")
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, malformed
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, malformed
		}
		k, _ := t.(string)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, malformed
		}
		keys = append(keys, k)
	}
	if _, err := dec.Token(); err != nil {
		return nil, malformed
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, Invalid("body", "trailing data after the JSON object")
	}
	return keys, nil
}

// Object is the shape of the JSON object a callback carries, for Decode.
type Object struct {
	// Fields are the keys read, spelt as refusals name them.
	Fields []string
	// FoldCase matches keys to Fields whatever their case, as
	// encoding/json does; a format of our own matches them exactly.
	FoldCase bool
	// Open lets keys other than Fields through, ignored, for a carrier
	// that adds fields without notice; a closed object refuses them.
	Open bool
	// Name is what a body that does not decode is said not to be
	// ("request", "Hubtel request").
	Name string
}

// Read reads a callback's JSON body (ReadJSON) into v (Decode).
func (o Object) Read(c *fiber.Ctx, v any) error {
	body, err := ReadJSON(c)
	if err != nil {
		return err
	}
	return o.Decode(body, v)
}

// Decode reads body, exactly one JSON object, into v. A field sent twice
// is refused: encoding/json silently keeps the last copy, so another
// parser would read the request differently. A key not in Fields is
// refused unless the object is Open. A value of the wrong JSON type is
// refused by the name of its field, never quoting the value, which may be
// personal; refusals from v's own UnmarshalJSON pass through.
func (o Object) Decode(body []byte, v any) error {
	keys, err := ObjectKeys(body)
	if err != nil {
		return err
	}
	names := make(map[string]string, len(o.Fields))
	for _, n := range o.Fields {
		names[o.fold(n)] = n
	}
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		f := o.fold(k)
		name, known := names[f]
		switch {
		case !known && o.Open:
			continue
		case !known:
			return Invalid("body", "unknown field%s", nameOf(k))
		case seen[f]:
			return Invalid(name, "sent more than once")
		}
		seen[f] = true
	}
	if err := json.Unmarshal(body, v); err != nil {
		if e, ok := AsError(err); ok {
			return e
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			if name := names[o.fold(te.Field)]; name != "" {
				return Invalid(name, "wrong JSON type")
			}
		}
		return Invalid("body", "not a valid %s", o.Name)
	}
	return nil
}

func (o Object) fold(k string) string {
	if o.FoldCase {
		return strings.ToLower(k)
	}
	return k
}

// nameOf quotes an unknown key for a refusal when it looks like a field
// name, so that a misspelling is easy to find; anything else may be data
// and is not echoed.
func nameOf(k string) string {
	if k == "" || len(k) > 32 {
		return ""
	}
	for _, r := range k {
		if r != '_' && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return ""
		}
	}
	return " " + k
}
