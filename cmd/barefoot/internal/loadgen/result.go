package loadgen

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Result is what a run measured, in the shape --json prints.
type Result struct {
	URL         string  `json:"url"`
	Flow        string  `json:"flow"`
	Mix         string  `json:"mix,omitempty"`
	Concurrency int     `json:"concurrency"`
	Seconds     float64 `json:"seconds"`
	// Interrupted is set when the run was cancelled before its bound.
	Interrupted bool `json:"interrupted,omitempty"`
	// Hops counts every callback answered, resume offers included.
	Hops        int64   `json:"hops"`
	HopsPerS    float64 `json:"hops_per_s"`
	Sessions    Counts  `json:"sessions"`
	SessionsPer float64 `json:"sessions_per_s"`
	// Latency is per hop, in milliseconds.
	Latency Latency `json:"latency_ms"`
	// Errors counts failed hops by kind (every kind, zeros included).
	Errors map[string]int64 `json:"errors"`
	// ErrorSamples describe the first few failures.
	ErrorSamples []string              `json:"error_samples,omitempty"`
	Flows        map[string]FlowResult `json:"flows"`
	Steps        []StepResult          `json:"steps"`
	// ResumeOffers counts sessions that opened on the offer of a walk
	// their director left unfinished, and answered it "start again".
	ResumeOffers int64 `json:"resume_offers"`
	// Connections counts TCP connections opened: one per phone unless
	// the gateway closed some.
	Connections int64 `json:"connections"`
	// Saved counts the reports the gateway said it saved.
	Saved Saved `json:"saved"`
}

// Counts are sessions by outcome; Started = Completed + Failed.
type Counts struct {
	Started   int64 `json:"started"`
	Completed int64 `json:"completed"`
	Failed    int64 `json:"failed"`
}

// Saved counts reports confirmed with a reference.
type Saved struct {
	Visits int64 `json:"visits"`
	Needs  int64 `json:"needs"`
}

// FlowResult is one flow's share of a run.
type FlowResult struct {
	Started     int64 `json:"started"`
	Completed   int64 `json:"completed"`
	Failed      int64 `json:"failed"`
	Hops        int64 `json:"hops"`
	SavedVisits int64 `json:"saved_visits,omitempty"`
	SavedNeeds  int64 `json:"saved_needs,omitempty"`
}

// StepResult is the latency of one step of one flow.
type StepResult struct {
	Flow    string  `json:"flow"`
	Step    int     `json:"step"`
	Input   string  `json:"input"`
	Count   int64   `json:"count"`
	Latency Latency `json:"latency_ms"`
}

// Latency holds percentiles in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

func latencyOf(h *hdrhistogram.Histogram) Latency {
	q := func(p float64) float64 { return float64(h.ValueAtQuantile(p)) / 1000 }
	return Latency{P50: q(50), P90: q(90), P99: q(99), P999: q(99.9), Max: float64(h.Max()) / 1000, Mean: h.Mean() / 1000}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// ErrorCount is the number of failed hops of every kind.
func (r *Result) ErrorCount() int64 {
	var n int64
	for _, v := range r.Errors {
		n += v
	}
	return n
}

func (r *runner) result(base string, took time.Duration, interrupted bool) *Result {
	s := r.stats
	s.mu.Lock()
	defer s.mu.Unlock()
	res := &Result{
		URL: base, Flow: r.cfg.Flow, Concurrency: r.cfg.Concurrency, Seconds: took.Seconds(), Interrupted: interrupted,
		Hops: s.all.TotalCount(), Latency: latencyOf(s.all), Errors: map[string]int64{},
		ErrorSamples: slices.Clone(s.samples), Flows: map[string]FlowResult{}, ResumeOffers: s.offers,
		Connections: r.dials.Load(),
	}
	if r.cfg.Flow == "mix" {
		res.Mix = r.cfg.Mix
		if res.Mix == "" {
			res.Mix = DefaultMix
		}
	}
	for _, k := range ErrorKinds {
		res.Errors[k] = s.errors[k]
	}
	for name, f := range s.flows {
		res.Flows[name] = *f
		res.Sessions.Started += f.Started
		res.Sessions.Completed += f.Completed
		res.Sessions.Failed += f.Failed
		res.Saved.Visits += f.SavedVisits
		res.Saved.Needs += f.SavedNeeds
	}
	if secs := took.Seconds(); secs > 0 {
		res.HopsPerS = float64(res.Hops) / secs
		res.SessionsPer = float64(res.Sessions.Completed) / secs
	}
	for k, st := range s.steps {
		res.Steps = append(res.Steps, StepResult{Flow: k.flow, Step: k.step + 1, Input: st.input, Count: st.hist.TotalCount(), Latency: latencyOf(st.hist)})
	}
	slices.SortFunc(res.Steps, func(a, b StepResult) int {
		if c := slices.Index(Flows, a.Flow) - slices.Index(Flows, b.Flow); c != 0 {
			return c
		}
		return a.Step - b.Step
	})
	return res
}

// WriteText prints a summary for people, ending with one RESULT line
// whose fields scripts may read.
func (r *Result) WriteText(w io.Writer) {
	flow := r.Flow
	if r.Mix != "" {
		flow += " (" + r.Mix + ")"
	}
	fmt.Fprintf(w, "loadgen: %s against %s, %d phones, %.1fs", flow, r.URL, r.Concurrency, r.Seconds)
	if r.Interrupted {
		fmt.Fprint(w, " (interrupted)")
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "hops       %d  (%.1f/s)\n", r.Hops, r.HopsPerS)
	fmt.Fprintf(w, "sessions   %d started, %d completed, %d failed  (%.1f completed/s)\n", r.Sessions.Started, r.Sessions.Completed, r.Sessions.Failed, r.SessionsPer)
	l := r.Latency
	fmt.Fprintf(w, "latency    per hop, ms: p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f  mean %.2f\n", l.P50, l.P90, l.P99, l.P999, l.Max, l.Mean)
	var errs []string
	for _, k := range ErrorKinds {
		errs = append(errs, fmt.Sprintf("%s %d", k, r.Errors[k]))
	}
	fmt.Fprintf(w, "errors     %s\n", strings.Join(errs, ", "))
	fmt.Fprintf(w, "saved      %d visits, %d needs; %d resume offers answered; %d connections\n", r.Saved.Visits, r.Saved.Needs, r.ResumeOffers, r.Connections)
	if len(r.Steps) > 0 {
		fmt.Fprintf(w, "\n%-10s %4s %-10s %8s %8s %8s %8s %8s\n", "flow", "step", "input", "hops", "p50", "p90", "p99", "p99.9")
		for _, s := range r.Steps {
			in := s.Input
			if in == "" {
				in = `""`
			}
			fmt.Fprintf(w, "%-10s %4d %-10s %8d %8.2f %8.2f %8.2f %8.2f\n", s.Flow, s.Step, in, s.Count, s.Latency.P50, s.Latency.P90, s.Latency.P99, s.Latency.P999)
		}
	}
	for _, s := range r.ErrorSamples {
		fmt.Fprintf(w, "error: %s\n", s)
	}
	fmt.Fprintf(w, "\nRESULT tool=loadgen flow=%s rps=%.1f sessions_per_s=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f "+
		"requests=%d sessions_done=%d sessions_failed=%d err_status=%d err_screen=%d err_transport=%d err_timeout=%d err_held_back=%d resume_offers=%d connections=%d\n",
		r.Flow, r.HopsPerS, r.SessionsPer, l.P50, l.P90, l.P99, l.P999, l.Max, r.Hops, r.Sessions.Completed, r.Sessions.Failed,
		r.Errors[ErrStatus], r.Errors[ErrScreen], r.Errors[ErrTransport], r.Errors[ErrTimeout], r.Errors[ErrHeldBack], r.ResumeOffers, r.Connections)
}
