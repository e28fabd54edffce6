package export_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/barefoot-ussd/barefoot/gateway/export"
)

const bom = "\uFEFF"

// readCSV checks the byte order mark and parses the rest with encoding/csv.
func readCSV(tb testing.TB, b []byte) [][]string {
	tb.Helper()
	s, ok := strings.CutPrefix(string(b), bom)
	if !ok {
		tb.Fatalf("no UTF-8 byte order mark: % x", b[:min(len(b), 8)])
	}
	records, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		tb.Fatalf("read back csv: %v\n%s", err, s)
	}
	return records
}

func mustCSV(tb testing.TB, tab export.Table, lang string) [][]string {
	tb.Helper()
	var buf bytes.Buffer
	if err := export.CSV(&buf, tab, lang, shanghai); err != nil {
		tb.Fatalf("CSV: %v", err)
	}
	return readCSV(tb, buf.Bytes())
}

func TestCSV(t *testing.T) {
	tests := []struct {
		lang   string
		header []string
	}{
		{"zh", []string{"儿童姓名", "回答", "年龄", "金额", "走访日期", "提交时间"}},
		{"en", []string{"Child", "Answer", "Age", "Amount", "Visited on", "Submitted at"}},
		// A language without headers falls back to Chinese.
		{"fr", []string{"儿童姓名", "回答", "年龄", "金额", "走访日期", "提交时间"}},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			got := mustCSV(t, reportTable(), tt.lang)
			want := append([][]string{tt.header}, wantCells...)
			if len(got) != len(want) {
				t.Fatalf("got %d records, want %d: %q", len(got), len(want), got)
			}
			for i := range want {
				if strings.Join(got[i], "\x1f") != strings.Join(want[i], "\x1f") {
					t.Errorf("record %d:\n got %q\nwant %q", i, got[i], want[i])
				}
			}
		})
	}
}

func TestCSVBytes(t *testing.T) {
	var buf bytes.Buffer
	tab := export.Table{
		Columns: []export.Column{
			{Key: "name", Header: map[string]string{"en": "Name"}},
			{Key: "n", Header: map[string]string{"en": "N"}, Kind: export.Number},
		},
		Rows: []map[string]any{{"name": "a,\"b\"\nc", "n": -3}},
	}
	if err := export.CSV(&buf, tab, "en", shanghai); err != nil {
		t.Fatal(err)
	}
	// BOM, RFC 4180 quoting with doubled quotes, CRLF line ends (also inside
	// the quoted field), a negative number written plainly.
	want := bom + "Name,N\r\n\"a,\"\"b\"\"\r\nc\",-3\r\n"
	if got := buf.String(); got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func TestCSVHeaderFallback(t *testing.T) {
	tests := []struct {
		name   string
		header map[string]string
		lang   string
		want   string
	}{
		{"asked language", map[string]string{"zh": "姓名", "en": "Name"}, "en", "Name"},
		{"missing language takes zh", map[string]string{"zh": "姓名", "en": "Name"}, "fr", "姓名"},
		{"empty header takes zh", map[string]string{"zh": "姓名", "en": ""}, "en", "姓名"},
		{"only en", map[string]string{"en": "Name"}, "zh", "Name"},
		{"none takes the key", nil, "zh", "name"},
		{"formula header", map[string]string{"en": "=1+1"}, "en", "'=1+1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := export.Table{Columns: []export.Column{{Key: "name", Header: tt.header}}}
			got := mustCSV(t, tab, tt.lang)
			if len(got) != 1 || len(got[0]) != 1 || got[0][0] != tt.want {
				t.Fatalf("got %q, want header %q", got, tt.want)
			}
		})
	}
}

// Text cells are cleaned before they are neutralized, so a control character
// cannot hide a trigger, and the file stays valid UTF-8.
func TestCSVCleansText(t *testing.T) {
	type id string
	long := strings.Repeat("字", 32766) + "😀" // 32,768 UTF-16 units
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"nul before trigger", "\x00=1+1", "'=1+1"},
		{"nul inside", "王\x00小明", "王小明"},
		{"other controls", "a\x01\x1b\x7f\u0085b", "ab"},
		{"tab kept", "a\tb", "a\tb"},
		{"leading tab", "\tx", "'\tx"},
		{"crlf", "line 1\r\nline 2", "line 1\nline 2"},
		{"bare cr", "line 1\rline 2", "line 1\nline 2"},
		{"leading cr", "\r=1", "'\n=1"},
		{"invalid utf-8", "ab\xffcd", "ab\uFFFDcd"},
		{"invalid utf-8 before trigger", "\xff=1", "\uFFFD=1"},
		{"noncharacters", "a\uFFFEb\uFFFFc", "abc"},
		{"typed string", id("=A1"), "'=A1"},
		{"nil", nil, ""},
		{"cut to excel's limit", long, strings.Repeat("字", 32766)},
		{"cut keeps the quote", "=" + strings.Repeat("a", 40000), "'=" + strings.Repeat("a", 32765)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := export.Table{
				Columns: []export.Column{{Key: "t", Header: map[string]string{"en": "T"}}},
				Rows:    []map[string]any{{"t": tt.in}},
			}
			got := mustCSV(t, tab, "en")
			if len(got) != 2 || got[1][0] != tt.want {
				t.Fatalf("got %q, want %q", got[1:], tt.want)
			}
		})
	}
}

func TestCSVNumbersAndDates(t *testing.T) {
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("no tzdata: %v", err)
	}
	tests := []struct {
		name string
		kind export.Kind
		in   any
		loc  *time.Location
		want string
	}{
		{"int", export.Number, 42, shanghai, "42"},
		{"negative int64", export.Number, int64(-7), shanghai, "-7"},
		{"uint64", export.Number, uint64(math.MaxUint64), shanghai, "18446744073709551615"},
		{"float", export.Number, -1.5, shanghai, "-1.5"},
		{"small float, no exponent", export.Number, 0.00001, shanghai, "0.00001"},
		{"float32", export.Number, float32(0.1), shanghai, "0.1"},
		{"date", export.Date, visitedOn, shanghai, "2024-03-01"},
		{"date is the day in loc", export.Date, submittedAt, shanghai, "2024-03-02"},
		{"date west of UTC", export.Date, submittedAt, newYork, "2024-03-01"},
		{"datetime", export.DateTime, submittedAt, shanghai, "2024-03-02T04:30:15+08:00"},
		{"datetime west of UTC", export.DateTime, submittedAt, newYork, "2024-03-01T15:30:15-05:00"},
		{"zero time", export.DateTime, time.Time{}, shanghai, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := export.Table{
				Columns: []export.Column{{Key: "v", Header: map[string]string{"en": "V"}, Kind: tt.kind}},
				Rows:    []map[string]any{{"v": tt.in}},
			}
			var buf bytes.Buffer
			if err := export.CSV(&buf, tab, "en", tt.loc); err != nil {
				t.Fatal(err)
			}
			got := readCSV(t, buf.Bytes())
			if got[1][0] != tt.want {
				t.Fatalf("got %q, want %q", got[1][0], tt.want)
			}
		})
	}
}

// invalidTables are refused by both writers with ErrInvalid.
var invalidTables = []struct {
	name string
	tab  export.Table
	loc  *time.Location
}{
	{"no columns", export.Table{}, shanghai},
	{"nil location", reportTable(), nil},
	{"unknown kind", export.Table{Columns: []export.Column{{Key: "x", Kind: export.Kind(9)}}}, shanghai},
	{"int in a text column", oneCell(export.Text, 5), shanghai},
	{"string in a number column", oneCell(export.Number, "5"), shanghai},
	{"NaN", oneCell(export.Number, math.NaN()), shanghai},
	{"infinity", oneCell(export.Number, math.Inf(-1)), shanghai},
	{"string in a date column", oneCell(export.Date, "2024-03-01"), shanghai},
	{"date before 1900", oneCell(export.Date, time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC)), shanghai},
	{"datetime after 9999", oneCell(export.DateTime, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)), shanghai},
}

func oneCell(k export.Kind, v any) export.Table {
	return export.Table{
		Columns: []export.Column{{Key: "v", Kind: k}},
		// The bad value is in the last row: nothing may be written before it.
		Rows: []map[string]any{{"v": nil}, {"v": nil}, {"v": v}},
	}
}

func TestCSVInvalid(t *testing.T) {
	for _, tt := range invalidTables {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := export.CSV(&buf, tt.tab, "en", tt.loc)
			if !errors.Is(err, export.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if buf.Len() != 0 {
				t.Fatalf("wrote %d bytes before refusing", buf.Len())
			}
		})
	}
}

// FuzzCSVCell is RELIABILITY.md §5 target 5: an exported text cell never
// starts like a formula unless it starts with "'", and encoding/csv reads
// back exactly the cleaned, neutralized text.
func FuzzCSVCell(f *testing.F) {
	for _, s := range []string{
		"", "王小明", "=1+1", "\t=1", "\r=1", "\r\n=1", "\x00=1", " @A1", "a,\"b\"\nc",
		"\xff\xfe", "'=1", "line\rline", "\"=1\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tab := export.Table{
			Columns: []export.Column{
				{Key: "a", Header: map[string]string{"en": "A"}},
				{Key: "b", Header: map[string]string{"en": "B"}},
			},
			Rows: []map[string]any{{"a": s, "b": "x"}},
		}
		got := mustCSV(t, tab, "en")
		if len(got) != 2 || len(got[1]) != 2 || got[1][1] != "x" {
			t.Fatalf("cell %q broke the record structure: %q", s, got)
		}
		cell := got[1][0]
		if dangerous(cell) && !strings.HasPrefix(cell, "'") {
			t.Fatalf("cell %q exported as %q: starts like a formula", s, cell)
		}
		// Equal, or cut at Excel's limit of 32,767 UTF-16 units.
		want := export.Neutralize(export.CleanText(s))
		if n := len(utf16.Encode([]rune(cell))); !strings.HasPrefix(want, cell) || (cell != want && n < 32766) {
			t.Fatalf("cell %q read back as %q, want %q", s, cell, want)
		}
		if !utf8.ValidString(cell) || strings.ContainsAny(cell, "\x00\r") {
			t.Fatalf("cell %q exported as %q: invalid UTF-8, NUL or CR", s, cell)
		}
	})
}
