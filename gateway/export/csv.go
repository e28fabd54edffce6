package export

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"
)

// bom is the UTF-8 byte order mark. Excel opens a CSV file without one in the
// system's legacy code page (GBK on Chinese Windows), which turns UTF-8
// Chinese into mojibake; with it, Excel reads the file as UTF-8. Other
// readers, Go's encoding/csv among them, see it as part of the first header
// cell unless they skip it.
const bom = "\uFEFF"

// CSV writes t to w: a UTF-8 byte order mark, a header row in lang, then one
// record per row, quoted as RFC 4180 says (by encoding/csv, CRLF line ends).
// Text cells are cleaned and neutralized (see the package documentation),
// Numbers are written plainly ("-1.5", never an exponent), Dates as
// 2006-01-02 and DateTimes as RFC 3339, both in loc.
//
// The whole table is checked before anything is written, so an error
// wrapping ErrInvalid leaves w untouched. Other errors are w's.
func CSV(w io.Writer, t Table, lang string, loc *time.Location) error {
	if err := checkColumns(t, loc); err != nil {
		return err
	}
	if err := checkRows(t, loc); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	if _, err := bw.WriteString(bom); err != nil {
		return fmt.Errorf("export: write csv: %w", err)
	}
	cw := csv.NewWriter(bw)
	cw.UseCRLF = true
	record := make([]string, len(t.Columns))
	for j, c := range t.Columns {
		record[j] = cellText(c.header(lang))
	}
	if err := writeRecord(cw, bw, record); err != nil {
		return fmt.Errorf("export: write csv: %w", err)
	}
	var num []byte
	for i, row := range t.Rows {
		for j, c := range t.Columns {
			v, err := convert(c, row[c.Key], loc)
			if err != nil {
				// checkRows has seen every value; kept for safety.
				return rowError(i, c, err)
			}
			switch {
			case v.empty:
				record[j] = ""
			case c.Kind == Text:
				record[j] = v.text
			case c.Kind == Number:
				num = appendNumber(num[:0], v)
				record[j] = string(num)
			case c.Kind == Date:
				record[j] = v.t.Format(time.DateOnly)
			default:
				record[j] = v.t.Format(time.RFC3339)
			}
		}
		if err := writeRecord(cw, bw, record); err != nil {
			return fmt.Errorf("export: write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("export: write csv: %w", err)
	}
	// csv.NewWriter reuses bw rather than buffering twice, so this is
	// normally a no-op; it keeps the flush explicit.
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export: write csv: %w", err)
	}
	return nil
}

// writeRecord writes record through cw, except a record of one empty field:
// encoding/csv writes that as an empty line, which readers (encoding/csv
// among them) skip, so a one-column export would lose its empty rows. It is
// written as "" instead, which RFC 4180 reads as one empty field.
func writeRecord(cw *csv.Writer, bw *bufio.Writer, record []string) error {
	if len(record) != 1 || record[0] != "" {
		return cw.Write(record)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	_, err := bw.WriteString("\"\"\r\n")
	return err
}

func appendNumber(b []byte, v cell) []byte {
	switch n := v.num.(type) {
	case int64:
		return strconv.AppendInt(b, n, 10)
	case uint64:
		return strconv.AppendUint(b, n, 10)
	case float32:
		return strconv.AppendFloat(b, float64(n), 'f', -1, 32)
	case float64:
		// 'f' rather than the shortest form: spreadsheets in every locale
		// read "0.00001", not all read "1e-05".
		return strconv.AppendFloat(b, n, 'f', -1, 64)
	}
	return b
}
