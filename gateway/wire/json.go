package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
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
