package tencent

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Algorithm names Tencent Cloud API 3.0's request signature, "签名方法 v3".
//
// A request is signed in three steps. The canonical request is the method,
// the path ("/"), the query string, each signed header as "name:value\n"
// (names sorted, names and values in lower case and trimmed), a blank line,
// the signed header names joined by ';', and the hex SHA-256 of the body,
// one per line. The string to sign is the algorithm, the X-TC-Timestamp,
// the credential scope (the timestamp's UTC date, the service, and
// "tc3_request", joined by '/') and the hex SHA-256 of the canonical
// request. The signature is the hex HMAC-SHA256 of the string to sign, keyed
// by a key derived from the secret key: HMAC("TC3"+secret key, date), then
// HMAC of that with the service, then with "tc3_request".
//
// The official SDK's common module signs inside its client only, reading
// the clock there, so that no step can be checked on its own against
// Tencent's worked example; these functions are that algorithm, step by
// step, and the fake API in tencenttest checks requests with them.
const Algorithm = "TC3-HMAC-SHA256"

// Header is one header a signature covers.
type Header struct{ Name, Value string }

// CanonicalRequest returns the canonical request of a request with no query
// string (Tencent's POST requests have none) and the signed header names,
// joined by ';', as the Authorization header lists them.
func CanonicalRequest(method string, headers []Header, payload []byte) (canonical, signedHeaders string) {
	hs := make([]Header, len(headers))
	for i, h := range headers {
		hs[i] = Header{Name: strings.ToLower(strings.TrimSpace(h.Name)), Value: strings.ToLower(strings.TrimSpace(h.Value))}
	}
	sort.SliceStable(hs, func(i, j int) bool { return hs[i].Name < hs[j].Name })
	var b strings.Builder
	names := make([]string, len(hs))
	for i, h := range hs {
		b.WriteString(h.Name + ":" + h.Value + "\n")
		names[i] = h.Name
	}
	signedHeaders = strings.Join(names, ";")
	sum := sha256.Sum256(payload)
	canonical = strings.Join([]string{method, "/", "", b.String(), signedHeaders, hex.EncodeToString(sum[:])}, "\n")
	return canonical, signedHeaders
}

// Date is the UTC date of a timestamp, as the credential scope holds it.
func Date(timestamp int64) string {
	return time.Unix(timestamp, 0).UTC().Format(time.DateOnly)
}

// Scope is the credential scope: date/service/tc3_request.
func Scope(timestamp int64, service string) string {
	return Date(timestamp) + "/" + service + "/tc3_request"
}

// StringToSign returns the string whose HMAC is the signature.
func StringToSign(timestamp int64, service, canonicalRequest string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	return Algorithm + "\n" + strconv.FormatInt(timestamp, 10) + "\n" + Scope(timestamp, service) + "\n" + hex.EncodeToString(sum[:])
}

// SigningKey derives the key that signs one day's requests to one service
// from the secret key.
func SigningKey(secretKey, date, service string) []byte {
	k := hmacSHA256([]byte("TC3"+secretKey), date)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "tc3_request")
}

// Signature is the hex HMAC-SHA256 of stringToSign keyed by signingKey.
func Signature(signingKey []byte, stringToSign string) string {
	return hex.EncodeToString(hmacSHA256(signingKey, stringToSign))
}

// Authorization returns the Authorization header of a request: the
// algorithm, the credential (secret id and scope), the signed headers and
// the signature. It holds the secret id, never the secret key.
func Authorization(secretID, secretKey, service string, timestamp int64, method string, headers []Header, payload []byte) string {
	canonical, signed := CanonicalRequest(method, headers, payload)
	sig := Signature(SigningKey(secretKey, Date(timestamp), service), StringToSign(timestamp, service, canonical))
	return Algorithm + " Credential=" + secretID + "/" + Scope(timestamp, service) + ", SignedHeaders=" + signed + ", Signature=" + sig
}

func hmacSHA256(key []byte, msg string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msg))
	return mac.Sum(nil)
}
