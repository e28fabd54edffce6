package storage_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/registry"
	"github.com/barefoot-ussd/barefoot/storage/storagetest"
)

// BenchmarkImport10k imports 10,000 directors, then 10,000 children each
// assigned to one of them, as new records in one audited import each, and
// then the same children again with every name changed (10,000 updates).
// It reports seconds per import, per kind and for a dry run.
func BenchmarkImport10k(b *testing.B) {
	const n = 10000
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db := storagetest.MustDB(b)
		ctx := b.Context()
		directors := make([]registry.Director, n)
		children := make([]registry.ChildRecord, n)
		for j := range n {
			phone := fmt.Sprintf("+86137%08d", j)
			directors[j] = registry.Director{Phone: phone, Name: fmt.Sprintf("Director %d", j), Language: menus.LangZH, Village: "Dagu", County: "Leishan"}
			children[j] = registry.ChildRecord{Child: registry.Child{Code: fmt.Sprintf("K%05d", j), Name: fmt.Sprintf("Child %d", j), Village: "Dagu", County: "Leishan"}, Directors: []string{phone}}
		}
		b.StartTimer()
		timed := func(what string, f func() (int, int, error), wantCreated, wantUpdated int) {
			start := time.Now()
			created, updated, err := f()
			if err != nil || created != wantCreated || updated != wantUpdated {
				b.Fatalf("%s: %d created, %d updated, %v", what, created, updated, err)
			}
			b.ReportMetric(time.Since(start).Seconds(), what+"-s")
		}
		timed("directors-dry", func() (int, int, error) { return db.ImportDirectors(ctx, registrar, directors, true) }, n, 0)
		timed("directors", func() (int, int, error) { return db.ImportDirectors(ctx, registrar, directors, false) }, n, 0)
		timed("children", func() (int, int, error) { return db.ImportChildren(ctx, registrar, children, false) }, n, 0)
		for j := range children {
			children[j].Name += " 改"
		}
		timed("children-update", func() (int, int, error) { return db.ImportChildren(ctx, registrar, children, false) }, 0, n)
	}
}
