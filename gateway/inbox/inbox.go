// Package inbox decides what an inbound SMS means and what to answer: a
// family's STATUS query, HELP, a director's one-line report form, or the
// next input of a menu run as an SMS conversation. Every message is
// recorded before anything else happens, so a carrier retry is recognised
// and answered exactly as the first delivery was, and a reply is recorded
// with it (queued for the carrier's send API, or given inline).
package inbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"

	"github.com/barefoot-ussd/barefoot/gateway/dialog"
	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/phone"
	"github.com/barefoot-ussd/barefoot/menus/textlen"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/text/width"
)

// Store records messages (storage.DB implements it).
type Store interface {
	RecordInbound(ctx context.Context, m menus.SMS) (int64, *menus.SMS, error)
	Answer(ctx context.Context, inboundID int64, reply menus.SMS) (menus.SMS, error)
}

// Registry finds who is texting (storage.DB implements it).
type Registry interface {
	CallerByPhone(ctx context.Context, phone string) (menus.Caller, error)
	GuardianByPhone(ctx context.Context, phone string) (menus.Caller, error)
	CheckStatusSecret(ctx context.Context, phone, code, secret string) (bool, error)
}

// Reports saves reports idempotently (storage.DB implements it).
type Reports interface {
	SaveReport(ctx context.Context, r menus.Report) (string, error)
}

// Conversations are SMS menu sessions (sessions.Store implements it).
type Conversations interface {
	Load(ctx context.Context, channel, id string) (menus.Snapshot, int64, bool, error)
	Delete(ctx context.Context, channel, id string) error
}

// Limiter bounds replies per phone (sessions.Limiter implements it).
type Limiter interface {
	Allow(ctx context.Context, phone string) (bool, error)
}

// Menus finds trees (menus.Catalog implements it).
type Menus interface {
	ForService(code string) (*menus.Machine, bool)
	Current(name string) (*menus.Machine, bool)
}

// Service answers inbound SMS.
type Service struct {
	Store    Store
	Registry Registry
	Reports  Reports
	Menus    Menus
	// Dialog runs menus as SMS conversations; its TTL is the SMS idle
	// timeout, longer than USSD's.
	Dialog        *dialog.Service
	Conversations Conversations
	Limiter       Limiter
	// Budget, when set, bounds the replies of the whole deployment per
	// window (its key is "all"): a breaker against SMS pumping across many
	// numbers, which the per-phone limit alone cannot stop.
	Budget Limiter
	// Trees are the names of the trees that answer SMS: the director tree
	// (forms and MENU).
	DirectorTree string
	Now          func() time.Time
	Log          *slog.Logger
	// Limited counts replies refused by the rate limit.
	Limited prometheus.Counter
	// RequireSecret makes STATUS answer only "STATUS <child code>
	// <secret>" from the child's guardian, for deployments where a phone
	// number alone is not proof enough.
	RequireSecret bool
}

// Budgets: a reply may take two SMS segments per child (the STATUS
// reply), and a menu screen by SMS takes what a USSD screen takes.
const (
	segmentsPerChild = 2
	maxReplySegments = 4
)

// smsScreen is the budget of a menu screen sent by SMS: two segments.
var smsScreen = textlen.Budget{GSM7: 306, UCS2: 134}

// conversationChannel keys SMS menu sessions apart from USSD ones.
const conversationChannel = menus.ChannelSMS

// Receive records an inbound message and returns the reply (empty for
// none). For carriers that take the reply inline the reply is recorded as
// replied; for the others it is queued for the sender. An error means the
// message could not be recorded: the carrier should retry (5xx).
func (s *Service) Receive(ctx context.Context, in menus.SMS, inline bool) (string, error) {
	log := s.logger().With("carrier", in.Carrier, "phone", phone.Masked(in.Phone))
	id, prev, err := s.Store.RecordInbound(ctx, in)
	if errors.Is(err, menus.ErrConflict) {
		// The carrier id was seen from another phone: not a retry, and not
		// something a retry would fix. Acknowledge, answer nothing.
		log.Warn("carrier message id reused by another phone; ignored", "err", err)
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("record inbound sms: %w", err)
	}
	if prev != nil {
		log.Info("carrier retry answered as before", "message", id)
		return prev.Body, nil
	}
	ok, err := s.Limiter.Allow(ctx, in.Phone)
	if err != nil {
		log.Error("rate limit unavailable; not replying", "err", err)
		ok = false
	}
	if ok && s.Budget != nil {
		if ok, err = s.Budget.Allow(ctx, "all"); err != nil {
			log.Error("reply budget unavailable; not replying", "err", err)
			ok = false
		} else if !ok {
			log.Warn("deployment-wide reply budget spent; message recorded, no reply", "message", id)
		}
	}
	if !ok {
		log.Warn("reply rate limit reached; message recorded, no reply", "message", id)
		if s.Limited != nil {
			s.Limited.Inc()
		}
		return "", nil
	}
	body := s.answer(ctx, log, id, in)
	if body == "" {
		return "", nil
	}
	status := menus.SMSQueued
	if inline {
		status = menus.SMSReplied
	}
	reply, err := s.Store.Answer(ctx, id, menus.SMS{Carrier: in.Carrier, Phone: in.Phone, Body: body, Status: status, Kind: menus.SMSReply})
	if err != nil {
		return "", fmt.Errorf("record reply: %w", err)
	}
	return reply.Body, nil
}

// answer works out the reply to one message.
func (s *Service) answer(ctx context.Context, log *slog.Logger, id int64, in menus.SMS) string {
	words := Words(in.Body)
	keyword := ""
	if len(words) > 0 {
		keyword = words[0]
	}
	switch keyword {
	case "STATUS", "状态", "查询":
		if s.RequireSecret {
			return s.statusWithSecret(ctx, log, in, words[1:])
		}
		return s.status(ctx, log, in)
	case "HELP", "帮助", "":
		return s.help(ctx, in.Phone)
	}
	tree, _ := s.Menus.Current(s.DirectorTree)
	if tree != nil && isKeyword(tree.Tree().Keywords, keyword) {
		return s.startConversation(ctx, log, in, tree)
	}
	if snap, _, found, err := s.Conversations.Load(ctx, conversationChannel, conversationID(in)); err == nil && found && !snap.Ended {
		return s.converse(ctx, in, false, strings.TrimSpace(in.Body))
	}
	if tree != nil {
		if form, ok := tree.FormFor(keyword); ok {
			return s.fillForm(ctx, log, id, in, tree, form, words[1:])
		}
	}
	return s.help(ctx, in.Phone)
}

// status answers a family's STATUS query. A number that is not a
// registered guardian learns nothing about anyone: not whether a child code
// it names exists, nor anything else.
func (s *Service) status(ctx context.Context, log *slog.Logger, in menus.SMS) string {
	g, err := s.Registry.GuardianByPhone(ctx, in.Phone)
	if errors.Is(err, menus.ErrNotFound) {
		log.Info("status query from an unregistered number")
		return menus.Message(menus.MsgRegister, "")
	}
	if err != nil {
		log.Error("guardian lookup failed", "err", err)
		return menus.Message(menus.MsgBusy, "")
	}
	var parts []string
	for _, c := range g.Children {
		lines := menus.AllowancesOf(g, c.Code, g.Language)
		if len(lines) == 0 {
			lines = []string{c.Name + ": " + menus.Message(menus.MsgNoAllowance, g.Language)}
		}
		parts = append(parts, textlen.FitSMS(strings.Join(lines, "\n"), "...", segmentsPerChild))
	}
	if len(parts) == 0 {
		return menus.Message(menus.MsgNoAllowance, g.Language)
	}
	return strings.Join(parts, "\n")
}

// statusWithSecret answers "STATUS <child code> <secret>" with that
// child's status, and anything else with the same instruction, so the
// reply never tells whether a number, a code or a secret was wrong.
func (s *Service) statusWithSecret(ctx context.Context, log *slog.Logger, in menus.SMS, args []string) string {
	if len(args) == 2 {
		code, ok := menus.ChildCode(args[0])
		if ok {
			match, err := s.Registry.CheckStatusSecret(ctx, in.Phone, code, args[1])
			if err != nil {
				log.Error("status secret check failed", "err", err)
				return menus.Message(menus.MsgBusy, "")
			}
			if match {
				g, err := s.Registry.GuardianByPhone(ctx, in.Phone)
				if err != nil {
					log.Error("guardian lookup failed", "err", err)
					return menus.Message(menus.MsgBusy, "")
				}
				lines := menus.AllowancesOf(g, code, g.Language)
				if len(lines) == 0 {
					return menus.Message(menus.MsgNoAllowance, g.Language)
				}
				return textlen.FitSMS(strings.Join(lines, "\n"), "...", segmentsPerChild)
			}
		}
	}
	log.Info("status query without a valid code and secret")
	return menus.Message(menus.MsgStatusSecret, "")
}

// help lists the keywords in the sender's language, or both.
func (s *Service) help(ctx context.Context, from string) string {
	lang := ""
	if c, err := s.Registry.CallerByPhone(ctx, from); err == nil {
		lang = c.Language
		return menus.Message(menus.MsgHelpDirector, lang)
	}
	if g, err := s.Registry.GuardianByPhone(ctx, from); err == nil {
		lang = g.Language
	}
	return menus.Message(menus.MsgHelpFamily, lang)
}

// fillForm saves a director's one-line report, or says which field is
// wrong and what the form looks like. Nothing is saved from a bad form.
func (s *Service) fillForm(ctx context.Context, log *slog.Logger, id int64, in menus.SMS, m *menus.Machine, f menus.Form, fields []string) string {
	c, err := s.Registry.CallerByPhone(ctx, in.Phone)
	if errors.Is(err, menus.ErrNotFound) {
		return s.help(ctx, in.Phone)
	}
	if err != nil {
		log.Error("director lookup failed", "err", err)
		return menus.Message(menus.MsgBusy, "")
	}
	snap, report, problem := m.FillForm(c, f, fields, s.now(), smsScreen)
	if problem != nil {
		return formError(m, f, problem, snap.Lang)
	}
	report.Channel = menus.ChannelSMS
	report.Carrier = in.Carrier
	// One report per message: a carrier retry never reaches here, and a
	// message without a carrier id is keyed by its row.
	report.SessionKey = fmt.Sprintf("sms:%s:%d", in.Carrier, id)
	if in.CarrierID != "" {
		report.SessionKey = "sms:" + in.Carrier + ":" + in.CarrierID
	}
	ref, err := s.Reports.SaveReport(ctx, *report)
	if err != nil {
		log.Error("sms report not saved", "kind", report.Kind, "err", err)
		return menus.Message(menus.MsgNotSaved, snap.Lang)
	}
	log.Info("report saved", "kind", report.Kind, "ref", ref, "channel", menus.ChannelSMS)
	return m.Saved(snap, ref).Screen
}

func formError(m *menus.Machine, f menus.Form, p *menus.FormProblem, lang string) string {
	field := fmt.Sprintf("%d", p.Field)
	if p.Key != "" {
		field = menus.FieldName(p.Key, lang)
	}
	usage := m.FormUsage(f, lang)
	if lang == menus.LangZH {
		return fmt.Sprintf("第%d项（%s）：%s\n格式：%s", p.Field, field, p.Message, usage)
	}
	return fmt.Sprintf("Field %d (%s): %s\nFormat: %s", p.Field, field, p.Message, usage)
}

// startConversation opens (or restarts) the menu as an SMS conversation.
func (s *Service) startConversation(ctx context.Context, log *slog.Logger, in menus.SMS, m *menus.Machine) string {
	if err := s.Conversations.Delete(ctx, conversationChannel, conversationID(in)); err != nil {
		log.Error("could not reset the sms conversation", "err", err)
	}
	s.Dialog.Forget(conversationChannel, "sms:"+conversationID(in))
	return s.converse(ctx, in, true, "")
}

// converse feeds one message to the SMS conversation.
func (s *Service) converse(ctx context.Context, in menus.SMS, start bool, input string) string {
	code := ""
	if m, ok := s.Menus.Current(s.DirectorTree); ok && len(m.Tree().ServiceCodes) > 0 {
		code = m.Tree().ServiceCodes[0]
	}
	r := s.Dialog.Hop(ctx, dialog.Hop{
		Channel: conversationChannel, Carrier: "sms", Session: in.Phone, Phone: in.Phone, Service: code,
		Incremental: true, New: start, Input: input, Budget: smsScreen,
	})
	return r.Text
}

// conversationID is the session of a phone's SMS conversation: one per
// phone, since SMS has no session of its own.
func conversationID(in menus.SMS) string { return "sms:" + in.Phone }

// Words splits an SMS into upper-cased words the way people type them on
// Chinese phones: full-width letters and digits folded, Chinese and ASCII
// punctuation and any space (including the ideographic space) separating.
func Words(body string) []string {
	s := width.Narrow.String(body)
	return strings.FieldsFunc(strings.ToUpper(s), func(r rune) bool {
		// Any punctuation separates, Chinese included (，、；：。！？), so
		// "状态！" and "V,C0001,1" read as their words.
		return unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r)
	})
}

func isKeyword(list []string, w string) bool {
	for _, k := range list {
		if strings.ToUpper(k) == w {
			return true
		}
	}
	return false
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) logger() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}
