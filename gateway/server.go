// Package gateway is Barefoot's HTTP edge: a Fiber app that mounts the
// routes every carrier declares (Carrier), turns refused input into the
// right status in one place, and exposes health and readiness for
// operators. It knows no carrier by name.
package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway/conversation"
	"github.com/barefoot-ussd/barefoot/gateway/wire"
	"github.com/barefoot-ussd/barefoot/menus/phone"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/barefoot-ussd/barefoot/menus/textlen"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// USSDAdapter is one carrier's USSD wire format.
type USSDAdapter interface {
	// Route is the path segment under /ussd/.
	Route() string
	// Parse reads a callback; refusals are *wire.Error.
	Parse(c *fiber.Ctx) (conversation.Hop, error)
	// Write sends the reply to the hop in the carrier's format.
	Write(c *fiber.Ctx, h conversation.Hop, r conversation.Reply) error
}

// SMSAdapter is one carrier's inbound SMS format.
type SMSAdapter interface {
	// Route is the path segment under /sms/.
	Route() string
	// Parse reads a callback; refusals are *wire.Error.
	Parse(c *fiber.Ctx) (sms.Message, error)
	// Inline reports whether the carrier takes the reply in the HTTP
	// response (TwiML, Kannel) rather than through its send API.
	Inline() bool
	// Write answers the callback, with the reply for inline carriers.
	Write(c *fiber.Ctx, reply string) error
}

// Route is an extra endpoint, such as a carrier's delivery reports.
type Route struct {
	Method, Path string
	Handler      fiber.Handler
	// Receiving, set instead of Handler, builds the handler of a route
	// that takes inbound SMS in a shape SMSAdapter cannot read, such as
	// Alibaba Cloud's pushes of several messages at once: it is given the
	// gateway's Receive.
	Receiving func(Receive) fiber.Handler
}

// Budgeter is implemented by adapters that know their carrier's screen
// budget; others get DefaultBudget.
type Budgeter interface {
	Budget() textlen.Budget
}

// DefaultBudget is the screen budget assumed for a carrier that states
// none: the protocol limit less the room a carrier's own prefix may take.
var DefaultBudget = textlen.Budget{GSM7: 160, UCS2: 76}

// BudgetOf returns an adapter's screen budget.
func BudgetOf(a USSDAdapter) textlen.Budget {
	if b, ok := a.(Budgeter); ok {
		return b.Budget()
	}
	return DefaultBudget
}

// StrictestBudget is the smallest budget of all adapters, in each
// encoding: trees are checked against it so that every screen fits every
// carrier.
func StrictestBudget(adapters []USSDAdapter) textlen.Budget {
	b := DefaultBudget
	for i, a := range adapters {
		ab := BudgetOf(a)
		if i == 0 {
			b = ab
		}
		b.GSM7, b.UCS2 = min(b.GSM7, ab.GSM7), min(b.UCS2, ab.UCS2)
	}
	return b
}

// Check is a named readiness probe (Postgres, Redis).
type Check struct {
	Name string
	Ping func(ctx context.Context) error
}

// Config wires a server.
type Config struct {
	// Conversations answer USSD hops and inbound SMS.
	Conversations *conversation.Service
	Phones        *phone.Cache
	// Carriers bring their callback formats and routes.
	Carriers []Carrier
	// Guards are what each carrier's callbacks must show (by carrier
	// name); Refused counts the callbacks refused.
	Guards  map[string]Guard
	Refused *GuardMetrics
	// Mounts add route groups of their own, such as the admin API.
	Mounts []func(*fiber.App)
	Checks []Check
	// Metrics is served at /metrics when set.
	Metrics prometheus.Gatherer
	Log     *slog.Logger
	// HopBudget bounds one hop; carriers give up after 10-15 s, so the
	// gateway must answer well before.
	HopBudget time.Duration
}

// Limits from the bad-input catalogue: callbacks are small, and a slow
// client must not hold a connection open.
const (
	// carrierBodyLimit bounds a carrier callback; apiBodyLimit the admin
	// API, whose CSV imports are larger. Fiber's own limit is the larger,
	// and carrier routes check theirs first thing.
	carrierBodyLimit = 16 << 10
	apiBodyLimit     = 4 << 20
	readTimeout      = 5 * time.Second
	writeTimeout     = 5 * time.Second
	idleTimeout      = 30 * time.Second
)

// ReadBufferSize bounds a request's line and headers. Kannel's get-url
// carries a whole message in its query string, each byte of UCS-2 written
// as %XX: sixteen segments take 13 KB.
const ReadBufferSize = 32 << 10

// defaultHopBudget bounds a hop or an inbound SMS when Config says nothing.
const defaultHopBudget = 5 * time.Second

// New returns the Fiber app: carrier routes, health, and the metrics and
// mounts (the admin API and console) it is given; NewAdmin serves those on
// a listener of their own.
func New(cfg Config) *fiber.App {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.HopBudget == 0 {
		cfg.HopBudget = defaultHopBudget
	}
	app := newApp(cfg.Log, cfg.Checks)
	if cfg.Metrics != nil {
		app.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(cfg.Metrics, promhttp.HandlerOpts{})))
	}
	small := limitBody(carrierBodyLimit)
	for _, carrier := range cfg.Carriers {
		g := cfg.Guards[carrier.Name]
		if carrier.Signs {
			g.Secret = "" // its own signature proves it
		}
		check := guard(carrier.Name, g, cfg.Refused, cfg.Log)
		// Each route twice: the secret in a header, or as the path's last
		// segment. Fixed routes first, so that /sms/kannel/dlr is never
		// read as /sms/kannel/<secret>.
		add := func(method, path string, h ...fiber.Handler) {
			hs := append([]fiber.Handler{check}, h...)
			app.Add(method, path, hs...)
			app.Add(method, path+"/:"+secretParam, hs...)
		}
		for _, r := range carrier.Routes {
			h := r.Handler
			if r.Receiving != nil {
				h = r.Receiving(Receiver(cfg))
			}
			add(r.Method, r.Path, h)
		}
		if a := carrier.USSD; a != nil {
			add(http.MethodPost, "/ussd/"+a.Route(), small, ussd(cfg, a))
		}
		if a := carrier.SMS; a != nil {
			add(http.MethodPost, "/sms/"+a.Route(), small, smsHandler(cfg, a))
			add(http.MethodGet, "/sms/"+a.Route(), small, smsHandler(cfg, a))
		}
	}
	for _, m := range cfg.Mounts {
		m(app)
	}
	return app
}

// NewAdmin returns an app of the metrics and the mounts alone, for a
// listener of their own (BAREFOOT_ADMIN_ADDR): the admin API and /metrics
// then never share a port, a connection pool or a firewall rule with the
// carriers.
func NewAdmin(log *slog.Logger, checks []Check, metrics prometheus.Gatherer, mounts []func(*fiber.App)) *fiber.App {
	if log == nil {
		log = slog.Default()
	}
	app := newApp(log, checks)
	if metrics != nil {
		app.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(metrics, promhttp.HandlerOpts{})))
	}
	for _, m := range mounts {
		m(app)
	}
	return app
}

func newApp(log *slog.Logger, checks []Check) *fiber.App {
	app := fiber.New(fiber.Config{
		AppName:               "barefoot",
		BodyLimit:             apiBodyLimit,
		ReadBufferSize:        ReadBufferSize,
		ReadTimeout:           readTimeout,
		WriteTimeout:          writeTimeout,
		IdleTimeout:           idleTimeout,
		DisableStartupMessage: true,
		ErrorHandler:          errorHandler(log),
	})
	app.Use(recover.New())
	app.Get("/healthz", func(c *fiber.Ctx) error { return c.SendString("ok") })
	app.Get("/readyz", readyz(checks))
	return app
}

// Refuser is implemented by SMS adapters whose carrier turns a refusal
// into something worse than a status (Kannel texts the phone "Could not
// fetch content" and retries): they answer refused messages their own way.
type Refuser interface {
	Refuse(c *fiber.Ctx, err error) error
}

func smsHandler(cfg Config, a SMSAdapter) fiber.Handler {
	refuse := func(c *fiber.Ctx, err error) error {
		if r, ok := a.(Refuser); ok {
			cfg.Log.Info("inbound sms refused; answered with the keywords", "route", c.Route().Path, "reason", err.Error())
			return r.Refuse(c, err)
		}
		return err
	}
	return func(c *fiber.Ctx) error {
		in, err := a.Parse(c)
		if err != nil {
			return refuse(c, err)
		}
		e164, err := cfg.Phones.Normalize(in.Phone)
		if err != nil {
			return refuse(c, wire.Invalid("from", "not a valid phone number"))
		}
		in.Phone = e164
		in.Direction, in.Kind = sms.In, sms.KindInbound
		ctx, cancel := context.WithTimeout(c.UserContext(), cfg.HopBudget)
		defer cancel()
		reply, err := cfg.Conversations.Receive(ctx, in, a.Inline())
		if err != nil {
			// Not recorded: a 5xx makes the carrier deliver it again.
			cfg.Log.Error("inbound sms not recorded", "carrier", in.Carrier, "err", err)
			return fiber.NewError(http.StatusServiceUnavailable, "try again later")
		}
		return a.Write(c, reply)
	}
}

// NewReceive is the Receive a carrier's own connection hands inbound SMS
// to: what smsHandler does for a callback, with the reply always queued
// through the outbox, since such a connection has no response to carry
// it.
func NewReceive(cfg Config) Receive {
	if cfg.HopBudget == 0 {
		cfg.HopBudget = 5 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return func(ctx context.Context, in sms.Message) error {
		e164, err := cfg.Phones.Normalize(in.Phone)
		if err != nil {
			// Not a number anyone can be answered at, and not something a
			// redelivery would fix: acknowledged, and dropped.
			cfg.Log.Info("inbound sms refused: not a valid phone number", "carrier", in.Carrier)
			return nil
		}
		in.Phone = e164
		in.Direction, in.Kind = sms.In, sms.KindInbound
		ctx, cancel := context.WithTimeout(ctx, cfg.HopBudget)
		defer cancel()
		if _, err := cfg.Conversations.Receive(ctx, in, false); err != nil {
			cfg.Log.Error("inbound sms not recorded", "carrier", in.Carrier, "err", err)
			return err
		}
		return nil
	}
}

func ussd(cfg Config, a USSDAdapter) fiber.Handler {
	budget := BudgetOf(a)
	return func(c *fiber.Ctx) error {
		h, err := a.Parse(c)
		if err != nil {
			return err
		}
		e164, err := cfg.Phones.Normalize(h.Phone)
		if err != nil {
			return wire.Invalid("phone", "not a valid phone number")
		}
		h.Phone = e164
		h.Budget = budget
		ctx, cancel := context.WithTimeout(c.UserContext(), cfg.HopBudget)
		defer cancel()
		return a.Write(c, h, cfg.Conversations.Hop(ctx, h))
	}
}

// limitBody refuses a body over n bytes with 413: carrier callbacks are
// small, and nothing larger should be parsed on their routes.
func limitBody(n int) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if len(c.Request().Body()) > n {
			return fiber.NewError(http.StatusRequestEntityTooLarge, "request body too large")
		}
		return c.Next()
	}
}

func readyz(checks []Check) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
		defer cancel()
		for _, ch := range checks {
			if err := ch.Ping(ctx); err != nil {
				return c.Status(http.StatusServiceUnavailable).SendString(ch.Name + ": unreachable")
			}
		}
		return c.SendString("ready")
	}
}

// errorHandler maps errors to statuses once for every route. Refused input
// is answered, not logged as a failure; anything else is a 500 whose detail
// stays in the log.
func errorHandler(log *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		if e, ok := wire.AsError(err); ok {
			log.Info("request refused", "route", c.Route().Path, "status", e.Status, "reason", e.Error())
			return c.Status(e.Status).SendString(e.Error())
		}
		var fe *fiber.Error
		if errors.As(err, &fe) {
			return c.Status(fe.Code).SendString(fe.Message)
		}
		log.Error("request failed", "route", c.Route().Path, "err", err)
		return c.Status(http.StatusInternalServerError).SendString("internal error")
	}
}
