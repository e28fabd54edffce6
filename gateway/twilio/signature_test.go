package twilio_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/barefoot-ussd/barefoot/gateway/twilio"
)

// The example in Twilio's webhook security documentation, also the test
// vector of its Go and Node validators.
const (
	docToken = "12345"
	docURL   = "https://mycompany.com/myapp.php?foo=1&bar=2"
	docSig   = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
	// docSigPort is the same request signed with ":443" in the URL.
	docSigPort = "kvajT1Ptam85bY51eRf/AJRuM3w="
)

func docForm() url.Values {
	return url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {"+14158675309"},
		"Digits":  {"1234"},
		"From":    {"+14158675309"},
		"To":      {"+18005551212"},
	}
}

// hmacSHA1 is the documented algorithm's last step, computed here without
// the package.
func hmacSHA1(token, s string) string {
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func TestSignPublishedVector(t *testing.T) {
	if got := twilio.Sign(docToken, docURL, docForm()); got != docSig {
		t.Errorf("Sign = %q, want Twilio's %q", got, docSig)
	}
	portURL := strings.Replace(docURL, ".com/", ".com:443/", 1)
	if got := twilio.Sign(docToken, portURL, docForm()); got != docSigPort {
		t.Errorf("Sign with :443 = %q, want %q", got, docSigPort)
	}
	if !twilio.Verify(docToken, docURL, docForm(), docSig) {
		t.Error("Verify refuses Twilio's own example")
	}
}

// TestSignByHand writes out the signed string as the documentation
// describes it: the URL as given (its query not re-sorted), then each
// parameter name in byte order (upper case before lower) followed by its
// value, a repeated name once per value.
func TestSignByHand(t *testing.T) {
	const token = "f00dfacef00dfacef00dfacef00dface"
	const u = "https://gw.example.org/sms/twilio?z=1&a=2"
	form := url.Values{
		"Body":        {"状态 <&>"},
		"From":        {"+8613800138000"},
		"MessageSid":  {"SM1f0e2d3c4b5a69788796a5b4c3d2e1f0"},
		"NumSegments": {"1"},
		"apiExtra":    {""},
		"Zeta":        {"b", "a"},
	}
	signed := u +
		"Body状态 <&>" +
		"From+8613800138000" +
		"MessageSidSM1f0e2d3c4b5a69788796a5b4c3d2e1f0" +
		"NumSegments1" +
		"Zetaa" + "Zetab" +
		"apiExtra"
	want := hmacSHA1(token, signed)
	if got := twilio.Sign(token, u, form); got != want {
		t.Fatalf("Sign = %q, want %q (HMAC of %q)", got, want, signed)
	}
	if !twilio.Verify(token, u, form, want) {
		t.Fatal("Verify refuses the hand-made signature")
	}
}

// TestVerifyRefuses flips every byte of the URL, of each value and of the
// signature in turn: none of them may verify.
func TestVerifyRefuses(t *testing.T) {
	flip := func(s string, i int) string {
		b := []byte(s)
		b[i] ^= 0x01
		return string(b)
	}
	for i := range len(docURL) {
		if u := flip(docURL, i); twilio.Verify(docToken, u, docForm(), docSig) {
			t.Errorf("URL %q verifies", u)
		}
	}
	for name := range docForm() {
		v := docForm()[name][0]
		for i := range len(v) {
			form := docForm()
			form[name] = []string{flip(v, i)}
			if twilio.Verify(docToken, docURL, form, docSig) {
				t.Errorf("%s=%q verifies", name, form[name][0])
			}
		}
		form := docForm()
		renamed := form[name]
		delete(form, name)
		form[strings.ToLower(name)] = renamed
		if twilio.Verify(docToken, docURL, form, docSig) {
			t.Errorf("%s renamed %s verifies", name, strings.ToLower(name))
		}
		form = docForm()
		delete(form, name)
		if twilio.Verify(docToken, docURL, form, docSig) {
			t.Errorf("without %s verifies", name)
		}
	}
	for i := range len(docSig) {
		if s := flip(docSig, i); twilio.Verify(docToken, docURL, docForm(), s) {
			t.Errorf("signature %q verifies", s)
		}
	}
	extra := docForm()
	extra.Add("Extra", "1")
	if twilio.Verify(docToken, docURL, extra, docSig) {
		t.Error("an added parameter verifies")
	}
	if twilio.Verify("12346", docURL, docForm(), docSig) {
		t.Error("another token verifies")
	}
	if twilio.Verify(docToken, docURL, docForm(), "") {
		t.Error("a missing signature verifies")
	}
}

// TestVerifyDefaultPort: Twilio may sign with or without the scheme's
// default port whatever the configured URL says; no other port is
// guessed.
func TestVerifyDefaultPort(t *testing.T) {
	const token = "f00dfacef00dfacef00dfacef00dface"
	form := url.Values{"Body": {"状态"}}
	sig := func(u string) string {
		return hmacSHA1(token, u+"Body状态")
	}
	cases := []struct {
		signed, checked string
		ok              bool
	}{
		{"https://gw.example.org:443/sms/twilio", "https://gw.example.org/sms/twilio", true},
		{"https://gw.example.org/sms/twilio", "https://gw.example.org:443/sms/twilio", true},
		{"http://gw.example.org:80/sms/twilio", "http://gw.example.org/sms/twilio", true},
		{"http://gw.example.org/sms/twilio", "http://gw.example.org:80/sms/twilio", true},
		{"https://gw.example.org:443?x=1", "https://gw.example.org?x=1", true},
		{"https://u:p@[2001:db8::1]:443/sms", "https://u:p@[2001:db8::1]/sms", true},
		{"https://[2001:db8::1]/sms", "https://[2001:db8::1]:443/sms", true},
		// The wrong default port, another port, another scheme: refused.
		{"https://gw.example.org:80/sms/twilio", "https://gw.example.org/sms/twilio", false},
		{"http://gw.example.org:443/sms/twilio", "http://gw.example.org/sms/twilio", false},
		{"https://gw.example.org:8443/sms/twilio", "https://gw.example.org/sms/twilio", false},
		{"https://gw.example.org/sms/twilio", "https://gw.example.org:8443/sms/twilio", false},
		{"http://gw.example.org/sms/twilio", "https://gw.example.org/sms/twilio", false},
		// A port in the path is not the host's.
		{"https://gw.example.org/sms:443/twilio", "https://gw.example.org/sms/twilio", false},
	}
	for _, tc := range cases {
		if got := twilio.Verify(token, tc.checked, form, sig(tc.signed)); got != tc.ok {
			t.Errorf("signed for %s, checked for %s: %v, want %v", tc.signed, tc.checked, got, tc.ok)
		}
	}
}

// FuzzSignVerify: a signature verifies for what it was made for, and no
// longer once any byte of it changes.
func FuzzSignVerify(f *testing.F) {
	f.Add(docToken, docURL, "Body", "状态", 0)
	f.Add("", "https://gw.example.org:443/", "", "", 5)
	f.Fuzz(func(t *testing.T, token, u, name, value string, i int) {
		form := url.Values{name: {value}, "MessageSid": {"SM1"}}
		sig := twilio.Sign(token, u, form)
		if !twilio.Verify(token, u, form, sig) {
			t.Fatalf("Verify refuses Sign(%q, %q, %v)", token, u, form)
		}
		b := []byte(sig)
		b[uint(i)%uint(len(b))] ^= 0x01
		if twilio.Verify(token, u, form, string(b)) {
			t.Fatalf("a flipped signature verifies for %q", u)
		}
	})
}
