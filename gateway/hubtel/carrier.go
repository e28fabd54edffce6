// Package hubtel adapts Hubtel's Programmable Services USSD callbacks to the
// gateway's own types. Hubtel POSTs JSON for every hop and, unlike Africa's
// Talking, sends only the latest input (Message) with a hop number
// (Sequence): the dialog accumulates the path. The reply is JSON whose Type
// says whether the session waits for input ("response") or ends
// ("release"). The carrier has no settings: it calls /ussd/hubtel under
// BAREFOOT_PUBLIC_URL, and sends no SMS.
package hubtel

import "github.com/barefoot-ussd/barefoot/gateway"

// New returns Hubtel as the gateway serves it: its USSD adapter.
func New(gateway.CarrierEnv) (gateway.Carrier, error) {
	return gateway.Carrier{Name: carrier, USSD: USSD{}}, nil
}
