package gateway

import (
	"context"
	"fmt"

	"github.com/barefoot-ussd/barefoot/gateway/wire"
	"github.com/barefoot-ussd/barefoot/menus/sms"
)

// Receiver returns the Receive of a gateway configured by cfg, for
// carriers that hand inbound SMS over otherwise than one per callback (a
// batch push, a connection of their own). Each message goes the way
// smsHandler takes one: its number normalised, recorded, processed within
// the hop budget, its reply queued for the carrier's send client. A number
// that cannot be normalised is refused with a *wire.Error and nothing is
// recorded; any other error means the message was not recorded, and the
// carrier should deliver it again.
func Receiver(cfg Config) Receive {
	budget := cfg.HopBudget
	if budget == 0 {
		budget = defaultHopBudget
	}
	return func(ctx context.Context, in sms.Message) error {
		e164, err := cfg.Phones.Normalize(in.Phone)
		if err != nil {
			return wire.Invalid("phone", "not a valid phone number")
		}
		in.Phone = e164
		in.Direction, in.Kind = sms.In, sms.KindInbound
		ctx, cancel := context.WithTimeout(ctx, budget)
		defer cancel()
		if _, err := cfg.Conversations.Receive(ctx, in, false); err != nil {
			return fmt.Errorf("%s inbound sms not recorded: %w", in.Carrier, err)
		}
		return nil
	}
}
