package menus_test

import (
	"testing"
)

// BenchmarkStep is the engine alone: one menu choice on a pooled state
// machine, with the screen rendered.
func BenchmarkStep(b *testing.B) {
	m := MustMachine(b, "director.yaml")
	s := m.Start(caller("en"), now, screen)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := m.Step(s, "1", now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReplay rebuilds a whole visit walk from its path, as a hop does
// when Redis has lost the session.
func BenchmarkReplay(b *testing.B) {
	m := MustMachine(b, "director.yaml")
	inputs := []string{"1", "C0009", "C0001", "1"}
	b.ReportAllocs()
	for b.Loop() {
		s := m.Start(caller("en"), now, screen)
		for _, in := range inputs {
			s, _, _ = m.Step(s, in, now)
		}
	}
}
