package export_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/barefoot-ussd/barefoot/gateway/export"
)

// mustXLSX exports tab and opens the result with excelize.
func mustXLSX(tb testing.TB, tab export.Table, sheet, lang string) *excelize.File {
	tb.Helper()
	var buf bytes.Buffer
	if err := export.XLSX(&buf, tab, sheet, lang, shanghai); err != nil {
		tb.Fatalf("XLSX: %v", err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		tb.Fatalf("open exported xlsx: %v", err)
	}
	tb.Cleanup(func() { _ = f.Close() })
	return f
}

func cellName(tb testing.TB, col, row int) string {
	tb.Helper()
	name, err := excelize.CoordinatesToCellName(col, row)
	if err != nil {
		tb.Fatal(err)
	}
	return name
}

func TestXLSX(t *testing.T) {
	const sheet = "走访 2024-03"
	for _, tt := range []struct {
		lang   string
		header []string
	}{
		{"zh", []string{"儿童姓名", "回答", "年龄", "金额", "走访日期", "提交时间"}},
		{"en", []string{"Child", "Answer", "Age", "Amount", "Visited on", "Submitted at"}},
	} {
		t.Run(tt.lang, func(t *testing.T) {
			f := mustXLSX(t, reportTable(), sheet, tt.lang)
			if got := f.GetSheetList(); len(got) != 1 || got[0] != sheet {
				t.Fatalf("sheets %q, want [%q]", got, sheet)
			}
			rows, err := f.GetRows(sheet)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(rows[0], "|"); got != strings.Join(tt.header, "|") {
				t.Errorf("header %q, want %q", rows[0], tt.header)
			}
			bold, err := f.GetCellStyle(sheet, "A1")
			if err != nil {
				t.Fatal(err)
			}
			if st, err := f.GetStyle(bold); err != nil || st.Font == nil || !st.Font.Bold {
				t.Errorf("header style %+v (%v), want bold", st, err)
			}
			// Every cell shows what CSV writes, apart from DateTime, which
			// has no zone in a spreadsheet.
			for r, want := range wantCells {
				for c, w := range want {
					ref := cellName(t, c+1, r+2)
					got, err := f.GetCellValue(sheet, ref)
					if err != nil {
						t.Fatal(err)
					}
					if c == 5 && w != "" {
						w = "2024-03-02 04:30:15"
					}
					if got != w {
						t.Errorf("%s = %q, want %q", ref, got, w)
					}
				}
			}
		})
	}
}

func TestXLSXCellTypes(t *testing.T) {
	const sheet = "visits"
	f := mustXLSX(t, reportTable(), sheet, "en")

	// No cell anywhere holds a formula.
	for r := 1; r <= 1+len(wantCells); r++ {
		for c := 1; c <= len(reportColumns); c++ {
			ref := cellName(t, c, r)
			if got, err := f.GetCellFormula(sheet, ref); err != nil || got != "" {
				t.Errorf("%s has formula %q (%v)", ref, got, err)
			}
		}
	}

	typeOf := func(ref string) excelize.CellType {
		t.Helper()
		ct, err := f.GetCellType(sheet, ref)
		if err != nil {
			t.Fatal(err)
		}
		return ct
	}
	raw := func(ref string) string {
		t.Helper()
		v, err := f.GetCellValue(sheet, ref, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	numFmt := func(ref string) (int, string) {
		t.Helper()
		id, err := f.GetCellStyle(sheet, ref)
		if err != nil {
			t.Fatal(err)
		}
		st, err := f.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		if st.CustomNumFmt != nil {
			return st.NumFmt, *st.CustomNumFmt
		}
		return st.NumFmt, ""
	}
	// A numeric cell has no t attribute (OOXML's default, "n"), which
	// excelize reports as CellTypeUnset, or t="n".
	isNumeric := func(ct excelize.CellType) bool {
		return ct == excelize.CellTypeUnset || ct == excelize.CellTypeNumber
	}

	t.Run("text", func(t *testing.T) {
		for _, ref := range []string{"A2", "A3", "B3", "A4"} {
			if ct := typeOf(ref); ct != excelize.CellTypeInlineString {
				t.Errorf("%s type %v, want an inline string", ref, ct)
			}
			if id, _ := numFmt(ref); id != 49 {
				t.Errorf("%s number format %d, want 49 (text)", ref, id)
			}
		}
		if got := raw("A3"); got != "'=cmd|' /C calc'!A0" {
			t.Errorf("A3 = %q, want the neutralized formula", got)
		}
	})
	t.Run("numbers", func(t *testing.T) {
		for ref, want := range map[string]float64{"C2": 9, "D2": 120.5, "C3": -1, "D3": -0.25} {
			if ct := typeOf(ref); !isNumeric(ct) {
				t.Errorf("%s type %v, want a number", ref, ct)
			}
			got, err := strconv.ParseFloat(raw(ref), 64)
			if err != nil || got != want {
				t.Errorf("%s = %v (%v), want %v", ref, got, err, want)
			}
		}
	})
	t.Run("dates", func(t *testing.T) {
		for ref, want := range map[string]struct {
			format string
			t      time.Time
		}{
			"E2": {"yyyy-mm-dd", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},
			"F2": {"yyyy-mm-dd hh:mm:ss", time.Date(2024, 3, 2, 4, 30, 15, 0, time.UTC)},
		} {
			if ct := typeOf(ref); !isNumeric(ct) {
				t.Errorf("%s type %v, want a date serial number", ref, ct)
			}
			if _, format := numFmt(ref); format != want.format {
				t.Errorf("%s number format %q, want %q", ref, format, want.format)
			}
			serial, err := strconv.ParseFloat(raw(ref), 64)
			if err != nil {
				t.Fatalf("%s = %q: %v", ref, raw(ref), err)
			}
			got, err := excelize.ExcelDateToTime(serial, false)
			if err != nil || !got.Equal(want.t) {
				t.Errorf("%s reads back as %v (%v), want %v", ref, got, err, want.t)
			}
		}
	})
	t.Run("empty", func(t *testing.T) {
		for _, ref := range []string{"C4", "D4", "E4", "F4"} {
			if got := raw(ref); got != "" {
				t.Errorf("%s = %q, want empty", ref, got)
			}
		}
	})
	t.Run("frozen header", func(t *testing.T) {
		p, err := f.GetPanes(sheet)
		if err != nil {
			t.Fatal(err)
		}
		if !p.Freeze || p.YSplit != 1 || p.XSplit != 0 || p.TopLeftCell != "A2" {
			t.Errorf("panes %+v, want the first row frozen", p)
		}
	})
	t.Run("column widths", func(t *testing.T) {
		widths := map[string]float64{}
		for _, col := range []string{"A", "B", "C", "E", "F"} {
			w, err := f.GetColWidth(sheet, col)
			if err != nil {
				t.Fatal(err)
			}
			if w < 6 || w > 60 {
				t.Errorf("column %s width %v, want 6..60", col, w)
			}
			widths[col] = w
		}
		// The answer column holds nine Chinese characters: 18 units at least.
		if widths["B"] < 18 {
			t.Errorf("answer column width %v, too narrow for its Chinese text", widths["B"])
		}
		if widths["F"] < 19 {
			t.Errorf("datetime column width %v, too narrow for yyyy-mm-dd hh:mm:ss", widths["F"])
		}
	})
}

// An independent look at the file, without excelize's reader: no part of
// the workbook has a formula element, and text cells are inline strings.
func TestXLSXRawHasNoFormula(t *testing.T) {
	var buf bytes.Buffer
	if err := export.XLSX(&buf, reportTable(), "visits", "en", shanghai); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	sheets := 0
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		_ = rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("<f>")) || bytes.Contains(b, []byte("<f ")) {
			t.Errorf("%s has a formula element", zf.Name)
		}
		if strings.HasPrefix(zf.Name, "xl/worksheets/") {
			sheets++
			if !bytes.Contains(b, []byte(`t="inlineStr"`)) || bytes.Contains(b, []byte(`t="str"`)) {
				t.Errorf("%s: text cells are not inline strings", zf.Name)
			}
			if !bytes.Contains(b, []byte("&#39;=cmd|&#39; /C calc&#39;!A0")) {
				t.Errorf("%s: the neutralized formula is missing", zf.Name)
			}
		}
	}
	if sheets != 1 {
		t.Errorf("%d worksheets, want 1", sheets)
	}
}

// Text that excelize or XML could misread comes back as it was written.
func TestXLSXTextRoundTrip(t *testing.T) {
	const sheet = "text"
	tests := []struct {
		in, want string
	}{
		{"_x0041_", "_x0041_"}, // OOXML's escape syntax, not an "A"
		{"<b>&amp;</b>", "<b>&amp;</b>"},
		{"  padded  ", "  padded  "},
		{"line 1\r\nline 2", "line 1\nline 2"},
		{"\x00\x01=1", "'=1"},
		{"ab\xffcd", "ab\uFFFDcd"},
		{"a\uFFFEb", "ab"},
		{"😀 emoji", "😀 emoji"},
	}
	tab := export.Table{Columns: []export.Column{{Key: "t", Header: map[string]string{"en": "T"}}}}
	for _, tt := range tests {
		tab.Rows = append(tab.Rows, map[string]any{"t": tt.in})
	}
	f := mustXLSX(t, tab, sheet, "en")
	for i, tt := range tests {
		got, err := f.GetCellValue(sheet, cellName(t, 1, i+2))
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("%q read back as %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestXLSXInvalid(t *testing.T) {
	for _, tt := range invalidTables {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := export.XLSX(&buf, tt.tab, "visits", "en", tt.loc)
			if !errors.Is(err, export.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if buf.Len() != 0 {
				t.Fatalf("wrote %d bytes before refusing", buf.Len())
			}
		})
	}
	for _, sheet := range []string{"", "a/b", "a[1]", "'quoted'", strings.Repeat("表", 32), "tab\there", "nul\x00"} {
		t.Run("sheet "+strconv.Quote(sheet), func(t *testing.T) {
			var buf bytes.Buffer
			err := export.XLSX(&buf, reportTable(), sheet, "en", shanghai)
			if !errors.Is(err, export.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if buf.Len() != 0 {
				t.Fatalf("wrote %d bytes before refusing", buf.Len())
			}
		})
	}
}
