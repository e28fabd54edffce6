// Package generic is Barefoot's own USSD callback format (FORMAT.md), for
// aggregators that have none of their own. One JSON request per hop carries
// either every input so far (cumulative, like Africa's Talking) or only the
// latest one with a hop number (incremental, like Hubtel), so either kind of
// upstream can be bridged without a new adapter. Because the format is ours,
// it is read strictly: a misspelt field is an error, not a silent default.
// The format has no settings: aggregators call /ussd/generic under
// BAREFOOT_PUBLIC_URL, and it sends no SMS.
package generic

import "github.com/barefoot-ussd/barefoot/gateway"

// New returns the generic format as the gateway serves it: its USSD
// adapter.
func New(gateway.CarrierEnv) (gateway.Carrier, error) {
	return gateway.Carrier{Name: carrier, USSD: USSD{}}, nil
}
