package loadgen

import (
	"fmt"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded in microseconds, from 1 µs to a minute, to
// three significant digits: a fixed ~100 KB a histogram however long the
// run, and percentiles that stay exact to 0.1% where sorting every
// duration would grow without bound.
const (
	histMin    = 1
	histMax    = int64(time.Minute / time.Microsecond)
	histDigits = 3
)

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(histMin, histMax, histDigits) }

func record(h *hdrhistogram.Histogram, d time.Duration) {
	v := d.Microseconds()
	if v < histMin {
		v = histMin
	}
	// A value past the top is clamped, not dropped: it still counts.
	_ = h.RecordValue(min(v, histMax))
}

// stats collects a run's measurements. One lock guards it all: a hop
// holds it for a few histogram increments, which is nothing beside the
// round trip it measures.
type stats struct {
	mu     sync.Mutex
	all    *hdrhistogram.Histogram
	steps  map[stepKey]*stepStats
	flows  map[string]*FlowResult
	errors map[string]int64
	offers int64
	// samples describe the first failure of each kind at each step.
	samples  []string
	sampled  map[string]bool
	last     *hdrhistogram.Histogram // since the last progress line
	lastSess int64
}

type stepKey struct {
	flow string
	step int
}

type stepStats struct {
	input string
	hist  *hdrhistogram.Histogram
}

// maxSamples bounds the error descriptions a result keeps: the first of
// each kind at each step.
const maxSamples = 10

func newStats() *stats {
	s := &stats{}
	s.reset()
	return s
}

func (s *stats) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.all, s.last = newHist(), newHist()
	s.steps = map[stepKey]*stepStats{}
	s.flows = map[string]*FlowResult{}
	s.errors = map[string]int64{}
	s.offers, s.samples, s.sampled, s.lastSess = 0, nil, map[string]bool{}, 0
}

func (s *stats) flow(name string) *FlowResult {
	f := s.flows[name]
	if f == nil {
		f = &FlowResult{}
		s.flows[name] = f
	}
	return f
}

func (s *stats) started(flow string) {
	s.mu.Lock()
	s.flow(flow).Started++
	s.mu.Unlock()
}

// hop records one hop of flow's step k (from 0), failed or not.
func (s *stats) hop(flow string, k int, input string, d time.Duration, kind string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	record(s.all, d)
	record(s.last, d)
	key := stepKey{flow, k}
	st := s.steps[key]
	if st == nil {
		st = &stepStats{input: input, hist: newHist()}
		s.steps[key] = st
	}
	record(st.hist, d)
	s.flow(flow).Hops++
	if kind != "" {
		s.errors[kind]++
	}
}

// offer records the hop that answered a resume offer.
func (s *stats) offer(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	record(s.all, d)
	record(s.last, d)
	s.offers++
}

func (s *stats) failed(flow string, k int, kind, sample string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flow(flow).Failed++
	key := fmt.Sprintf("%s/%s/%d", kind, flow, k)
	if len(s.samples) < maxSamples && !s.sampled[key] {
		s.sampled[key] = true
		s.samples = append(s.samples, kind+": "+sample)
	}
}

func (s *stats) completed(flow, saves string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.flow(flow)
	f.Completed++
	s.lastSess++
	switch saves {
	case savesVisit:
		f.SavedVisits++
	case savesNeed:
		f.SavedNeeds++
	}
}

type intervalStats struct {
	hops, sessions, errors int64
	p50, p99               time.Duration
}

// interval returns what happened since the last call (errors: in all).
func (s *stats) interval() intervalStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := intervalStats{
		hops: s.last.TotalCount(), sessions: s.lastSess,
		p50: time.Duration(s.last.ValueAtQuantile(50)) * time.Microsecond,
		p99: time.Duration(s.last.ValueAtQuantile(99)) * time.Microsecond,
	}
	for _, n := range s.errors {
		p.errors += n
	}
	s.last.Reset()
	s.lastSess = 0
	return p
}
