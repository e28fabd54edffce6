package export_test

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway/export"
)

// benchTable is a large county export: 10,000 rows of 10 columns, with
// Chinese free text, a formula-looking answer every 50 rows, numbers and
// dates.
func benchTable() export.Table {
	cols := []export.Column{
		{Key: "code", Header: map[string]string{"zh": "编号", "en": "Code"}},
		{Key: "child", Header: map[string]string{"zh": "儿童姓名", "en": "Child"}},
		{Key: "village", Header: map[string]string{"zh": "村", "en": "Village"}},
		{Key: "need", Header: map[string]string{"zh": "需求", "en": "Need"}},
		{Key: "answer", Header: map[string]string{"zh": "回答", "en": "Answer"}},
		{Key: "age", Header: map[string]string{"zh": "年龄", "en": "Age"}, Kind: export.Number},
		{Key: "amount", Header: map[string]string{"zh": "金额", "en": "Amount"}, Kind: export.Number},
		{Key: "visits", Header: map[string]string{"zh": "走访次数", "en": "Visits"}, Kind: export.Number},
		{Key: "visited_on", Header: map[string]string{"zh": "走访日期", "en": "Visited on"}, Kind: export.Date},
		{Key: "submitted_at", Header: map[string]string{"zh": "提交时间", "en": "Submitted at"}, Kind: export.DateTime},
	}
	rows := make([]map[string]any, 10000)
	for i := range rows {
		answer := "孩子上学正常，家里需要冬衣和被子"
		if i%50 == 0 {
			answer = "=HYPERLINK(\"http://x.example\",\"点\")"
		}
		rows[i] = map[string]any{
			"code":         fmt.Sprintf("C%05d", i),
			"child":        "王小明",
			"village":      "青山村",
			"need":         "衣物",
			"answer":       answer,
			"age":          i % 18,
			"amount":       float64(i) * 1.5,
			"visits":       int64(i % 7),
			"visited_on":   visitedOn.AddDate(0, 0, i%365),
			"submitted_at": submittedAt.Add(time.Duration(i) * time.Minute),
		}
	}
	return export.Table{Columns: cols, Rows: rows}
}

func BenchmarkXLSX(b *testing.B) {
	tab := benchTable()
	b.ReportAllocs()
	for b.Loop() {
		if err := export.XLSX(io.Discard, tab, "visits", "zh", shanghai); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCSV(b *testing.B) {
	tab := benchTable()
	b.ReportAllocs()
	for b.Loop() {
		if err := export.CSV(io.Discard, tab, "zh", shanghai); err != nil {
			b.Fatal(err)
		}
	}
}
