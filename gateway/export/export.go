// Package export writes report tables (visits, needs) to CSV and XLSX for
// county administrators.
//
// Every text cell is untrusted: answers typed by directors over SMS/USSD and
// child names end up here, and a spreadsheet treats a cell that starts with
// "=", "+", "-", "@", TAB or CR as a formula (RELIABILITY.md B16, CSV/formula
// injection). Both writers therefore pass every text cell through the same
// steps, in this order:
//
//  1. cleanText: invalid UTF-8 becomes U+FFFD; CR and CRLF become LF; the
//     other control characters (NUL, the rest of C0, DEL, C1) are dropped
//     except TAB and LF, and so are U+FFFE and U+FFFF. XML 1.0, and so XLSX,
//     cannot carry C0 controls or U+FFFE/U+FFFF at all; the others are
//     invisible, and no one types them in an answer. A bare CR is a formula
//     trigger and is lost by CSV readers (encoding/csv with CRLF drops it),
//     and Excel breaks lines inside a cell with LF. Doing the same in CSV
//     keeps both formats identical cell for cell.
//  2. Neutralize: a value that could be read as a formula gets a leading "'".
//  3. Truncation to 32,767 UTF-16 units, Excel's limit for one cell, never
//     splitting a character. Excel would cut the cell anyway; doing it here
//     makes the cut predictable and the same in both formats. The "'" is at
//     the start, so the cut never removes it.
//
// Number, Date and DateTime cells are written from Go numbers and times,
// never from text, so they cannot carry a formula and are not quoted: a
// negative number stays a number.
package export

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// ErrInvalid is wrapped by CSV and XLSX when the table, the sheet name or
// the location cannot be exported: a value of the wrong type for its column,
// a NaN, a date outside 1900–9999, too many rows for a worksheet. It is the
// caller's mistake, and nothing has been written to w when it is returned.
var ErrInvalid = errors.New("export: invalid table")

// Kind is how a column's values are typed in the spreadsheet.
type Kind int

// The kinds of column.
const (
	// Text values are strings (or any type whose underlying type is string,
	// such as a typed id); nil is an empty cell. They are cleaned and
	// neutralized.
	Text Kind = iota
	// Number values are Go integers or floats; nil is an empty cell. NaN and
	// infinities are refused. Identifiers such as resident ID numbers, phone
	// numbers and registry codes are Text, not Number: a spreadsheet keeps
	// only 15 significant digits and drops leading zeros.
	Number
	// Date values are time.Time; the cell is the calendar date in the
	// export's location. A calendar date read from a Postgres date column
	// (midnight UTC) keeps its day in any location east of UTC, such as
	// Asia/Shanghai; elsewhere build it as midnight in that location.
	Date
	// DateTime values are time.Time, shown as the wall clock in the export's
	// location.
	DateTime
)

func (k Kind) String() string {
	switch k {
	case Text:
		return "text"
	case Number:
		return "number"
	case Date:
		return "date"
	case DateTime:
		return "datetime"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Column of a table: a header per language and a kind.
type Column struct {
	Key string
	// Header by language ("zh", "en"). A missing language falls back to
	// "zh" (the programme's working language), then "en", then Key.
	Header map[string]string
	Kind   Kind
}

// Table is what is exported: columns and rows of values keyed by Column.Key.
// Keys of a row that name no column are ignored; a missing key is an empty
// cell. A zero time.Time is an empty cell.
type Table struct {
	Columns []Column
	Rows    []map[string]any
}

// header returns the column's header in lang, with the fallbacks described
// on Column.Header.
func (c Column) header(lang string) string {
	for _, l := range [...]string{lang, "zh", "en"} {
		if h, ok := c.Header[l]; ok && h != "" {
			return h
		}
	}
	return c.Key
}

// Neutralize returns s safe to put in a spreadsheet cell as text: if a
// spreadsheet could read s as a formula, it returns "'" + s, and otherwise s
// unchanged. The quote is what Excel and LibreOffice themselves use to mark a
// cell as text (OWASP's advice, and Symfony's fix for CVE-2021-41270).
//
// s is quoted when
//   - it starts with one of OWASP's triggers "=", "+", "-", "@", TAB or CR;
//   - its first character after a run of leading white space, control and
//     invisible format characters (spaces, LF, NBSP, U+3000 ideographic
//     space, zero-width space, BOM ...) is "=", "+", "-" or "@": Google Sheets,
//     LibreOffice and some CSV importers trim leading white space before they
//     decide whether a cell is a formula, so " =1+1" is as dangerous as "=1+1";
//   - the character found that way is a compatibility form of a trigger:
//     full-width (＝ ＋ － ＠), which Chinese input methods produce, or
//     small (﹦ ﹢ ﹣ ﹫). We have not seen a
//     spreadsheet evaluate them from a file; quoting them is a precaution
//     whose only cost is a visible apostrophe on rare text.
//
// A value that already starts with "'" is returned unchanged: a spreadsheet
// does not evaluate it, so it needs no change, and leaving it makes
// Neutralize idempotent (Neutralize(Neutralize(s)) == Neutralize(s)). The
// price is that "'=1" and the neutralized "=1" look the same in the export.
//
// Neutralize does not clean s; CSV and XLSX clean before they neutralize.
func Neutralize(s string) string {
	if needsQuote(s) {
		return "'" + s
	}
	return s
}

func needsQuote(s string) bool {
	if s == "" {
		return false
	}
	switch c := s[0]; {
	case c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r':
		return true
	case c == '\'':
		return false
	case c > ' ' && c < 0x7f:
		// Any other printable ASCII character decides at once: the common case.
		return false
	}
	for _, r := range s {
		switch {
		case isTrigger(r):
			return true
		case unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			continue
		default:
			return false
		}
	}
	return false
}

// isTrigger reports whether r is a formula trigger, or a compatibility
// form of one (full-width ＝, small ﹦, ...): whatever folds to "=", "+",
// "-" or "@" under NFKC, as some importers fold it.
func isTrigger(r rune) bool {
	switch r {
	case '=', '+', '-', '@':
		return true
	}
	if r < 0x80 {
		return false
	}
	switch norm.NFKC.String(string(r)) {
	case "=", "+", "-", "@":
		return true
	}
	return false
}

// maxCellUnits is the most UTF-16 code units Excel keeps in one cell.
const maxCellUnits = 32767

// cellText is what a text cell holds, in both formats.
func cellText(s string) string {
	return truncateUTF16(Neutralize(cleanText(s)), maxCellUnits)
}

// cleanText makes untrusted text safe for a CSV or XLSX cell; see the
// package documentation for what it changes and why.
func cleanText(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x7f || (c < ' ' && c != '\t' && c != '\n') {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.Contains(s, "\r\n") {
		s = strings.ReplaceAll(s, "\r\n", "\n")
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\r':
			return '\n'
		case r == '\t' || r == '\n':
			return r
		case unicode.IsControl(r), r == 0xFFFE, r == 0xFFFF:
			return -1
		}
		return r
	}, s)
}

// truncateUTF16 cuts s to at most n UTF-16 code units on a character
// boundary, as Excel counts a cell's length.
func truncateUTF16(s string, n int) string {
	if len(s) <= n {
		// A UTF-8 string never has more UTF-16 units than bytes.
		return s
	}
	units := 0
	for i, r := range s {
		u := 1
		if r >= 0x10000 {
			u = 2
		}
		if units+u > n {
			return s[:i]
		}
		units += u
	}
	return s
}

// Excel's date system cannot show dates before 1900; four-digit years end
// at 9999.
const (
	minYear = 1900
	maxYear = 9999
)

// cell is one converted value, ready for either writer.
type cell struct {
	empty bool
	text  string    // Text: cleaned, neutralized, truncated
	num   any       // Number: int64, uint64, float32 or float64
	t     time.Time // Date: midnight UTC of the date; DateTime: in loc
}

// convert turns a row value into a cell of column c.
func convert(c Column, v any, loc *time.Location) (cell, error) {
	if v == nil {
		return cell{empty: true}, nil
	}
	switch c.Kind {
	case Text:
		s, err := text(v)
		if err != nil {
			return cell{}, err
		}
		return cell{text: cellText(s)}, nil
	case Number:
		return number(v)
	case Date, DateTime:
		t, ok := v.(time.Time)
		if !ok {
			return cell{}, fmt.Errorf("want a time.Time, got %T", v)
		}
		if t.IsZero() {
			return cell{empty: true}, nil
		}
		t = t.In(loc)
		if y := t.Year(); y < minYear || y > maxYear {
			return cell{}, fmt.Errorf("year %d outside %d–%d", y, minYear, maxYear)
		}
		if c.Kind == Date {
			t = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		}
		return cell{t: t}, nil
	}
	return cell{}, fmt.Errorf("unknown column kind %d", int(c.Kind))
}

func text(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	// A typed string such as an id type (STYLE.md 13).
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.String {
		return rv.String(), nil
	}
	return "", fmt.Errorf("want a string, got %T", v)
}

func number(v any) (cell, error) {
	switch n := v.(type) {
	case int:
		return cell{num: int64(n)}, nil
	case int8:
		return cell{num: int64(n)}, nil
	case int16:
		return cell{num: int64(n)}, nil
	case int32:
		return cell{num: int64(n)}, nil
	case int64:
		return cell{num: n}, nil
	case uint:
		return cell{num: uint64(n)}, nil
	case uint8:
		return cell{num: uint64(n)}, nil
	case uint16:
		return cell{num: uint64(n)}, nil
	case uint32:
		return cell{num: uint64(n)}, nil
	case uint64:
		return cell{num: n}, nil
	case float32:
		if err := finite(float64(n)); err != nil {
			return cell{}, err
		}
		return cell{num: n}, nil
	case float64:
		if err := finite(n); err != nil {
			return cell{}, err
		}
		return cell{num: n}, nil
	}
	return cell{}, fmt.Errorf("want a Go integer or float, got %T", v)
}

func finite(f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("%v is not a number a spreadsheet can hold", f)
	}
	return nil
}

// checkColumns reports what makes every row of t unexportable.
func checkColumns(t Table, loc *time.Location) error {
	if loc == nil {
		return fmt.Errorf("%w: nil location", ErrInvalid)
	}
	if len(t.Columns) == 0 {
		return fmt.Errorf("%w: no columns", ErrInvalid)
	}
	for _, c := range t.Columns {
		if c.Kind < Text || c.Kind > DateTime {
			return fmt.Errorf("%w: column %q: unknown kind %d", ErrInvalid, c.Key, int(c.Kind))
		}
	}
	return nil
}

// checkRows reports the first value of t that cannot be exported, so that
// CSV can refuse the table before it writes a byte. Text is only type-checked
// here: cleaning it twice would be wasted work.
func checkRows(t Table, loc *time.Location) error {
	for i, row := range t.Rows {
		for _, c := range t.Columns {
			v := row[c.Key]
			var err error
			if c.Kind == Text {
				if v != nil {
					_, err = text(v)
				}
			} else {
				_, err = convert(c, v, loc)
			}
			if err != nil {
				return rowError(i, c, err)
			}
		}
	}
	return nil
}

func rowError(i int, c Column, err error) error {
	return fmt.Errorf("%w: row %d column %q (%s): %v", ErrInvalid, i+1, c.Key, c.Kind, err)
}
