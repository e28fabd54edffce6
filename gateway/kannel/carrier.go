// Package kannel adapts Kannel's smsbox to the gateway: incoming messages,
// delivery reports, and the sendsms interface, which alerts go out
// through. An sms-service's get-url calls us once per incoming message with
// the fields substituted into the query string, in our deployment
//
//	get-url = "https://gw.example.org/sms/kannel?from=%p&to=%P&text=%b&id=%I&coding=%c&charset=%C"
//
// and sends the response body back to the phone as the reply. A form POST
// with the same fields is read too.
//
// New reads the carrier's settings:
//
//	BAREFOOT_KANNEL_URL       smsbox's sendsms port, e.g.
//	                          http://127.0.0.1:13013; messages go out
//	                          through Kannel once it and the username are set
//	BAREFOOT_KANNEL_USERNAME  a sendsms-user
//	BAREFOOT_KANNEL_PASSWORD  its password, required with the username
//	BAREFOOT_KANNEL_FROM      the sender number; the sendsms-user's default
//	                          when empty (without one Kannel refuses sends)
//
// With BAREFOOT_PUBLIC_URL set, every send asks Kannel for delivery
// reports at /sms/kannel/dlr under it. Start-up says so, in one line each,
// when sending through Kannel is configured without a sender or without
// the public URL. The recommended Kannel configuration is kannel.conf.
package kannel

import (
	"net/http"

	"github.com/barefoot-ussd/barefoot/gateway"
)

// CarrierName is Kannel's short name in stored messages, the key of its
// send client in sender.Sender.Carriers.
const CarrierName = "kannel"

// New returns Kannel as the gateway serves it: the SMS adapter, the
// delivery report route and, once BAREFOOT_KANNEL_URL and
// BAREFOOT_KANNEL_USERNAME are set, the send client.
func New(env gateway.CarrierEnv) (gateway.Carrier, error) {
	s := Sender{
		BaseURL: env.Setting("BAREFOOT_KANNEL_URL", ""), Username: env.Setting("BAREFOOT_KANNEL_USERNAME", ""),
		Password: env.Setting("BAREFOOT_KANNEL_PASSWORD", ""), From: env.Setting("BAREFOOT_KANNEL_FROM", ""), Client: env.HTTPClient,
	}
	if u := env.CallbackURL(CarrierName, dlrPath); u != "" {
		s.DLRURL = u + "?id=" + IDPlaceholder + "&t=" + TokenPlaceholder + "&status=%d"
	}
	send, err := env.SendClient(s.BaseURL != "" && s.Username != "", s, "BAREFOOT_KANNEL_USERNAME", "BAREFOOT_KANNEL_PASSWORD")
	c := gateway.Carrier{
		Name: CarrierName, SMS: SMS{}, Sender: send,
		Routes: []gateway.Route{{Method: http.MethodGet, Path: dlrPath, Handler: DLR(env.Deliveries)}},
	}
	if send != nil && s.From == "" {
		c.Notes = append(c.Notes, "BAREFOOT_KANNEL_FROM is empty: Kannel refuses every sendsms without a sender (400 \"Sender missing and no global set\") unless its sendsms-user has default-sender")
	}
	if send != nil && env.PublicURL == "" {
		c.Notes = append(c.Notes, "BAREFOOT_PUBLIC_URL is empty: Kannel is asked for no delivery reports, so alerts sent through it never show delivered")
	}
	return c, err
}
