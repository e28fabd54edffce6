// Package hubtel adapts Hubtel's Programmable Services USSD callbacks to the
// gateway's own types. Hubtel POSTs JSON for every hop and, unlike Africa's
// Talking, sends only the latest input (Message) with a hop number
// (Sequence): the dialog accumulates the path. The reply is JSON whose Type
// says whether the session waits for input ("response") or ends
// ("release").
package hubtel

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/barefoot-ussd/barefoot/gateway/conversation"
	"github.com/barefoot-ussd/barefoot/gateway/wire"
	"github.com/gofiber/fiber/v2"
)

// Limits on callback fields, in bytes. Message is capped like Africa's
// Talking's text so that a path bomb costs little; ClientState is Hubtel's
// own documented limit; Operator and Platform are short names today and
// get room to grow.
const (
	maxSessionID   = 128
	maxMobile      = 32
	maxService     = 64
	maxMessage     = 1024
	maxClientState = 100
	maxOperator    = 64
	maxPlatform    = 64
)

// carrier is the short name stored with sessions and reports
// ("ussd:hubtel:<SessionId>").
const carrier = "hubtel"

// label titles the reply on Hubtel's app and web renderings; USSD ignores it.
const label = "Barefoot"

// request is one callback. Field names match Hubtel's JSON; encoding/json
// matches them case-insensitively, and fields Hubtel adds later (MetaData,
// ExtraData, ...) are ignored rather than refused, because Hubtel adds
// fields without notice and a 4xx would drop every caller.
type request struct {
	SessionID   string   `json:"SessionId"`
	Mobile      string   `json:"Mobile"`
	ServiceCode string   `json:"ServiceCode"`
	Type        string   `json:"Type"`
	Message     string   `json:"Message"`
	Operator    string   `json:"Operator"`
	Sequence    sequence `json:"Sequence"`
	ClientState string   `json:"ClientState"`
	Platform    string   `json:"Platform"`
}

// sequence is Hubtel's hop number: its SDK models an int, its own samples
// send a string ("1"), so both are read. Anything else, or a value below 1,
// is refused: the dialog orders hops by it.
type sequence int

func (s *sequence) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil // left at 0 and refused as missing
	}
	digits := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &digits); err != nil {
			return wire.Invalid("Sequence", "not a whole number from 1")
		}
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < 1 {
		return wire.Invalid("Sequence", "not a whole number from 1")
	}
	*s = sequence(n)
	return nil
}

// response is the reply. Hubtel documents the Type values in lower case.
type response struct {
	SessionID string `json:"SessionId"`
	Type      string `json:"Type"`
	Message   string `json:"Message"`
	Label     string `json:"Label"`
	DataType  string `json:"DataType"`
	FieldType string `json:"FieldType"`
}

// USSD is the Hubtel USSD adapter.
type USSD struct{}

// Route is the adapter's path under /ussd/.
func (USSD) Route() string { return carrier }

// Carrier is the short name stored with sessions and reports.
func (USSD) Carrier() string { return carrier }

// Parse reads a callback into a hop. The phone number is returned as sent
// (Hubtel omits the '+'); the gateway normalises it.
func (USSD) Parse(c *fiber.Ctx) (conversation.Hop, error) {
	body, err := wire.ReadJSON(c)
	if err != nil {
		return conversation.Hop{}, err
	}
	keys, err := wire.ObjectKeys(body)
	if err != nil {
		return conversation.Hop{}, err
	}
	// encoding/json keeps the last of two equal keys (and folds case), so a
	// field sent twice would be read differently by another parser.
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		f := strings.ToLower(k)
		if name := known[f]; name != "" && seen[f] {
			return conversation.Hop{}, wire.Invalid(name, "sent more than once")
		}
		seen[f] = true
	}
	var req request
	if err := json.Unmarshal(body, &req); err != nil {
		return conversation.Hop{}, decodeError(err)
	}
	fields := []struct {
		name     string
		v        string
		required bool
		max      int
	}{
		{"SessionId", req.SessionID, true, maxSessionID},
		{"Mobile", req.Mobile, true, maxMobile},
		{"Type", req.Type, true, 32},
		{"ServiceCode", req.ServiceCode, false, maxService},
		{"Message", req.Message, false, maxMessage},
		{"ClientState", req.ClientState, false, maxClientState},
		{"Operator", req.Operator, false, maxOperator},
		{"Platform", req.Platform, false, maxPlatform},
	}
	for _, f := range fields {
		switch {
		case f.required && f.v == "":
			return conversation.Hop{}, wire.Invalid(f.name, "required")
		case len(f.v) > f.max:
			return conversation.Hop{}, wire.Invalid(f.name, "longer than %d bytes", f.max)
		case strings.IndexByte(f.v, 0) >= 0:
			// Postgres refuses NUL; let in, it would fail on every retry.
			return conversation.Hop{}, wire.Invalid(f.name, "contains a NUL byte")
		}
	}
	if req.Sequence < 1 {
		return conversation.Hop{}, wire.Invalid("Sequence", "required")
	}
	h := conversation.Hop{
		Carrier:     carrier,
		Session:     req.SessionID,
		Phone:       req.Mobile,
		Service:     serviceCode(req.ServiceCode),
		Incremental: true,
		Seq:         int(req.Sequence),
	}
	switch {
	case strings.EqualFold(req.Type, "Initiation"):
		h.New = true
		h.Path = shortcut(h.Service, req.Message)
	case strings.EqualFold(req.Type, "Response"):
		h.Input = req.Message
	case strings.EqualFold(req.Type, "Release"), strings.EqualFold(req.Type, "Timeout"):
		// Timeout is the old SMSGH API's name for a session the network
		// ended; both mean nothing more will come.
		h.Release = true
	default:
		// HijackSession and AddToCart are Safaricom and checkout flows
		// this service never starts.
		return conversation.Hop{}, wire.Invalid("Type", "not Initiation, Response, Release or Timeout")
	}
	return h, nil
}

// Write sends the reply in Hubtel's JSON. A Release callback is only a
// notice: the session is over, so the answer is an empty release.
func (USSD) Write(c *fiber.Ctx, h conversation.Hop, r conversation.Reply) error {
	out := response{SessionID: h.Session, Type: "response", Message: r.Text, Label: label, DataType: "input", FieldType: "text"}
	if r.End || h.Release {
		out.Type, out.DataType = "release", "display"
	}
	if h.Release {
		out.Message = ""
	}
	return c.JSON(out)
}

// known maps the lower-cased names of the fields Parse reads (encoding/json
// folds case) to their names as Hubtel spells them, for error messages.
var known = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{"SessionId", "Mobile", "ServiceCode", "Type", "Message", "Operator", "Sequence", "ClientState", "Platform"} {
		m[strings.ToLower(n)] = n
	}
	return m
}()

// serviceCode brings Hubtel's spellings of a dialled code (384*2015,
// *384*2015#, 3842015#) to the *...# form menus are published under.
// Empty stays empty: on app channels the field may be a service id, and
// an empty code is answered as unknown rather than guessed.
func serviceCode(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if !strings.HasPrefix(s, "*") {
		s = "*" + s
	}
	if !strings.HasSuffix(s, "#") {
		s += "#"
	}
	return s
}

// shortcut returns the inputs a direct dial carries: with the service
// *384*2015#, the dial string *384*2015*1*C0001# gives "1*C0001". A dial
// string that does not extend the service code gives "" (start at the top)
// rather than inputs the caller may not have meant.
func shortcut(service, dialled string) string {
	base := strings.TrimSuffix(service, "#")
	rest, ok := strings.CutPrefix(serviceCode(dialled), base+conversation.Sep)
	if !ok {
		return ""
	}
	return strings.TrimSuffix(rest, "#")
}

// decodeError names the field of a decoding failure without the value,
// which may be personal.
func decodeError(err error) error {
	if e, ok := wire.AsError(err); ok {
		return e
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if name := known[strings.ToLower(te.Field)]; name != "" {
			return wire.Invalid(name, "wrong JSON type")
		}
	}
	return wire.Invalid("body", "not a valid Hubtel request")
}
