package menus

import "strings"

// Words: what a report's codes mean to a person. A report stores the
// values its tree's choices save ("needs_support", "protection"); the
// office reads them as the director chose them, in the labels of the
// tree and version that asked. Statuses and channels are the gateway's
// own and worded here.

// AnswerWords is how one tree words the answers it saves, in one language.
type AnswerWords struct {
	// Names name each answer key ("situation": "情况").
	Names map[string]string
	// Values word each value a choice saves, by key
	// ("situation" → "needs_support" → "需要帮助").
	Values map[string]map[string]string
}

// AnswerWords is how t words its answers in lang. A key or value the tree
// does not word is absent: callers show the code.
func (t *Tree) AnswerWords(lang string) AnswerWords {
	w := AnswerWords{Names: map[string]string{}, Values: map[string]map[string]string{}}
	for i := range t.Nodes {
		n := &t.Nodes[i]
		if n.SaveAs == "" {
			continue
		}
		if _, ok := w.Names[n.SaveAs]; !ok {
			if l := strings.TrimSpace(n.Label[lang]); l != "" {
				w.Names[n.SaveAs] = l
			} else if l := fieldNames[n.SaveAs][lang]; l != "" {
				w.Names[n.SaveAs] = l
			}
		}
		for _, c := range n.Choices {
			if c.Value == "" || strings.TrimSpace(c.Label[lang]) == "" {
				continue
			}
			if w.Values[n.SaveAs] == nil {
				w.Values[n.SaveAs] = map[string]string{}
			}
			if _, ok := w.Values[n.SaveAs][c.Value]; !ok {
				w.Values[n.SaveAs][c.Value] = strings.TrimSpace(c.Label[lang])
			}
		}
	}
	return w
}

// Word is value of key in words, else the value itself.
func (w AnswerWords) Word(key, value string) string {
	if s := w.Values[key][value]; s != "" {
		return s
	}
	return value
}

// Name is key's name, else the key itself.
func (w AnswerWords) Name(key string) string {
	if s := w.Names[key]; s != "" {
		return s
	}
	return key
}

var gatewayWords = map[string]map[string]Text{
	"urgency": {UrgencyRoutine: {LangZH: "一般", LangEN: "Routine"}, UrgencyUrgent: {LangZH: "紧急", LangEN: "Urgent"}},
	"status": {
		"open": {LangZH: "待处理", LangEN: "Open"}, "referred": {LangZH: "已转介", LangEN: "Referred"},
		"resolved": {LangZH: "已解决", LangEN: "Resolved"},
	},
	"channel": {"ussd": {LangZH: "USSD 菜单", LangEN: "USSD menu"}, "sms": {LangZH: "短信", LangEN: "SMS"}},
}

// GatewayWord words a code the gateway itself gives a report (its
// "urgency", need "status" or "channel") in lang, else returns the code.
func GatewayWord(group, code, lang string) string {
	if s := gatewayWords[group][code][lang]; s != "" {
		return s
	}
	return code
}
