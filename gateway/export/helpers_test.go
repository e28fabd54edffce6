package export_test

import (
	"flag"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway/export"
)

// go test ./gateway/... -update records the carriers' outcomes anew
// (wiretest). This package records none, but takes the flag so that the
// one command runs over every package.
var _ = flag.Bool("update", false, "record nothing: this package has no recorded outcomes")

// shanghai is the programme's time zone. A fixed zone keeps the tests
// independent of the machine's tzdata.
var shanghai = time.FixedZone("CST", 8*3600)

var reportColumns = []export.Column{
	{Key: "child", Header: map[string]string{"zh": "儿童姓名", "en": "Child"}, Kind: export.Text},
	{Key: "answer", Header: map[string]string{"zh": "回答", "en": "Answer"}, Kind: export.Text},
	{Key: "age", Header: map[string]string{"zh": "年龄", "en": "Age"}, Kind: export.Number},
	{Key: "amount", Header: map[string]string{"zh": "金额", "en": "Amount"}, Kind: export.Number},
	{Key: "visited_on", Header: map[string]string{"zh": "走访日期", "en": "Visited on"}, Kind: export.Date},
	{Key: "submitted_at", Header: map[string]string{"zh": "提交时间", "en": "Submitted at"}, Kind: export.DateTime},
}

// visitedOn is a calendar date as lib/pq returns a Postgres date: midnight UTC.
var visitedOn = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)

// submittedAt is 2024-03-01 20:30:15 UTC, the next morning in Shanghai.
var submittedAt = time.Date(2024, 3, 1, 20, 30, 15, 0, time.UTC)

// reportTable has a Chinese row, a formula-looking name, negative numbers
// and an empty row.
func reportTable() export.Table {
	return export.Table{
		Columns: reportColumns,
		Rows: []map[string]any{
			{"child": "王小明", "answer": "家里有米，需要冬衣", "age": 9, "amount": 120.5, "visited_on": visitedOn, "submitted_at": submittedAt},
			{"child": "=cmd|' /C calc'!A0", "answer": "-1", "age": int64(-1), "amount": -0.25, "visited_on": visitedOn, "submitted_at": submittedAt},
			{"child": "@SUM(A1)", "answer": "+86 138 0013 8000", "age": nil, "visited_on": time.Time{}},
		},
	}
}

// want holds the cells reportTable must export, header excluded, as text.
var wantCells = [][]string{
	{"王小明", "家里有米，需要冬衣", "9", "120.5", "2024-03-01", "2024-03-02T04:30:15+08:00"},
	{"'=cmd|' /C calc'!A0", "'-1", "-1", "-0.25", "2024-03-01", "2024-03-02T04:30:15+08:00"},
	{"'@SUM(A1)", "'+86 138 0013 8000", "", "", "", ""},
}
