package hubtel

import (
	"encoding/json"
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

// request is one callback. Field names match Hubtel's JSON.
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

// object reads a callback as encoding/json does, matching keys whatever
// their case, and ignores fields Hubtel adds later (MetaData, ExtraData,
// ...) rather than refuse them, because Hubtel adds fields without notice
// and a 4xx would drop every caller.
var object = wire.Object{
	Fields:   []string{"SessionId", "Mobile", "ServiceCode", "Type", "Message", "Operator", "Sequence", "ClientState", "Platform"},
	FoldCase: true,
	Open:     true,
	Name:     "Hubtel request",
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
	var req request
	if err := object.Read(c, &req); err != nil {
		return conversation.Hop{}, err
	}
	err := wire.Check(
		wire.Field{Name: "SessionId", Required: true, Max: maxSessionID, To: &req.SessionID},
		wire.Field{Name: "Mobile", Required: true, Max: maxMobile, To: &req.Mobile},
		wire.Field{Name: "Type", Required: true, Max: 32, To: &req.Type},
		wire.Field{Name: "ServiceCode", Max: maxService, To: &req.ServiceCode},
		wire.Field{Name: "Message", Max: maxMessage, To: &req.Message},
		wire.Field{Name: "ClientState", Max: maxClientState, To: &req.ClientState},
		wire.Field{Name: "Operator", Max: maxOperator, To: &req.Operator},
		wire.Field{Name: "Platform", Max: maxPlatform, To: &req.Platform},
	)
	if err != nil {
		return conversation.Hop{}, err
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
