package conversation

import (
	"strconv"

	"github.com/barefoot-ussd/barefoot/menus"
)

// Every identity of a conversation is built here, and only here: where its
// snapshot is kept, which key its report is saved under, and what this
// process remembers it by. Carriers hand over their own session ids and
// message ids; they build no keys.

// conv is one conversation's identity.
type conv struct {
	// channel and id name its snapshot in the session store.
	channel, id string
	// report is the key a report filed in it is saved under, once per
	// conversation; empty where the conversation is already under way
	// and its snapshot carries the key.
	report string
}

// cacheKey is what this process remembers the conversation's snapshot by.
func (c conv) cacheKey() string { return c.channel + ":" + c.id }

// ussdConv is a USSD session: one per carrier session id. A USSD session
// files at most one report (its confirm ends it), so the session names
// the report too.
func ussdConv(carrier, session string) conv {
	return conv{
		channel: menus.ChannelUSSD,
		id:      carrier + ":" + session,
		report:  menus.ChannelUSSD + ":" + carrier + ":" + session,
	}
}

// smsMenuConv is a phone's menu run as an SMS conversation. SMS has no
// session: the phone has at most one menu conversation open, kept under
// its number, and each one MENU opens files its report under the message
// that opened it, so a phone's second conversation is a second report.
func smsMenuConv(phone string, opener int64) conv {
	c := conv{channel: menus.ChannelSMS, id: "menu:" + phone}
	if opener > 0 {
		c.report = "sms:menu:" + strconv.FormatInt(opener, 10)
	}
	return c
}

// formKey is the report key of a one-line SMS form: one report per
// message. A carrier's retry of the message carries its id again and is
// recognised before it gets here; a message without a carrier id is keyed
// by the row it was recorded as.
func formKey(carrier, carrierID string, inbound int64) string {
	if carrierID != "" {
		return "sms:" + carrier + ":" + carrierID
	}
	return "sms:" + carrier + ":" + strconv.FormatInt(inbound, 10)
}
