// Package twilio adapts Twilio's Programmable Messaging to the gateway: its
// incoming message webhook, its status callbacks, and its Messages API,
// which alerts go out through. Twilio POSTs a form per incoming message,
// signed with the account's auth token (X-Twilio-Signature), and waits for
// TwiML: the reply SMS goes back in the response.
//
// New reads the carrier's settings:
//
//	BAREFOOT_TWILIO_ACCOUNT_SID  the account; messages go out through
//	                             Twilio once it is set
//	BAREFOOT_TWILIO_AUTH_TOKEN   the account's auth token, required with the
//	                             account; it also turns on the signature
//	                             checks of Twilio's webhooks, which need
//	                             BAREFOOT_PUBLIC_URL
//	BAREFOOT_TWILIO_FROM         our Twilio number, E.164, required with the
//	                             account
//	BAREFOOT_TWILIO_BASE_URL     the REST API, https://api.twilio.com by
//	                             default
//
// Incoming messages come to BAREFOOT_PUBLIC_URL followed by /sms/twilio,
// the number's webhook; every send asks for status callbacks at
// /sms/twilio/status.
package twilio

import (
	"errors"
	"net/http"

	"github.com/barefoot-ussd/barefoot/gateway"
)

// CarrierName is Twilio's short name in stored messages, the key of its
// send client in sender.Sender.Carriers.
const CarrierName = "twilio"

// New returns Twilio as the gateway serves it: the SMS adapter, the status
// callback route and, once BAREFOOT_TWILIO_ACCOUNT_SID is set, the send
// client. Every webhook must carry Twilio's signature: without an auth
// token to check it against, Twilio's routes refuse everything.
func New(env gateway.CarrierEnv) (gateway.Carrier, error) {
	token := env.Setting("BAREFOOT_TWILIO_AUTH_TOKEN", "")
	if token != "" && env.PublicURL == "" {
		// Signatures cover the URL Twilio called, which only the
		// deployment knows.
		return gateway.Carrier{}, errors.New("BAREFOOT_PUBLIC_URL: required with BAREFOOT_TWILIO_AUTH_TOKEN, to check Twilio's signatures")
	}
	s := Sender{
		BaseURL: env.Setting("BAREFOOT_TWILIO_BASE_URL", DefaultBaseURL), AccountSID: env.Setting("BAREFOOT_TWILIO_ACCOUNT_SID", ""),
		AuthToken: token, From: env.Setting("BAREFOOT_TWILIO_FROM", ""), Client: env.HTTPClient,
	}
	if env.PublicURL != "" {
		s.StatusCallback = env.PublicURL + statusPath
	}
	send, err := env.SendClient(s.AccountSID != "", s, "BAREFOOT_TWILIO_ACCOUNT_SID", "BAREFOOT_TWILIO_AUTH_TOKEN", "BAREFOOT_TWILIO_FROM")
	return gateway.Carrier{
		Name: CarrierName, SMS: SMS{AuthToken: token, PublicURL: env.PublicURL}, Sender: send, Signs: true,
		Routes: []gateway.Route{{Method: http.MethodPost, Path: statusPath, Handler: Status(env.Deliveries, Verifier(token, env.PublicURL))}},
	}, err
}
