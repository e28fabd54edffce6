package twilio

import (
	"crypto/hmac"
	"crypto/sha1" // Twilio's choice; as an HMAC, SHA-1 is still sound
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
)

// Sign returns the X-Twilio-Signature Twilio sends with a webhook to
// rawURL carrying the POST parameters form: the base64 HMAC-SHA1, keyed
// with the account's auth token, of the URL exactly as given followed by
// every parameter name (in byte order) and value, with no separators.
//
// A name sent more than once contributes name+value for each of its
// values, in byte order of the values, as Twilio's Node and Go validators
// do. Twilio's SMS webhooks send every name once, and Parse refuses a
// repeat of the fields it reads.
func Sign(authToken, rawURL string, form url.Values) string {
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(rawURL))
	names := make([]string, 0, len(form))
	for name := range form {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		values := slices.Clone(form[name])
		slices.Sort(values)
		for _, v := range values {
			mac.Write([]byte(name))
			mac.Write([]byte(v))
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Verify reports whether signature is Twilio's for a webhook to rawURL
// carrying form, comparing in constant time. Twilio is inconsistent about
// writing the scheme's default port into the URL it signs, so, as its own
// validators do, the URL is also tried with ":443" (https) or ":80" (http)
// added when it has no port, or removed when it has that one. A missing
// signature never verifies.
func Verify(authToken, rawURL string, form url.Values, signature string) bool {
	if signature == "" {
		return false
	}
	got := []byte(signature)
	ok := hmac.Equal([]byte(Sign(authToken, rawURL, form)), got)
	if alt, has := portVariant(rawURL); has {
		// Both are computed whatever the first gave, so the time taken
		// says nothing about which URL matched.
		ok = hmac.Equal([]byte(Sign(authToken, alt, form)), got) || ok
	}
	return ok
}

// portVariant returns rawURL with the scheme's default port added to or
// removed from its host. The URL is edited as text, never re-serialised by
// net/url, whose escaping could differ from what Twilio signed. A URL with
// another port, or not http(s), has no variant.
func portVariant(rawURL string) (string, bool) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return "", false
	}
	var port string
	switch strings.ToLower(scheme) {
	case "https":
		port = ":443"
	case "http":
		port = ":80"
	default:
		return "", false
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	// Credentials for HTTP auth may precede the host (user:pass@host).
	at := strings.LastIndexByte(authority, '@') + 1
	userinfo, host := authority[:at], authority[at:]
	if h, ok := strings.CutSuffix(host, port); ok {
		return scheme + "://" + userinfo + h + tail, true
	}
	// A colon after any IPv6 literal's closing bracket starts a port.
	if i := strings.LastIndexByte(host, ':'); i > strings.LastIndexByte(host, ']') {
		return "", false
	}
	return scheme + "://" + userinfo + host + port + tail, true
}
