package aliyun

import (
	"crypto/hmac"
	"crypto/sha1" // Alibaba Cloud's choice for RPC signatures; as an HMAC, SHA-1 is still sound
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
)

// Alibaba Cloud's RPC signature, version 1.0: the parameters of a request,
// Signature aside, sorted by name, each name and value percent-encoded
// (RFC 3986: only A-Z a-z 0-9 - _ . ~ stay as they are, a space is %20)
// and joined as name=value&...; that string, percent-encoded once more,
// after the method and the encoded "/", is the string to sign:
//
//	GET&%2F&AccessKeyId%3Dtestid%26Action%3D...
//
// The signature is the base64 HMAC-SHA1 of it keyed with the AccessKey
// secret followed by "&".

// PercentEncode encodes s as the signature's rules say, byte by byte of its
// UTF-8.
func PercentEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// CanonicalQuery is params, without Signature, sorted by name and encoded
// as the signature's rules say. A name with several values contributes each
// of them, in order; Alibaba Cloud's parameters have one value each.
func CanonicalQuery(params url.Values) string {
	names := make([]string, 0, len(params))
	for name := range params {
		if name != "Signature" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	var b strings.Builder
	for _, name := range names {
		for _, v := range params[name] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(PercentEncode(name))
			b.WriteByte('=')
			b.WriteString(PercentEncode(v))
		}
	}
	return b.String()
}

// StringToSign is what a request with params, sent with method, signs.
func StringToSign(method string, params url.Values) string {
	return method + "&" + PercentEncode("/") + "&" + PercentEncode(CanonicalQuery(params))
}

// Sign returns the Signature of a request with params sent with method,
// signed with an AccessKey secret.
func Sign(method string, params url.Values, secret string) string {
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(StringToSign(method, params)))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
