package tencent

import (
	"encoding/hex"
	"net/http"
	"testing"
)

// Tencent's worked example of 签名方法 v3 (cloud.tencent.com, API 3.0
// "签名方法 v3"): DescribeInstances of CVM in ap-guangzhou, signed at
// 1551113065 (2019-02-25). The page masks its demo credentials with
// asterisks and computes its published values with the masked key as
// written, thirty-two '*'; every value below is the page's own.
const (
	docSecretID  = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******"
	docSecretKey = "********************************"
	docTimestamp = 1551113065
	// The body exactly as the page sends it, \u escapes and all: the
	// bytes are hashed, not the characters.
	docPayload       = `{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}`
	docHashedPayload = "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
	docCanonical     = "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\nx-tc-action:describeinstances\n\ncontent-type;host;x-tc-action\n" + docHashedPayload
	docStringToSign  = "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84"
	docSecretDate    = "da98fb70dcf6b112dc21038d1eeeb3a95c74b4dcb12c1131f864f6066bd02be0"
	docSecretService = "8d70cbefb03939f929db64d32dc2ba89b1095620119fe3e050e2b18c5bd2752f"
	docSecretSigning = "b596b923aad85185e2d1f6659d2a062e0a86731226e021e61bfe06f7ed05f5af"
	docSignature     = "10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f"
)

var docHeaders = []Header{
	// In the order and case a client might set them: the canonical form
	// sorts and lowers them, the action's value included.
	{"X-TC-Action", "DescribeInstances"},
	{"Content-Type", "application/json; charset=utf-8"},
	{"Host", "cvm.tencentcloudapi.com"},
}

// TestSignDocumentedVector reproduces every step of the worked example.
func TestSignDocumentedVector(t *testing.T) {
	canonical, signed := CanonicalRequest(http.MethodPost, docHeaders, []byte(docPayload))
	secretDate := hmacSHA256([]byte("TC3"+docSecretKey), Date(docTimestamp))
	secretService := hmacSHA256(secretDate, "cvm")
	for _, tc := range []struct{ step, got, want string }{
		{"canonical request", canonical, docCanonical},
		{"signed headers", signed, "content-type;host;x-tc-action"},
		{"date", Date(docTimestamp), "2019-02-25"},
		{"credential scope", Scope(docTimestamp, "cvm"), "2019-02-25/cvm/tc3_request"},
		{"string to sign", StringToSign(docTimestamp, "cvm", canonical), docStringToSign},
		{"SecretDate", hex.EncodeToString(secretDate), docSecretDate},
		{"SecretService", hex.EncodeToString(secretService), docSecretService},
		{"SecretSigning", hex.EncodeToString(SigningKey(docSecretKey, "2019-02-25", "cvm")), docSecretSigning},
		{"signature", Signature(SigningKey(docSecretKey, "2019-02-25", "cvm"), docStringToSign), docSignature},
		{"authorization", Authorization(docSecretID, docSecretKey, "cvm", docTimestamp, http.MethodPost, docHeaders, []byte(docPayload)),
			"TC3-HMAC-SHA256 Credential=" + docSecretID + "/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host;x-tc-action, Signature=" + docSignature},
	} {
		if tc.got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.step, tc.got, tc.want)
		}
	}
}

// TestSignCovers: changing anything signed changes the signature, and the
// timestamp's UTC date, not the local one, keys it.
func TestSignCovers(t *testing.T) {
	base := Authorization(docSecretID, docSecretKey, "cvm", docTimestamp, http.MethodPost, docHeaders, []byte(docPayload))
	other := func(h []Header, i int, v string) []Header {
		out := append([]Header(nil), h...)
		out[i].Value = v
		return out
	}
	for _, tc := range []struct {
		name string
		auth string
	}{
		{"key", Authorization(docSecretID, docSecretKey+"x", "cvm", docTimestamp, http.MethodPost, docHeaders, []byte(docPayload))},
		{"service", Authorization(docSecretID, docSecretKey, "sms", docTimestamp, http.MethodPost, docHeaders, []byte(docPayload))},
		{"timestamp", Authorization(docSecretID, docSecretKey, "cvm", docTimestamp+1, http.MethodPost, docHeaders, []byte(docPayload))},
		{"method", Authorization(docSecretID, docSecretKey, "cvm", docTimestamp, http.MethodGet, docHeaders, []byte(docPayload))},
		{"action", Authorization(docSecretID, docSecretKey, "cvm", docTimestamp, http.MethodPost, other(docHeaders, 0, "SendSms"), []byte(docPayload))},
		{"host", Authorization(docSecretID, docSecretKey, "cvm", docTimestamp, http.MethodPost, other(docHeaders, 2, "sms.tencentcloudapi.com"), []byte(docPayload))},
		{"body", Authorization(docSecretID, docSecretKey, "cvm", docTimestamp, http.MethodPost, docHeaders, []byte(docPayload+" "))},
	} {
		if tc.auth == base {
			t.Errorf("changing the %s leaves the signature as it was", tc.name)
		}
	}
	// 2019-02-25 23:59:59 and 2019-02-26 00:00:00 UTC: a new day, a new key.
	if Date(1551139199) != "2019-02-25" || Date(1551139200) != "2019-02-26" {
		t.Errorf("dates %s %s", Date(1551139199), Date(1551139200))
	}
}
