package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/barefoot-ussd/barefoot/gateway/sender"
	"github.com/barefoot-ussd/barefoot/gateway/wire"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/barefoot-ussd/barefoot/menus/textlen"
	"github.com/gofiber/fiber/v2"
)

// Carrier is everything one carrier brings to the gateway, declared by its
// own package's constructor, so that adding a carrier is one package and
// one line in the list the gateway is assembled from.
type Carrier struct {
	// Name is the carrier's short name, stored with sessions, messages
	// and reports ("at"); it keys the carrier's send client.
	Name string
	// USSD and SMS are the carrier's callback formats; nil when it has no
	// such channel.
	USSD USSDAdapter
	SMS  SMSAdapter
	// Routes are its other endpoints: delivery reports, status callbacks.
	Routes []Route
	// Sender sends SMS through the carrier's API; nil when the carrier is
	// not configured for sending, so that its messages fail with a clear
	// reason rather than wait forever.
	Sender sender.Client
	// Signs is set for a carrier whose callbacks carry a signature it
	// checks itself (Twilio): the webhook secret is not asked of it.
	Signs bool
	// Templates is set for a carrier that sends only templates its
	// provider approved (Tencent Cloud, Alibaba Cloud): its Sender gets
	// messages with Template, Params and TemplateID set, and a message
	// with no approved template waits rather than reach it.
	Templates bool
	// DailyCap is how many messages one number may be sent in a day
	// through this carrier (the provider's frequency limit, China's
	// calendar day); the sender holds the rest until the next day rather
	// than have the provider refuse them. 0 means no cap.
	DailyCap int
	// Profile is how the carrier counts an SMS (its signature included);
	// nil is the standard 160/153 and 70/67 with no signature. Replies are
	// cut, SMS menu screens paged and segments counted by it.
	Profile *textlen.Profile
	// Run, when set, is the carrier's own long-lived connection (CMPP):
	// serve runs it until shutdown, and it hands every inbound SMS to
	// receive, which records it and queues its reply through the outbox.
	Run func(ctx context.Context, receive Receive) error
	// Notes are what an operator must hear at start-up: settings that
	// work but lose something (no delivery reports, say), one line each,
	// naming the variable.
	Notes []string
}

// Receive takes one inbound SMS from a carrier's own connection: it
// normalises the number, records the message and processes it, queueing
// any reply. An error means it was not recorded, and the carrier should
// not acknowledge it.
type Receive func(ctx context.Context, in sms.Message) error

// NewCarrier builds a carrier from its settings; each carrier package
// exports one, New.
type NewCarrier func(CarrierEnv) (Carrier, error)

// CarrierEnv is what a carrier may need to build itself.
type CarrierEnv struct {
	// Getenv reads the carrier's own settings (BAREFOOT_<CARRIER>_*); no
	// settings when nil.
	Getenv func(string) string
	// PublicURL is the gateway's base URL as carriers reach it, without a
	// final slash, for callback URLs and signatures; "" when unknown.
	PublicURL string
	// Deliveries is the store delivery reports update.
	Deliveries Deliveries
	// HTTPClient calls the carrier's send API; the carrier's own default
	// when nil. Tests give one that reaches nothing off the machine.
	HTTPClient *http.Client
	// Secret is the deployment's webhook secret (BAREFOOT_WEBHOOK_SECRET),
	// which a carrier's own BAREFOOT_<NAME>_WEBHOOK_SECRET overrides; see
	// WebhookSecret.
	Secret string
	// Locker lets one process of several hold what only one may: a
	// carrier's single connection (CMPP). nil when the process is alone.
	Locker Locker
	// Log is for carriers that work on their own (a connection's
	// comings and goings); slog.Default when nil.
	Log *slog.Logger
}

// Locker is a lock shared by every gateway process on one store;
// *storage.DB implements it.
type Locker interface {
	// HoldLock takes the named lock and holds it until release is called
	// or ctx is done; held is done once the lock is lost for any reason.
	// When another process holds it, the error wraps menus.ErrConflict.
	HoldLock(ctx context.Context, name string) (held context.Context, release func(), err error)
}

// WebhookSecret is the secret the named carrier's callbacks must carry:
// its own, or the deployment's.
func (e CarrierEnv) WebhookSecret(name string) string {
	return e.Setting("BAREFOOT_"+strings.ToUpper(name)+"_WEBHOOK_SECRET", e.Secret)
}

// CallbackURL is where the carrier is asked to call back: the public URL,
// the path, and the carrier's webhook secret as the path's last segment
// (carriers that echo a URL cannot add a header).
func (e CarrierEnv) CallbackURL(name, path string) string {
	if e.PublicURL == "" {
		return ""
	}
	u := e.PublicURL + path
	if s := e.WebhookSecret(name); s != "" {
		u += "/" + url.PathEscape(s)
	}
	return u
}

// Setting returns a variable's value without surrounding spaces, or def
// when it is empty or unset.
func (e CarrierEnv) Setting(key, def string) string {
	if e.Getenv == nil {
		return def
	}
	if v := strings.TrimSpace(e.Getenv(key)); v != "" {
		return v
	}
	return def
}

// DailyCap reads a carrier's per-number daily cap from key, def when
// unset; a value that is not a whole number of zero or more is an error
// naming the key.
func (e CarrierEnv) DailyCap(key string, def int) (int, error) {
	v := e.Setting(key, "")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s: want a whole number of messages a day, 0 for no cap", key)
	}
	return n, nil
}

// Profile reads a carrier's SMS profile: signature is what its provider
// adds to every message (【签名】), and BAREFOOT_<NAME>_UCS2_SEGMENTS, as
// "70/67" (the default) or "65/62", the UCS-2 units of a single message
// and of each part of a long one, where a provider counts otherwise.
func (e CarrierEnv) Profile(name, signature string) (*textlen.Profile, error) {
	key := "BAREFOOT_" + strings.ToUpper(name) + "_UCS2_SEGMENTS"
	p := textlen.Standard
	p.Signature = signature
	if v := e.Setting(key, ""); v != "" {
		single, part, ok := strings.Cut(v, "/")
		s, err1 := strconv.Atoi(strings.TrimSpace(single))
		q, err2 := strconv.Atoi(strings.TrimSpace(part))
		if !ok || err1 != nil || err2 != nil || q < 10 || s < q || s > 70 {
			return nil, fmt.Errorf("%s: want the units of a single message and of a part, as 70/67", key)
		}
		p.SingleUCS2, p.PartUCS2 = s, q
	}
	return &p, nil
}

// CheckedClient is a send client that can tell at start-up whether its
// configuration can work.
type CheckedClient interface {
	sender.Client
	Check() error
}

// SendClient returns s as a carrier's Sender, or nil when configured is
// false: a carrier whose settings for sending are not there sends nothing.
// with is the variable that configures it for sending; every variable of
// required must be set along with it, and s must pass its own Check.
// Errors name the variable to fix and never hold a value, which may be a
// secret.
func (e CarrierEnv) SendClient(configured bool, s CheckedClient, with string, required ...string) (sender.Client, error) {
	if !configured {
		return nil, nil
	}
	for _, key := range required {
		if e.Setting(key, "") == "" {
			return nil, fmt.Errorf("%s: required with %s", key, with)
		}
	}
	if err := s.Check(); err != nil {
		return nil, fmt.Errorf("%s: %w", with, err)
	}
	return s, nil
}

// Deliveries is the store delivery reports update; *storage.DB implements
// it. Statuses only move forward, so retried reports and reports out of
// order are harmless.
type Deliveries interface {
	// UpdateDelivery settles the message a carrier knows by its own id,
	// and reports whether there was one.
	UpdateDelivery(ctx context.Context, carrier, carrierID, status string) (bool, error)
	// UpdateDeliveryByID settles one of a carrier's messages by our own
	// id and its delivery token, for carriers whose reports carry both
	// back (Kannel).
	UpdateDeliveryByID(ctx context.Context, carrier string, id int64, token, status string) (bool, error)
}

// DeliveryReport is one delivery report, read from a carrier's callback.
type DeliveryReport struct {
	// Ref is the carrier's id for the message, or ID ours, for carriers
	// whose reports carry it back (Kannel).
	Ref string
	ID  int64
	// Token is the message's delivery token, with ID.
	Token string
	// Status is ours (sms.Sent, sms.Delivered, sms.Failed), mapped from the
	// carrier's; "" when the carrier's says nothing about delivery.
	Status string
}

// DeliveryHandler answers a carrier's delivery reports: read takes one out
// of the callback (its refusals are *wire.Error) and update records it.
// A report for a message the store does not know is answered 200 too, so
// that the carrier stops retrying it; a report with no Status changes
// nothing. A store failure is a 500, or a 503 with Retry-After when the
// report beat its send's record, so that the carrier tries again. what
// names the callback in errors ("twilio status callback").
func DeliveryHandler(what string, read func(c *fiber.Ctx) (DeliveryReport, error), update func(ctx context.Context, r DeliveryReport) error) fiber.Handler {
	return func(c *fiber.Ctx) error {
		r, err := read(c)
		if err != nil {
			return err
		}
		if r.Status != "" {
			if err := update(c.UserContext(), r); err != nil {
				return wire.RetryLater(c, fmt.Errorf("%s: %w", what, err))
			}
		}
		return c.SendString("ok")
	}
}
