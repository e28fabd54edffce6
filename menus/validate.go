package menus

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// defaultTextMax bounds free text when a tree sets no max: one SMS worth.
const defaultTextMax = 160

// notice is a validation failure: a label key and its arguments.
type notice struct {
	key  string
	args map[string]string
}

// cleanInput folds what phones send into what validators expect: full-width
// digits and letters (Chinese input methods) become ASCII, and surrounding
// space goes.
func cleanInput(s string) string {
	s = strings.TrimSpace(s)
	if !isASCII(s) {
		s = strings.TrimSpace(width.Narrow.String(s))
	}
	return s
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// validate checks an input node's answer and returns the value to store.
func (m *Machine) validate(n *Node, in string, c Caller, now time.Time) (string, *notice) {
	switch n.Validate {
	case ValidateNumber:
		return validateNumber(n, in)
	case ValidateDate:
		return validateDate(n, in, now)
	case ValidatePhone:
		p, err := m.phones.Normalize(in)
		if err != nil {
			return "", &notice{key: "invalid_phone"}
		}
		return p, nil
	case ValidateChild:
		code, ok := ChildCode(in)
		if !ok {
			return "", &notice{key: "unknown_child", args: map[string]string{"input": clip(in, 12)}}
		}
		if _, ok := c.Child(code); !ok {
			return "", &notice{key: "unknown_child", args: map[string]string{"input": code}}
		}
		return code, nil
	case ValidateText:
		return validateText(n, in)
	case ValidateNeed:
		// One answer for a reference that does not exist and one of
		// another director's child: a guess learns nothing.
		need, ok := c.Need(in)
		if !ok || need.Status == NeedResolved {
			return "", &notice{key: "unknown_need", args: map[string]string{"input": clip(strings.ToUpper(in), 10)}}
		}
		return need.Ref, nil
	}
	return "", &notice{key: "invalid_option"}
}

// ChildCode canonicalises a typed child code: case, full-width characters
// and missing leading zeros are forgiven ("c1", "Ｃ０００１" and "C0001" are
// the same child), and bare digits are read as a C code because letters are
// slow to type on a keypad.
func ChildCode(in string) (string, bool) {
	s := strings.ToUpper(cleanInput(in))
	if s == "" || len(s) > 10 {
		return "", false
	}
	prefix := "C"
	if s[0] >= 'A' && s[0] <= 'Z' {
		prefix, s = s[:1], s[1:]
	}
	if s == "" || len(s) > 9 {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", false
		}
	}
	if len(s) < 4 {
		s = strings.Repeat("0", 4-len(s)) + s
	}
	return prefix + s, true
}

func validateNumber(n *Node, in string) (string, *notice) {
	if in == "" || len(in) > 9 {
		return "", &notice{key: "invalid_number"}
	}
	v, err := strconv.Atoi(in)
	if err != nil || strings.ContainsAny(in, "+-") {
		return "", &notice{key: "invalid_number"}
	}
	if (n.Min != nil && v < *n.Min) || (n.Max != nil && v > *n.Max) {
		return "", &notice{key: "number_range", args: rangeArgs(n, 0, 999999999)}
	}
	return strconv.Itoa(v), nil
}

var dateLayouts = []string{"2006-01-02", "2006-1-2", "20060102", "2006/1/2", "2006.1.2"}

func validateDate(n *Node, in string, now time.Time) (string, *notice) {
	var d time.Time
	ok := false
	for _, layout := range dateLayouts {
		if t, err := time.ParseInLocation(layout, in, now.Location()); err == nil {
			d, ok = t, true
			break
		}
	}
	if !ok || d.Year() < 1900 {
		return "", &notice{key: "invalid_date"}
	}
	if lo, _ := parseBound(n.MinDate, now); !lo.IsZero() && d.Before(lo) {
		return "", &notice{key: "date_range"}
	}
	if hi, _ := parseBound(n.MaxDate, now); !hi.IsZero() && d.After(hi) {
		return "", &notice{key: "date_range"}
	}
	return d.Format("2006-01-02"), nil
}

// parseBound reads a date bound: empty (none), "today" or YYYY-MM-DD.
func parseBound(s string, now time.Time) (time.Time, bool) {
	switch s {
	case "":
		return time.Time{}, true
	case "today":
		y, m, d := now.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, now.Location()), true
	}
	t, err := time.ParseInLocation("2006-01-02", s, now.Location())
	return t, err == nil
}

func validateText(n *Node, in string) (string, *notice) {
	s := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || isHiddenFormat(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(in, ""))
	s = strings.TrimSpace(s)
	if s == "" {
		return "", &notice{key: "invalid_text"}
	}
	lo, hi := 1, defaultTextMax
	if n.Min != nil {
		lo = *n.Min
	}
	if n.Max != nil {
		hi = *n.Max
	}
	if l := utf8.RuneCountInString(s); l < lo || l > hi {
		return "", &notice{key: "text_length", args: map[string]string{"min": strconv.Itoa(lo), "max": strconv.Itoa(hi)}}
	}
	return s, nil
}

func rangeArgs(n *Node, lo, hi int) map[string]string {
	if n.Min != nil {
		lo = *n.Min
	}
	if n.Max != nil {
		hi = *n.Max
	}
	return map[string]string{"min": strconv.Itoa(lo), "max": strconv.Itoa(hi)}
}

// clip shortens echoed input so a long paste cannot blow up a screen.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "..."
}
