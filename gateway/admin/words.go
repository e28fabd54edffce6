package admin

import (
	"context"
	"maps"
	"slices"
	"sync"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/reports"
)

// words words reports for people: a report's answers in the labels of
// the tree version that asked them, and the gateway's own codes (urgency,
// status, channel) in zh and en. Tree versions never change once saved,
// so their words are kept for the life of the process.
type words struct {
	mu    sync.Mutex
	trees map[treeKey]map[string]menus.AnswerWords // by language
}

type treeKey struct {
	name    string
	version int
}

// wordsLangs are the languages reports are worded in.
var wordsLangs = []string{menus.LangZH, menus.LangEN}

func (a *API) treeWords(ctx context.Context, name string, version int) map[string]menus.AnswerWords {
	k := treeKey{name, version}
	a.words.mu.Lock()
	w, ok := a.words.trees[k]
	a.words.mu.Unlock()
	if ok {
		return w
	}
	w = map[string]menus.AnswerWords{}
	tv, err := a.Store.TreeVersion(ctx, name, version)
	if err != nil {
		// Codes rather than nothing; try again on the next read.
		a.Log.Warn("report words: tree version unreadable", "tree", name, "version", version, "err", err)
		return w
	}
	t, err := menus.Parse(tv.Source, tv.Format)
	if err != nil {
		a.Log.Warn("report words: tree version unparsable", "tree", name, "version", version, "err", err)
	} else {
		for _, lang := range wordsLangs {
			w[lang] = t.AnswerWords(lang)
		}
	}
	a.words.mu.Lock()
	if a.words.trees == nil {
		a.words.trees = map[treeKey]map[string]menus.AnswerWords{}
	}
	a.words.trees[k] = w
	a.words.mu.Unlock()
	return w
}

// wordsView is a report in words, in one language.
type wordsView struct {
	Detail  string       `json:"detail"`
	Urgency string       `json:"urgency"`
	Status  string       `json:"status,omitempty"`
	Channel string       `json:"channel"`
	Answers []answerWord `json:"answers"`
}

type answerWord struct {
	Key   string `json:"key"`
	Name  string `json:"name"`
	Value string `json:"value"`
	Word  string `json:"word"`
}

// detailKey is the answer a report's detail was taken from.
func detailKey(kind menus.ReportKind) string {
	if kind == menus.ReportVisit {
		return "situation"
	}
	return "category"
}

// reportWords words it in each language.
func (a *API) reportWords(ctx context.Context, it reports.Item) map[string]wordsView {
	tw := a.treeWords(ctx, it.Tree, it.Version)
	out := make(map[string]wordsView, len(wordsLangs))
	for _, lang := range wordsLangs {
		out[lang] = wordsIn(tw[lang], it, lang)
	}
	return out
}

// reportWordsIn words it in lang alone, for an export's rows.
func (a *API) reportWordsIn(ctx context.Context, it reports.Item, lang string) wordsView {
	return wordsIn(a.treeWords(ctx, it.Tree, it.Version)[lang], it, lang)
}

// wordsIn words it in lang by w, its tree version's words.
func wordsIn(w menus.AnswerWords, it reports.Item, lang string) wordsView {
	v := wordsView{
		Detail:  w.Word(detailKey(it.Kind), it.Detail),
		Urgency: w.Word("urgency", it.Urgency),
		Status:  menus.GatewayWord("status", it.Status, lang),
		Channel: menus.GatewayWord("channel", it.Channel, lang),
		Answers: []answerWord{},
	}
	if v.Urgency == it.Urgency {
		v.Urgency = menus.GatewayWord("urgency", it.Urgency, lang)
	}
	for _, k := range slices.Sorted(maps.Keys(it.Answers)) {
		v.Answers = append(v.Answers, answerWord{Key: k, Name: w.Name(k), Value: it.Answers[k], Word: w.Word(k, it.Answers[k])})
	}
	return v
}
