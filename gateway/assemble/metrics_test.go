package assemble_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway/assemble"
	"github.com/barefoot-ussd/barefoot/storage"
	"github.com/prometheus/client_golang/prometheus"
)

// gauges reads the outbox's figures as "name carrier state" -> value,
// and the count of failed reads.
func gauges(t *testing.T, reg *prometheus.Registry) (map[string]float64, float64) {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out, failed := map[string]float64{}, -1.0
	for _, f := range families {
		for _, m := range f.GetMetric() {
			if f.GetName() == "barefoot_outbox_scrape_errors_total" {
				failed = m.GetCounter().GetValue()
				continue
			}
			key := f.GetName()
			for _, l := range m.GetLabel() {
				key += " " + l.GetValue()
			}
			out[key] = m.GetGauge().GetValue()
		}
	}
	return out, failed
}

// TestOutboxMetrics: the outbox's figures are what the last read found, at
// zero for the sending carriers with nothing waiting; a failed read is
// counted and leaves the last figures standing, their ages growing; before
// any read succeeds nothing is reported rather than zeros; and however
// often /metrics is fetched, the outbox is read at most once per interval.
func TestOutboxMetrics(t *testing.T) {
	t.Parallel()
	down := errors.New("postgres down")
	var next []storage.Backlog
	var fail error
	reads := 0
	read := func(context.Context) ([]storage.Backlog, error) {
		reads++
		return next, fail
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(assemble.NewOutboxCollector(read, []string{"at"}, 0))

	fail = down
	got, failed := gauges(t, reg)
	if len(got) != 0 || failed != 1 {
		t.Fatalf("never read: %v, %v failed; want nothing, 1 failed", got, failed)
	}

	fail = nil
	next = []storage.Backlog{{Carrier: "kannel", State: storage.OutboxDue, Messages: 3, Oldest: 10 * time.Minute}}
	got, failed = gauges(t, reg)
	if len(got) != 2*2*3 || got["barefoot_outbox_messages kannel due"] != 3 || got["barefoot_outbox_oldest_seconds kannel due"] < 600 ||
		got["barefoot_outbox_messages at due"] != 0 || got["barefoot_outbox_oldest_seconds kannel deferred"] != 0 || failed != 1 {
		t.Fatalf("read: %v, %v failed", got, failed)
	}

	fail, next = down, nil
	time.Sleep(10 * time.Millisecond)
	got, failed = gauges(t, reg)
	if got["barefoot_outbox_messages kannel due"] != 3 || got["barefoot_outbox_oldest_seconds kannel due"] < 600.01 || failed != 2 {
		t.Fatalf("after a failed read: %v, %v failed; want the last figures, aged, and 2 failed", got, failed)
	}

	reads = 0
	slow := prometheus.NewRegistry()
	slow.MustRegister(assemble.NewOutboxCollector(read, nil, time.Hour))
	fail = nil
	for range 3 {
		gauges(t, slow)
	}
	if reads != 1 {
		t.Fatalf("three scrapes read the outbox %d times, want once", reads)
	}
}
