package gateway

import (
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// Most carriers sign nothing: anyone who reaches the port could file a
// report as any director's phone, read a family's allowance status, or
// mark an urgent alert delivered. So every callback of such a carrier must
// carry the deployment's webhook secret, either as the last segment of
// its path (/ussd/africastalking/<secret>, for carriers that cannot add
// headers) or in the X-Barefoot-Webhook-Secret header, and may be held to
// the carrier's addresses. Carriers that sign their requests (Twilio)
// prove themselves with the signature.

// SecretHeader carries the webhook secret for carriers that can set one.
const SecretHeader = "X-Barefoot-Webhook-Secret"

// secretParam is the path parameter of the secret's other form.
const secretParam = "secret"

// Guard is what a carrier's callbacks must show.
type Guard struct {
	// Secret must come with every callback; none when empty (a gateway
	// listening on loopback only, or a carrier that signs).
	Secret string
	// Allow, when set, holds the addresses the carrier calls from.
	Allow []netip.Prefix
}

// GuardMetrics counts refused callbacks.
type GuardMetrics struct {
	Refused *prometheus.CounterVec
}

// NewGuardMetrics registers the counter with reg.
func NewGuardMetrics(reg prometheus.Registerer) *GuardMetrics {
	m := &GuardMetrics{Refused: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "barefoot_callbacks_refused_total",
		Help: "Carrier callbacks refused before reading them: without the webhook secret, or from an address the carrier does not call from.",
	}, []string{"carrier", "reason"})}
	reg.MustRegister(m.Refused)
	return m
}

// ParseAllow reads a comma-separated list of addresses and CIDR ranges.
func ParseAllow(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address or a CIDR range", f)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// guard refuses, with 403, a callback that does not show the carrier's
// secret or comes from outside its addresses. The secret is compared in
// constant time and never logged; the refusal is logged with the route's
// pattern, not its path, which may hold a wrong secret.
func guard(carrier string, g Guard, m *GuardMetrics, log *slog.Logger) fiber.Handler {
	secret := []byte(g.Secret)
	refuse := func(c *fiber.Ctx, reason string) error {
		log.Warn("carrier callback refused", "carrier", carrier, "reason", reason, "route", c.Route().Path, "remote", c.IP())
		if m != nil {
			m.Refused.WithLabelValues(carrier, reason).Inc()
		}
		return c.Status(http.StatusForbidden).SendString("forbidden")
	}
	return func(c *fiber.Ctx) error {
		if len(g.Allow) > 0 {
			addr, err := netip.ParseAddr(c.IP())
			if err != nil || !contains(g.Allow, addr.Unmap()) {
				return refuse(c, "address")
			}
		}
		if len(secret) > 0 {
			got := c.Params(secretParam)
			if got == "" {
				got = c.Get(SecretHeader)
			}
			if subtle.ConstantTimeCompare([]byte(got), secret) != 1 {
				return refuse(c, "secret")
			}
		}
		return c.Next()
	}
}

func contains(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
