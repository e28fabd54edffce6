package twilio

import (
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/barefoot-ussd/barefoot/gateway/wire"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/gofiber/fiber/v2"
)

// Limits on webhook fields, in bytes. Sids are 34 characters; From and To
// leave room for channel prefixes such as "whatsapp:". Twilio allows 1600
// characters in a body; the cap counts bytes, and a character is at most
// four bytes of UTF-8, so it is four times that.
const (
	maxSid   = 64
	maxPhone = 64
	maxBody  = 4 * 1600
)

// SignatureHeader is the header Twilio signs its webhooks in.
const SignatureHeader = "X-Twilio-Signature"

// errBadSignature says nothing of what failed: a prober learns nothing.
var errBadSignature = &wire.Error{Status: http.StatusForbidden, Message: "bad signature"}

// errNoPublicURL is a configuration mistake, answered 500 and logged.
var errNoPublicURL = errors.New("twilio: AuthToken is set but PublicURL is empty")

// errNotConfigured refuses webhooks a gateway without Twilio's auth token
// cannot check.
var errNotConfigured = &wire.Error{Status: http.StatusForbidden, Message: "Twilio is not configured here: no auth token to check the signature"}

// SMS is the Twilio incoming SMS adapter.
type SMS struct {
	// AuthToken is the account's auth token, the key of the signature.
	// When empty, signatures are not checked: for local testing only,
	// since anyone could then post messages as any phone.
	AuthToken string
	// PublicURL is the base Twilio calls, as configured on the number
	// (https://gw.example.org, or https://example.org/barefoot behind a
	// proxy that strips /barefoot). Behind a proxy the request's own host
	// and scheme are not what Twilio signed, and X-Forwarded-* headers
	// can be forged, so the URL is rebuilt from this base and the path and
	// query the request arrived with.
	PublicURL string
}

// Route is the adapter's path under /sms/.
func (SMS) Route() string { return CarrierName }

// Carrier is the short name stored with messages.
func (SMS) Carrier() string { return CarrierName }

// Inline reports whether the carrier takes the reply in the HTTP response;
// Twilio takes it as TwiML.
func (SMS) Inline() bool { return true }

// Parse reads an incoming message webhook. The signature is checked first,
// over every parameter posted (Twilio adds parameters without notice), and
// a missing or wrong one is a 403; without an AuthToken every webhook is
// refused: an unsigned one could come from anyone. The
// phone number is returned as sent; the gateway normalises it. Twilio
// gives no receive time: ReceivedAt is left zero for the gateway's clock.
func (a SMS) Parse(c *fiber.Ctx) (sms.Message, error) {
	f, err := wire.ReadForm(c)
	if err != nil {
		return sms.Message{}, err
	}
	if err := a.verify(c); err != nil {
		return sms.Message{}, err
	}
	m := sms.Message{Direction: sms.In, Kind: sms.KindInbound, Carrier: CarrierName}
	err = f.Read(
		wire.Field{Name: "MessageSid", Required: true, Max: maxSid, To: &m.CarrierID},
		wire.Field{Name: "AccountSid", Required: true, Max: maxSid},
		wire.Field{Name: "From", Required: true, Max: maxPhone, To: &m.Phone},
		wire.Field{Name: "To", Max: maxPhone, To: &m.To},
		// An MMS may come without text: Body is then empty.
		wire.Field{Name: "Body", Max: maxBody, To: &m.Body},
	)
	if err != nil {
		return sms.Message{}, err
	}
	return m, nil
}

// verify checks the request's signature against its public URL.
func (a SMS) verify(c *fiber.Ctx) error {
	if a.AuthToken == "" {
		return errNotConfigured
	}
	if a.PublicURL == "" {
		return errNoPublicURL
	}
	sig := c.Get(SignatureHeader)
	if sig == "" {
		return errBadSignature
	}
	// Every parameter as posted, repeats included: what Twilio signed.
	form := url.Values{}
	for k, v := range c.Request().PostArgs().All() {
		name := string(k)
		form[name] = append(form[name], string(v))
	}
	if !Verify(a.AuthToken, publicURL(a.PublicURL, c), form, sig) {
		return errBadSignature
	}
	return nil
}

// publicURL is the URL Twilio requested: the configured base, then the
// path as it came on the request line (not the decoded, normalised one
// routing uses) and the raw query string.
func publicURL(base string, c *fiber.Ctx) string {
	uri := c.Request().URI()
	var b strings.Builder
	b.WriteString(strings.TrimRight(base, "/"))
	b.Write(uri.PathOriginal())
	if q := uri.QueryString(); len(q) > 0 {
		b.WriteByte('?')
		b.Write(q)
	}
	return b.String()
}

// Write answers the webhook with TwiML: the reply as one message, or an
// empty Response when there is nothing to say. Twilio splits a long reply
// into segments itself.
func (SMS) Write(c *fiber.Ctx, reply string) error {
	c.Set(fiber.HeaderContentType, fiber.MIMETextXMLCharsetUTF8)
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
	if reply == "" {
		b.WriteString(`<Response/>`)
	} else {
		b.WriteString(`<Response><Message>`)
		_ = xml.EscapeText(&b, []byte(reply)) // a strings.Builder never fails
		b.WriteString(`</Message></Response>`)
	}
	return c.Status(http.StatusOK).SendString(b.String())
}
