package menus_test

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/fixtures"
	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/textlen"
)

var update = flag.Bool("update", false, "rewrite golden transcripts")

var now = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

// screen is an Africa's Talking-sized USSD budget.
var screen = textlen.Budget{GSM7: 160, UCS2: 80}

// MustMachine compiles a fixture tree.
func MustMachine(tb testing.TB, file string) *menus.Machine {
	tb.Helper()
	data, err := fs.ReadFile(fixtures.Menus(), file)
	if err != nil {
		tb.Fatal(err)
	}
	tree, err := menus.Parse(data, menus.FormatYAML)
	if err != nil {
		tb.Fatal(err)
	}
	m, err := menus.Compile(tree, 1, menus.Options{Region: "CN"})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func caller(lang string) menus.Caller {
	return menus.Caller{
		Phone: "+8613800138002", DirectorID: 2, Language: lang,
		Children: []menus.ChildBrief{{Code: "C0001", Name: "王小明"}, {Code: "C0002", Name: "刘佳"}},
	}
}

// TestTranscripts walks the director tree and compares every screen with a
// golden transcript; `go test ./menus -update` rewrites them, and the diff
// is reviewed as a change to what callers see.
func TestTranscripts(t *testing.T) {
	m := MustMachine(t, "director.yaml")
	walks := []struct {
		name   string
		lang   string
		inputs []string
		want   menus.ReportKind
	}{
		{"visit_en", "en", []string{"1", "C0009", "C0001", "1", "1"}, menus.ReportVisit},
		{"visit_zh", "zh", []string{"1", "C0009", "C0001", "1", "1"}, menus.ReportVisit},
		{"need_en", "en", []string{"2", "c2", "9", "6", "2", "1"}, menus.ReportNeed},
		{"need_zh", "zh", []string{"2", "Ｃ０００２", "6", "2", "1"}, menus.ReportNeed},
		{"cancel_en", "en", []string{"4", "1", "1", "4", "2", "2"}, ""},
		// Switching language from the main menu: the rest of the walk is
		// in Chinese.
		{"language_en", "en", []string{"3", "7", "1", "1", "C0001", "2", "1"}, menus.ReportVisit},
		// Paging a list too long for one screen: More to the end (and one
		// More too many), Back a page, Back off the first page to the
		// previous screen, Home from deep in the walk.
		{"paging_en", "en", []string{"2", "c2", "98", "98", "98", "98", "0", "5", "1", "0", "0", "0", "0", "00", "2", "1", "7", "2", "1"}, menus.ReportNeed},
		{"paging_zh", "zh", []string{"2", "c2", "98", "00", "1", "c1", "0", "0", "2", "1", "6", "2", "1"}, menus.ReportNeed},
	}
	for _, w := range walks {
		t.Run(w.name, func(t *testing.T) {
			var out strings.Builder
			s := m.Start(caller(w.lang), now, screen)
			fmt.Fprintf(&out, "<< %s\n", s.Screen)
			var got *menus.Report
			for _, in := range w.inputs {
				next, effects, err := m.Step(s, in, now)
				if err != nil {
					t.Fatalf("step %q: %v", in, err)
				}
				if r, ok := effects.Report(); ok {
					got = &r
					next = m.Saved(next, "VTEST01")
				}
				s = next
				fmt.Fprintf(&out, ">> %s\n<< %s\n", in, s.Screen)
			}
			fmt.Fprintf(&out, "-- ended=%v\n", s.Ended)
			golden(t, filepath.Join("testdata", w.name+".txt"), out.String())
			if w.want == "" {
				if got != nil {
					t.Fatalf("walk saved a %s report, want none", got.Kind)
				}
				return
			}
			if got == nil || got.Kind != w.want {
				t.Fatalf("report = %+v, want kind %s", got, w.want)
			}
			if !s.Ended {
				t.Fatal("walk did not end")
			}
		})
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./menus -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("transcript differs from %s:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
