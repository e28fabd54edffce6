package aliyun_test

import (
	"net/url"
	"testing"

	"github.com/barefoot-ussd/barefoot/gateway/aliyun"
)

// TestSignDocumentedVectors checks the signer against the worked examples
// Alibaba Cloud publishes, each with its AccessKey secret, the string to
// sign written out, and the signature:
//   - the RPC signature page's DescribeRegions example (secret testsecret),
//     whose older revision spells the timestamp parameter TimeStamp
//     (signature CT9X0VtwR86fNWSnsc6v8YGOjuE=, the one the page's URLs
//     still show) and whose current one Timestamp (OLeaidS1JvxuMvnyHOwuJ+uX5qY=);
//   - the SMS API's "HTTP协议及签名" SendSms example (secret testSecret),
//     with a Chinese SignName and a JSON TemplateParam, which exercise the
//     encoding of UTF-8 and of JSON punctuation.
func TestSignDocumentedVectors(t *testing.T) {
	describeRegions := func(timestampName string) url.Values {
		return url.Values{
			"AccessKeyId": {"testid"}, "Action": {"DescribeRegions"}, "Format": {"XML"},
			"SignatureMethod": {"HMAC-SHA1"}, "SignatureNonce": {"3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"},
			"SignatureVersion": {"1.0"}, timestampName: {"2016-02-23T12:46:24Z"}, "Version": {"2014-05-26"},
		}
	}
	tests := []struct {
		name         string
		method       string
		params       url.Values
		secret       string
		stringToSign string
		signature    string
	}{
		{
			name: "DescribeRegions, TimeStamp", method: "GET", params: describeRegions("TimeStamp"), secret: "testsecret",
			stringToSign: "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1" +
				"%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26TimeStamp%3D2016-02-23T12%253A46%253A24Z" +
				"%26Version%3D2014-05-26",
			signature: "CT9X0VtwR86fNWSnsc6v8YGOjuE=",
		},
		{
			name: "DescribeRegions, Timestamp", method: "GET", params: describeRegions("Timestamp"), secret: "testsecret",
			stringToSign: "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1" +
				"%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z" +
				"%26Version%3D2014-05-26",
			signature: "OLeaidS1JvxuMvnyHOwuJ+uX5qY=",
		},
		{
			name: "SendSms", method: "GET", secret: "testSecret",
			params: url.Values{
				"AccessKeyId": {"testId"}, "Action": {"SendSms"}, "Format": {"XML"}, "OutId": {"123"},
				"PhoneNumbers": {"15300000001"}, "RegionId": {"cn-hangzhou"}, "SignName": {"阿里云短信测试专用"},
				"SignatureMethod": {"HMAC-SHA1"}, "SignatureNonce": {"45e25e9b-0a6f-4070-8c85-2956eda1b466"},
				"SignatureVersion": {"1.0"}, "TemplateCode": {"SMS_71390007"}, "TemplateParam": {`{"customer":"test"}`},
				"Timestamp": {"2017-07-12T02:42:19Z"}, "Version": {"2017-05-25"},
			},
			stringToSign: "GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML%26OutId%3D123%26PhoneNumbers%3D15300000001" +
				"%26RegionId%3Dcn-hangzhou%26SignName%3D%25E9%2598%25BF%25E9%2587%258C%25E4%25BA%2591%25E7%259F%25AD%25E4%25BF%25A1" +
				"%25E6%25B5%258B%25E8%25AF%2595%25E4%25B8%2593%25E7%2594%25A8%26SignatureMethod%3DHMAC-SHA1" +
				"%26SignatureNonce%3D45e25e9b-0a6f-4070-8c85-2956eda1b466%26SignatureVersion%3D1.0%26TemplateCode%3DSMS_71390007" +
				"%26TemplateParam%3D%257B%2522customer%2522%253A%2522test%2522%257D%26Timestamp%3D2017-07-12T02%253A42%253A19Z" +
				"%26Version%3D2017-05-25",
			signature: "zJDF+Lrzhj/ThnlvIToysFRq6t4=",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := aliyun.StringToSign(tt.method, tt.params); got != tt.stringToSign {
				t.Errorf("StringToSign =\n%s\nwant\n%s", got, tt.stringToSign)
			}
			if got := aliyun.Sign(tt.method, tt.params, tt.secret); got != tt.signature {
				t.Errorf("Sign = %s, want %s", got, tt.signature)
			}
			// The Signature parameter itself is never signed.
			with := url.Values{}
			for k, v := range tt.params {
				with[k] = v
			}
			with.Set("Signature", tt.signature)
			if got := aliyun.Sign(tt.method, with, tt.secret); got != tt.signature {
				t.Errorf("Sign with Signature among the parameters = %s", got)
			}
			if got := aliyun.Sign(tt.method, tt.params, tt.secret+"x"); got == tt.signature {
				t.Error("another secret signs the same")
			}
			if got := aliyun.Sign("POST", tt.params, tt.secret); got == tt.signature {
				t.Error("another method signs the same")
			}
		})
	}
}

// TestPercentEncode: only A-Z a-z 0-9 - _ . ~ stay as they are; a space is
// %20, never +, and * and ~, which form encoders treat the other way, are
// %2A and ~.
func TestPercentEncode(t *testing.T) {
	for in, want := range map[string]string{
		"":           "",
		"AZaz09-_.~": "AZaz09-_.~",
		"a b":        "a%20b",
		"*":          "%2A",
		"+/=&%":      "%2B%2F%3D%26%25",
		`{"a":"1"}`:  "%7B%22a%22%3A%221%22%7D",
		"状态":         "%E7%8A%B6%E6%80%81",
		"\x00\xff":   "%00%FF",
	} {
		if got := aliyun.PercentEncode(in); got != want {
			t.Errorf("PercentEncode(%q) = %q, want %q", in, got, want)
		}
	}
}
