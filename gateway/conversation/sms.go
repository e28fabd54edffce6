package conversation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"unicode"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/cases"
	"github.com/barefoot-ussd/barefoot/menus/phone"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/barefoot-ussd/barefoot/menus/templates"
	"github.com/barefoot-ussd/barefoot/menus/textlen"
	"golang.org/x/text/width"
)

// An inbound SMS is a family's STATUS query, HELP, STOP, MENU, a
// director's one-line report form, or the next input of a menu run as an
// SMS conversation. Every message is recorded before anything else
// happens, so a carrier retry is recognised and answered exactly as the
// first delivery was, and every message is processed: limits hold back
// replies, never reports.

// Budgets: a reply may take two SMS segments per child (the STATUS
// reply), and a menu screen by SMS takes two segments.
const segmentsPerChild = 2

// smsScreenSegments is the room of a menu screen sent by SMS.
const smsScreenSegments = 2

// profile is how the carrier counts an SMS, its signature included.
func (s *Service) profile(carrier string) textlen.Profile {
	if p, ok := s.Profiles[carrier]; ok {
		return p
	}
	return textlen.Standard
}

// Keywords the gateway answers whatever tree is published or conversation
// open; trees may not claim them (menus' reserved keywords).
var (
	statusWords = []string{"STATUS", "状态", "查询"}
	helpWords   = []string{"HELP", "帮助"}
	stopWords   = []string{"STOP", "退出"}
)

// sender is who sent a message, looked up once per message.
type sender struct {
	director *menus.Caller
	guardian *menus.Caller
	// supervisor is set when an acknowledgement came from a supervisor's
	// phone.
	supervisor bool
}

func (w sender) registered() bool { return w.director != nil || w.guardian != nil || w.supervisor }

func (w sender) lang() string {
	switch {
	case w.director != nil:
		return w.director.Language
	case w.guardian != nil:
		return w.guardian.Language
	}
	return ""
}

// Receive records an inbound message, processes it and returns the reply
// (empty for none). For carriers that take the reply inline the reply is
// recorded as replied; for the others it is queued for the sender. An
// error means the message could not be recorded or processed: the carrier
// should deliver it again (5xx).
func (s *Service) Receive(ctx context.Context, in sms.Message, inline bool) (string, error) {
	log := s.logger().With("channel", menus.ChannelSMS, "carrier", in.Carrier, "phone", phone.Masked(in.Phone))
	id, prev, err := s.Messages.RecordInbound(ctx, in)
	if errors.Is(err, menus.ErrConflict) {
		// The carrier id was seen from another phone: not a retry, and not
		// something a retry would fix. Acknowledge, answer nothing.
		log.Warn("carrier message id reused by another phone; ignored", "err", err)
		return "", nil
	}
	if err != nil {
		s.storeFailed(storePostgres, "message")
		return "", fmt.Errorf("record inbound sms: %w", err)
	}
	if prev != nil {
		log.Info("carrier retry answered as before", "message", id)
		return prev.Body, nil
	}
	who, err := s.identify(ctx, in.Phone)
	if err != nil {
		// Nothing was processed: the carrier's retry will be.
		s.storeFailed(storePostgres, "registry")
		return "", fmt.Errorf("identify sender: %w", err)
	}
	var out templates.Message
	if code, ok := s.ackCode(in.Body); ok {
		if out, err = s.acknowledge(ctx, log, in, code, &who); err != nil {
			// Nothing was acknowledged: the carrier's retry will be.
			return "", err
		}
	} else if lang, ok := s.supervisorAsking(ctx, log, in, who); ok {
		out = fixed(templates.CaseAckHowTo, lang)
	} else {
		out = s.answer(ctx, log, id, in, who)
	}
	if !who.registered() {
		// What a stranger sent is kept no longer than it takes to answer.
		defer func() {
			if err := s.Messages.ForgetMessage(context.WithoutCancel(ctx), id); err != nil {
				log.Error("a stranger's message was not forgotten", "err", err)
				s.storeFailed(storePostgres, "message")
			}
		}()
	}
	if out.Body == "" || !s.mayReply(ctx, log, id, in.Phone, who) {
		// Processed, and answered with nothing: a carrier retry of it
		// gets nothing either, and is not processed again.
		if err := s.Messages.MarkAnswered(ctx, id); err != nil {
			s.storeFailed(storePostgres, "message")
			return "", fmt.Errorf("mark message answered: %w", err)
		}
		return "", nil
	}
	reply := sms.Message{Carrier: in.Carrier, Phone: in.Phone, Body: out.Body, Status: sms.Queued, Kind: sms.KindReply,
		Template: out.Template, Lang: out.Lang, Params: out.Params}
	if inline {
		reply.Status = sms.Replied
	}
	stored, err := s.Messages.Answer(ctx, id, reply)
	if err != nil {
		s.storeFailed(storePostgres, "message")
		return "", fmt.Errorf("record reply: %w", err)
	}
	return stored.Body, nil
}

// identify looks the sender up as a director, then as a guardian.
func (s *Service) identify(ctx context.Context, from string) (sender, error) {
	var who sender
	c, err := s.Registry.CallerByPhone(ctx, from)
	switch {
	case err == nil:
		who.director = &c
	case !errors.Is(err, menus.ErrNotFound):
		return who, err
	}
	g, err := s.Registry.GuardianByPhone(ctx, from)
	switch {
	case err == nil:
		who.guardian = &g
	case !errors.Is(err, menus.ErrNotFound):
		return who, err
	}
	return who, nil
}

// mayReply counts a reply against the sender's limit and the deployment's
// budget. A held-back reply is logged and counted; the message was
// processed all the same. An unreachable limiter holds back replies to
// strangers and lets registered people's through.
func (s *Service) mayReply(ctx context.Context, log *slog.Logger, id int64, from string, who sender) bool {
	kind, lim := "stranger", s.Strangers
	if who.registered() {
		kind, lim = "registered", s.Registered
	}
	check := func(l Limiter, key, over string) (string, bool) {
		if l == nil {
			return "", true
		}
		ok, err := l.Allow(ctx, key)
		switch {
		case err != nil:
			log.Error("reply limiter unavailable", "err", err)
			s.storeFailed(storeRedis, "limit")
			return "limiter_down", who.registered()
		case !ok:
			return over, false
		}
		return "", true
	}
	reason, ok := check(lim, from, "phone_limit")
	if ok {
		reason, ok = check(s.Budget, "all", "daily_budget")
	}
	if !ok {
		log.Warn("reply suppressed; the message was processed", "message", id, "sender", kind, "reason", reason)
		if s.Metrics != nil {
			s.Metrics.Suppressed.WithLabelValues(kind, reason).Inc()
		}
	}
	return ok
}

// answer processes one message and works out its reply.
func (s *Service) answer(ctx context.Context, log *slog.Logger, id int64, in sms.Message, who sender) templates.Message {
	if !who.registered() {
		// A number that is not in the registry learns how to register,
		// whatever it sends: the same reply to every keyword, so replies
		// tell nothing about which numbers or codes exist.
		log.Info("message from an unregistered number")
		if s.RequireSecret {
			// Where STATUS needs a code and a secret, everyone who gets
			// it wrong reads the same instruction, strangers included.
			return fixed(templates.StatusSecret, "")
		}
		return fixed(templates.Register, "")
	}
	words := Words(in.Body)
	if len(words) == 0 {
		return s.help(who)
	}
	switch w := words[0]; {
	case isWord(statusWords, w):
		if s.RequireSecret {
			return s.statusWithSecret(ctx, log, in, who, words[1:])
		}
		return s.status(log, in.Carrier, who)
	case isWord(helpWords, w):
		return s.help(who)
	case isWord(stopWords, w):
		return s.stop(ctx, log, in.Phone, who)
	}
	// Any published tree's keywords: each is owned by one tree.
	if tree, ok := s.Menus.ForKeyword(words[0]); ok && isWord(tree.Tree().Keywords, words[0]) {
		return screen(s.converse(ctx, in, tree, id, ""), who.lang())
	}
	_, open := s.conversationOpen(ctx, log, in.Phone)
	if who.director != nil {
		if tree, f, fields, ok := s.Menus.MatchForm(words); ok && (len(fields) > 0 || !open) {
			// A complete form is a report whatever conversation is open;
			// during one, a message that does not fill the form is the
			// conversation's input (free text may start with "V").
			if reply, ok := s.form(ctx, log, id, in, *who.director, tree, f, fields, open); ok {
				return reply
			}
		}
	}
	if open {
		return screen(s.converse(ctx, in, nil, 0, strings.TrimSpace(in.Body)), who.lang())
	}
	return s.help(who)
}

// ackCode reads a supervisor's acknowledgement of a case, "OK 123456" or
// "收到123456" in any case and width, when cases are taken by SMS.
func (s *Service) ackCode(body string) (string, bool) {
	if s.Cases == nil {
		return "", false
	}
	return cases.ParseAck(Words(body))
}

// supervisorAsking reports whether a supervisor, who is neither a director
// nor a guardian, sent OK or 收到 without a case number, or HELP: they
// are told how to acknowledge a case, in their language, rather than to
// register. Anyone else who sends those words is answered as before.
func (s *Service) supervisorAsking(ctx context.Context, log *slog.Logger, in sms.Message, who sender) (string, bool) {
	if s.Cases == nil || who.director != nil || who.guardian != nil {
		return "", false
	}
	words := Words(in.Body)
	if len(words) != 1 || !cases.IsAckWord(words[0]) && !slices.Contains(helpWords, words[0]) {
		return "", false
	}
	lang, ok, err := s.Cases.SupervisorLanguage(ctx, in.Phone)
	if err != nil {
		log.Error("supervisor lookup failed; answered as anyone", "err", err)
		s.storeFailed(storePostgres, "registry")
		return "", false
	}
	return lang, ok
}

// acknowledge takes an acknowledgement of a case. Whoever sends one gets
// the same refusal for a code no case has and a case not theirs, so the
// reply tells nothing of which codes exist.
func (s *Service) acknowledge(ctx context.Context, log *slog.Logger, in sms.Message, code string, who *sender) (templates.Message, error) {
	ack, err := s.Cases.AcknowledgeCaseBySMS(ctx, in.Phone, code, s.now())
	if err != nil {
		s.storeFailed(storePostgres, "case")
		return templates.Message{}, fmt.Errorf("acknowledge case: %w", err)
	}
	lang := who.lang()
	if ack.Supervisor {
		who.supervisor = true
		lang = ack.Language
	}
	lang = templateLang(lang)
	if lang == "" && ack.Outcome != cases.AckRefused {
		lang = menus.LangZH
	}
	switch ack.Outcome {
	case cases.AckDone:
		log.Info("case acknowledged by sms", "case", code)
		return templates.MustRender(templates.CaseAcked, lang, templates.P("case", code)), nil
	case cases.AckAlready:
		return templates.MustRender(templates.CaseAckedBefore, lang, templates.P("case", code)), nil
	}
	log.Info("case acknowledgement refused")
	return templates.MustRender(templates.CaseAckRefused, lang), nil
}

// conversationOpen reports whether the phone has a menu conversation under
// way, and returns it.
func (s *Service) conversationOpen(ctx context.Context, log *slog.Logger, from string) (menus.Snapshot, bool) {
	c := smsMenuConv(from, 0)
	snap, _, _, found := s.Cache.get(c.cacheKey(), s.now())
	if !found {
		var err error
		lctx, cancel := s.storeCtx(ctx)
		snap, _, found, _, err = s.Sessions.LoadWithResume(lctx, c.channel, c.id, from)
		cancel()
		if err != nil {
			log.Error("sms conversation not loaded", "err", err)
			s.storeFailed(storeRedis, "load")
			return menus.Snapshot{}, false
		}
	}
	return snap, found && !snap.Ended
}

// converse feeds one message to the phone's SMS conversation; a message
// with an opener id (MENU) opens a new one on tree, whose report is keyed
// to it. An open conversation runs on the tree version it started on.
func (s *Service) converse(ctx context.Context, in sms.Message, tree *menus.Machine, opener int64, input string) string {
	r := s.run(ctx, event{
		conv: smsMenuConv(in.Phone, opener), carrier: in.Carrier, phone: in.Phone, tree: tree,
		incremental: true, opens: opener > 0, restart: opener > 0, input: input, budget: s.profile(in.Carrier).Budget(smsScreenSegments), ttl: s.SMSTTL,
	})
	return r.Text
}

// stop ends the phone's SMS conversation.
func (s *Service) stop(ctx context.Context, log *slog.Logger, from string, who sender) templates.Message {
	snap, open := s.conversationOpen(ctx, log, from)
	if !open {
		return fixed(templates.NothingOpen, who.lang())
	}
	s.forget(ctx, log, smsMenuConv(from, 0))
	log.Info("sms conversation stopped by its caller")
	s.countAbandoned(menus.ChannelSMS, abandonment{tree: snap.Tree, node: snap.Node, reason: abandonCancelled})
	return fixed(templates.Stopped, who.lang())
}

// form saves a director's one-line report, or says which field is wrong
// and what the form looks like; nothing is saved from a bad form. With
// quiet set (a conversation is open) a bad form is not answered: ok is
// false and the message goes to the conversation.
func (s *Service) form(ctx context.Context, log *slog.Logger, id int64, in sms.Message, c menus.Caller, m *menus.Machine, f menus.Form, fields []string, quiet bool) (templates.Message, bool) {
	if probe := (menus.Snapshot{Node: f.Start, Caller: c}); m.WantsNeeds(probe, "") {
		hs := &hop{log: func() *slog.Logger { return log }}
		s.attachNeeds(ctx, hs, m, &probe, "")
		c = probe.Caller
	}
	snap, effects, problem := m.FillForm(c, f, fields, s.now(), s.profile(in.Carrier).Budget(smsScreenSegments))
	if problem != nil {
		if quiet {
			return templates.Message{}, false
		}
		return screen(formError(m, f, problem, snap.Lang), snap.Lang), true
	}
	key := formKey(in.Carrier, in.CarrierID, id)
	before := snap
	before.ReportKey = key
	hs := &hop{log: func() *slog.Logger { return log }}
	e := event{conv: conv{channel: menus.ChannelSMS, report: key}, carrier: in.Carrier, phone: in.Phone}
	out, _ := s.apply(ctx, hs, m, e, before, snap, effects)
	for _, r := range hs.reports {
		s.countReport(r.kind, menus.ChannelSMS, r.outcome)
	}
	if out.Notice == "save_failed" {
		// A form is not a conversation: there is no confirm to press
		// again, so the director is asked to send it again.
		return fixed(templates.NotSaved, snap.Lang), true
	}
	return screen(out.Screen, snap.Lang), true
}

func formError(m *menus.Machine, f menus.Form, p *menus.FormProblem, lang string) string {
	field := fmt.Sprintf("%d", p.Field)
	if p.Name != "" {
		field = p.Name
	}
	usage := m.FormUsage(f, lang)
	if lang == menus.LangZH {
		return fmt.Sprintf("第%d项（%s）：%s\n格式：%s", p.Field, field, p.Message, usage)
	}
	return fmt.Sprintf("Field %d (%s): %s\nFormat: %s", p.Field, field, p.Message, usage)
}

// status answers a family's STATUS query. A number that is not a
// registered guardian learns nothing about anyone: not whether a child code
// it names exists, nor anything else.
func (s *Service) status(log *slog.Logger, carrier string, who sender) templates.Message {
	g := who.guardian
	if g == nil {
		log.Info("status query from an unregistered number")
		return fixed(templates.Register, "")
	}
	if len(g.Children) == 1 {
		if m, ok := oneAllowance(*g, g.Children[0].Code); ok {
			return m
		}
	}
	var parts []string
	for _, c := range g.Children {
		lines := menus.AllowancesOf(*g, c.Code, g.Language)
		if len(lines) == 0 {
			lines = []string{c.Name + ": " + menus.Message(menus.MsgNoAllowance, g.Language)}
		}
		parts = append(parts, s.profile(carrier).Fit(strings.Join(lines, "\n"), "...", segmentsPerChild))
	}
	if len(parts) == 0 {
		return fixed(templates.NoAllowance, g.Language)
	}
	return allowances(strings.Join(parts, "\n"), g.Language)
}

// statusWithSecret answers "STATUS <child code> <secret>" with that
// child's status, and anything else with the same instruction, so the
// reply never tells whether a number, a code or a secret was wrong.
func (s *Service) statusWithSecret(ctx context.Context, log *slog.Logger, in sms.Message, who sender, args []string) templates.Message {
	if len(args) == 2 && who.guardian != nil {
		if code, ok := menus.ChildCode(args[0]); ok {
			match, err := s.Registry.CheckStatusSecret(ctx, in.Phone, code, args[1])
			if err != nil {
				log.Error("status secret check failed", "err", err)
				s.storeFailed(storePostgres, "registry")
				return fixed(templates.Busy, "")
			}
			if match {
				g := *who.guardian
				if m, ok := oneAllowance(g, code); ok {
					return m
				}
				lines := menus.AllowancesOf(g, code, g.Language)
				if len(lines) == 0 {
					return fixed(templates.NoAllowance, g.Language)
				}
				return allowances(s.profile(in.Carrier).Fit(strings.Join(lines, "\n"), "...", segmentsPerChild), g.Language)
			}
		}
	}
	log.Info("status query without a valid code and secret")
	return fixed(templates.StatusSecret, "")
}

// help lists the keywords in the sender's language, or both.
func (s *Service) help(who sender) templates.Message {
	if who.director != nil {
		return fixed(templates.HelpDirector, who.director.Language)
	}
	return fixed(templates.HelpFamily, who.lang())
}

// fixed is a reply of fixed wording, in lang (both languages when the
// sender's is not known).
func fixed(key, lang string) templates.Message {
	return templates.MustRender(key, templateLang(lang))
}

// oneAllowance is the STATUS reply about a child with exactly one
// allowance, from the template of that allowance's status: fixed wording
// and typed variables, which providers that vet templates approve where
// they would not approve a free-text variable. It is false when the child
// has none or several, or a variable does not fit its kind (a very long
// name), and the reply is then the listing.
func oneAllowance(g menus.Caller, code string) (templates.Message, bool) {
	var found []menus.Allowance
	for _, a := range g.Allowances {
		if a.ChildCode == code {
			found = append(found, a)
		}
	}
	if len(found) != 1 {
		return templates.Message{}, false
	}
	m, err := templates.AllowanceReply(found[0], g.Language)
	return m, err == nil
}

// allowances is a STATUS reply listing allowances.
func allowances(status, lang string) templates.Message {
	if lang != menus.LangEN {
		lang = menus.LangZH
	}
	return templates.MustRender(templates.AllowanceStatus, lang, templates.P("status", status))
}

// screen is a screen of an SMS menu conversation, or nothing when it is
// empty.
func screen(text, lang string) templates.Message {
	if text == "" {
		return templates.Message{}
	}
	return templates.MustRender(templates.MenuScreen, templateLang(lang), templates.P("screen", text))
}

// templateLang is the template language of a caller's language: the
// bilingual text when it is not one the templates are written in.
func templateLang(lang string) string {
	if lang == menus.LangZH || lang == menus.LangEN {
		return lang
	}
	return ""
}

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

func isWord(list []string, w string) bool {
	for _, k := range list {
		if strings.ToUpper(k) == w {
			return true
		}
	}
	return false
}
