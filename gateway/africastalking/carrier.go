// Package africastalking adapts Africa's Talking to the gateway: its USSD
// and incoming SMS callbacks, its delivery reports, and its messaging API,
// which replies and alerts go out through. Its USSD callback is a form POST
// per screen whose text field holds every input of the session so far
// joined by '*'; the reply is text/plain starting "CON " (wait for input)
// or "END ".
//
// New reads the carrier's settings:
//
//	BAREFOOT_AT_USERNAME  the account's username ("sandbox" on the sandbox);
//	                      messages go out through AT once it is set
//	BAREFOOT_AT_API_KEY   the account's API key, required with the username
//	BAREFOOT_AT_FROM      the registered short code or sender id; AT's
//	                      default when empty
//	BAREFOOT_AT_BASE_URL  the messaging API, https://api.africastalking.com
//	                      by default (SandboxBaseURL for the sandbox)
//
// Delivery reports come to BAREFOOT_PUBLIC_URL followed by
// /sms/africastalking/dlr, the callback URL to set on the account.
package africastalking

import (
	"net/http"

	"github.com/barefoot-ussd/barefoot/gateway"
)

// CarrierName is Africa's Talking's short name in stored messages, the key
// of its send client in sender.Sender.Carriers.
const CarrierName = "at"

// New returns Africa's Talking as the gateway serves it: the USSD and SMS
// adapters, the delivery report route and, once BAREFOOT_AT_USERNAME is
// set, the send client.
func New(env gateway.CarrierEnv) (gateway.Carrier, error) {
	s := Sender{
		BaseURL: env.Setting("BAREFOOT_AT_BASE_URL", DefaultBaseURL), Username: env.Setting("BAREFOOT_AT_USERNAME", ""),
		APIKey: env.Setting("BAREFOOT_AT_API_KEY", ""), From: env.Setting("BAREFOOT_AT_FROM", ""), Client: env.HTTPClient,
	}
	send, err := env.SendClient(s.Username != "", s, "BAREFOOT_AT_USERNAME", "BAREFOOT_AT_API_KEY")
	return gateway.Carrier{
		Name: CarrierName, USSD: USSD{}, SMS: SMS{}, Sender: send,
		Routes: []gateway.Route{{Method: http.MethodPost, Path: dlrPath, Handler: DLR(env.Deliveries)}},
	}, err
}
