package export

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/width"
)

// Number formats of date cells. Spelled out rather than Excel's built-in
// short date (format 14), which each reader shows in its own locale's order.
const (
	dateFormat     = "yyyy-mm-dd"
	dateTimeFormat = "yyyy-mm-dd hh:mm:ss"
	// textFormat is Excel's built-in "@" (text) format: a cell of a Text
	// column stays text even when someone later types "=..." into it.
	textFormat = 49
)

// Column widths, in Excel's units (about one Latin digit each).
const (
	minWidth = 6
	maxWidth = 60
	// widthSample is how many rows are measured; a large export is not read
	// twice for a cosmetic setting.
	widthSample = 1000
)

// XLSX writes t to w as a workbook of one worksheet named sheet: a bold
// header row in lang, frozen so it stays in view, then one row per table row.
//
// Text cells are inline strings (never formulas; excelize's stream writer has
// no other way to write a string) with the text number format, and are
// cleaned and neutralized as in CSV, because an administrator may re-save the
// sheet as CSV and a cell "=..." would then become a live formula. Numbers
// are numeric cells; Dates and DateTimes are real date cells (serial numbers
// with a yyyy-mm-dd or yyyy-mm-dd hh:mm:ss format) holding the wall clock in
// loc, since a spreadsheet cell has no time zone.
//
// Rows go through excelize's StreamWriter, so the sheet's XML is built once
// rather than as a cell tree plus XML. The writer keeps it in memory up to
// 16 MiB and past that in a temporary file in os.TempDir(), which XLSX
// removes before it returns; exports hold children's data, so TMPDIR must be
// on the encrypted volume (RELIABILITY.md §4.7). The compressed workbook is
// assembled in memory and then copied to w.
//
// An error wrapping ErrInvalid (a bad value, sheet name, location, or more
// rows or columns than a worksheet holds) is returned before anything is
// written to w. Other errors are excelize's or w's.
func XLSX(w io.Writer, t Table, sheet, lang string, loc *time.Location) error {
	if err := checkColumns(t, loc); err != nil {
		return err
	}
	if len(t.Columns) > excelize.MaxColumns {
		return fmt.Errorf("%w: %d columns, a worksheet holds %d", ErrInvalid, len(t.Columns), excelize.MaxColumns)
	}
	if len(t.Rows)+1 > excelize.TotalRows {
		return fmt.Errorf("%w: %d rows and a header, a worksheet holds %d", ErrInvalid, len(t.Rows), excelize.TotalRows)
	}
	if cleanText(sheet) != sheet || strings.ContainsAny(sheet, "\t\n") {
		return fmt.Errorf("%w: sheet name %q has control characters or invalid UTF-8", ErrInvalid, sheet)
	}

	f := excelize.NewFile()
	// Close removes the stream writer's temporary file, if it made one.
	defer func() { _ = f.Close() }()
	if err := f.SetSheetName(f.GetSheetName(0), sheet); err != nil {
		return fmt.Errorf("%w: sheet name %q: %v", ErrInvalid, sheet, err)
	}
	st, err := newStyles(f)
	if err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return fmt.Errorf("export: xlsx stream: %w", err)
	}
	for j, c := range t.Columns {
		col := j + 1
		if err := sw.SetColWidth(col, col, columnWidth(t, c, lang)); err != nil {
			return fmt.Errorf("export: xlsx column %q width: %w", c.Key, err)
		}
		if s := st.byKind[c.Kind]; s != 0 {
			if err := sw.SetColStyle(col, col, s); err != nil {
				return fmt.Errorf("export: xlsx column %q style: %w", c.Key, err)
			}
		}
	}
	if err := sw.SetPanes(&excelize.Panes{
		Freeze:      true,
		YSplit:      1,
		TopLeftCell: "A2",
		ActivePane:  "bottomLeft",
		Selection:   []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}},
	}); err != nil {
		return fmt.Errorf("export: xlsx freeze header: %w", err)
	}

	values := make([]any, len(t.Columns))
	for j, c := range t.Columns {
		values[j] = excelize.Cell{StyleID: st.header, Value: cellText(c.header(lang))}
	}
	if err := sw.SetRow("A1", values); err != nil {
		return fmt.Errorf("export: xlsx header: %w", err)
	}
	for i, row := range t.Rows {
		for j, c := range t.Columns {
			v, err := convert(c, row[c.Key], loc)
			if err != nil {
				return rowError(i, c, err)
			}
			switch {
			case v.empty:
				values[j] = nil
			case c.Kind == Text:
				values[j] = v.text
			case c.Kind == Number:
				values[j] = v.num
			default:
				values[j] = v.t
			}
		}
		ref, err := excelize.CoordinatesToCellName(1, i+2)
		if err != nil {
			return fmt.Errorf("export: xlsx row %d: %w", i+1, err)
		}
		if err := sw.SetRow(ref, values); err != nil {
			return fmt.Errorf("export: xlsx row %d: %w", i+1, err)
		}
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("export: xlsx flush: %w", err)
	}
	if err := f.Write(w); err != nil {
		return fmt.Errorf("export: write xlsx: %w", err)
	}
	return nil
}

type styles struct {
	header int
	byKind map[Kind]int
}

func newStyles(f *excelize.File) (styles, error) {
	df, dtf := dateFormat, dateTimeFormat
	specs := []struct {
		kind  Kind
		style excelize.Style
	}{
		{Text, excelize.Style{NumFmt: textFormat}},
		{Date, excelize.Style{CustomNumFmt: &df}},
		{DateTime, excelize.Style{CustomNumFmt: &dtf}},
	}
	st := styles{byKind: make(map[Kind]int, len(specs))}
	for _, s := range specs {
		id, err := f.NewStyle(&s.style)
		if err != nil {
			return styles{}, fmt.Errorf("export: xlsx %s style: %w", s.kind, err)
		}
		st.byKind[s.kind] = id
	}
	id, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return styles{}, fmt.Errorf("export: xlsx header style: %w", err)
	}
	st.header = id
	return st, nil
}

// columnWidth fits the header and the first widthSample values of c,
// counting a Chinese character as two Latin ones, within minWidth..maxWidth.
func columnWidth(t Table, c Column, lang string) float64 {
	w := displayWidth(c.header(lang))
	switch c.Kind {
	case Date:
		w = max(w, len("2006-01-02"))
	case DateTime:
		w = max(w, len("2006-01-02 15:04:05"))
	case Number:
		var b []byte
		for _, row := range t.Rows[:min(len(t.Rows), widthSample)] {
			if v, err := number(row[c.Key]); err == nil {
				b = appendNumber(b[:0], v)
				w = max(w, len(b))
			}
		}
	case Text:
		for _, row := range t.Rows[:min(len(t.Rows), widthSample)] {
			if s, ok := row[c.Key].(string); ok {
				w = max(w, displayWidth(s))
			}
		}
	}
	return float64(min(max(w+2, minWidth), maxWidth))
}

// displayWidth is the width of the longest line of s, wide and full-width
// characters counting two.
func displayWidth(s string) int {
	longest, n := 0, 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '\n' || r == '\r':
			longest, n = max(longest, n), 0
			continue
		case r < utf8.RuneSelf:
			n++
		default:
			switch width.LookupRune(r).Kind() {
			case width.EastAsianWide, width.EastAsianFullwidth:
				n += 2
			default:
				n++
			}
		}
		if n > maxWidth {
			// Long free text is capped anyway; stop measuring.
			return n
		}
	}
	return max(longest, n)
}
