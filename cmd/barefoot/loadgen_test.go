package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/barefoot-ussd/barefoot/cmd/barefoot/internal/loadgen"
	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
)

// stepsPerFlow is the hops each walk takes, resume offers aside.
var stepsPerFlow = map[string]int64{"visit": 5, "need": 6, "browse": 5, "allowance": 2, "status": 1, "form": 1}

// TestLoadgen runs a short mixed load against a gateway, in process: no
// hop fails, every session started is walked to its end, the counts add
// up, and every report loadgen was told is saved is in Postgres. Speed is
// not asserted.
func TestLoadgen(t *testing.T) {
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	ctx := context.Background()
	// Two directors a phone, so a phone comes back to a director its
	// browse left with an unfinished walk, and answers the resume offer.
	const phones, directors = 4, 8
	for _, want := range []int{directors, 0} {
		created, err := seedDirectorsInto(ctx, g.DB, directors, io.Discard)
		if err != nil || created != want {
			t.Fatalf("seed: %d created, %v; want %d", created, err, want)
		}
	}
	sql := g.SQL(t)
	var assigned int
	if err := sql.Get(&assigned, `SELECT count(*) FROM child_directors cd JOIN directors d ON d.id = cd.director_id WHERE d.phone LIKE '+861379%'`); err != nil || assigned != 5*directors {
		t.Fatalf("synthetic directors' children: %d, %v", assigned, err)
	}

	var out bytes.Buffer
	// A duration bound, capped by a number of sessions so the guardians
	// stay within the gateway's SMS reply limits on a fast machine.
	err := run(ctx, []string{"loadgen", "--url", g.URL, "--flow", "mix", "--duration", "1500ms", "--sessions", "300",
		"--concurrency", "4", "--directors", "8", "--json", "--quiet"}, nil, &out)
	if err != nil {
		t.Fatalf("loadgen: %v\n%s", err, out.String())
	}
	var res loadgen.Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("summary: %v\n%s", err, out.String())
	}
	t.Logf("%d sessions, %d hops, %d resume offers, flows %+v", res.Sessions.Completed, res.Hops, res.ResumeOffers, res.Flows)
	if res.ErrorCount() != 0 || res.Sessions.Failed != 0 || len(res.ErrorSamples) > 0 {
		t.Fatalf("errors %v, %d sessions failed: %v", res.Errors, res.Sessions.Failed, res.ErrorSamples)
	}
	if res.Sessions.Started == 0 || res.Sessions.Completed != res.Sessions.Started {
		t.Fatalf("sessions: %+v", res.Sessions)
	}
	if res.Connections != phones {
		t.Errorf("%d connections for %d phones", res.Connections, phones)
	}
	hops := res.ResumeOffers
	var visits, forms, needs int64
	for name, f := range res.Flows {
		if f.Started != f.Completed || f.Hops != f.Completed*stepsPerFlow[name] {
			t.Errorf("flow %s: %+v, want %d hops a session", name, f, stepsPerFlow[name])
		}
		hops += f.Hops
	}
	visits, forms, needs = res.Flows["visit"].Completed, res.Flows["form"].Completed, res.Flows["need"].Completed
	if hops != res.Hops || res.Saved.Visits != visits+forms || res.Saved.Needs != needs {
		t.Fatalf("counts do not add up: %d hops in flows, %d in all; saved %+v for %d visits, %d forms, %d needs", hops, res.Hops, res.Saved, visits, forms, needs)
	}
	var stepHops int64
	for _, s := range res.Steps {
		stepHops += s.Count
	}
	if stepHops+res.ResumeOffers != res.Hops {
		t.Errorf("steps count %d hops and %d offers, of %d", stepHops, res.ResumeOffers, res.Hops)
	}
	if visits == 0 || res.Flows["browse"].Completed == 0 {
		t.Fatalf("the mix walked no visit or browse: %+v", res.Flows)
	}

	// What the gateway said it saved is in Postgres, by channel.
	count := func(q string) int64 {
		t.Helper()
		var n int64
		if err := sql.Get(&n, q); err != nil {
			t.Fatal(err)
		}
		return n
	}
	const synthetic = ` r JOIN directors d ON d.id = r.director_id WHERE d.phone LIKE '+861379%'`
	if n := count(`SELECT count(*) FROM visits` + synthetic + ` AND r.channel = 'ussd'`); n != visits {
		t.Errorf("%d USSD visits saved, loadgen completed %d", n, visits)
	}
	if n := count(`SELECT count(*) FROM visits` + synthetic + ` AND r.channel = 'sms'`); n != forms {
		t.Errorf("%d SMS visits saved, loadgen completed %d", n, forms)
	}
	if n := count(`SELECT count(*) FROM needs` + synthetic); n != needs {
		t.Errorf("%d needs saved, loadgen completed %d", n, needs)
	}
}

// TestLoadgenCatchesWrongScreens: directors the gateway does not know
// hear that they are not registered, which every session reports as a
// wrong screen, and the command fails.
func TestLoadgenCatchesWrongScreens(t *testing.T) {
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	var out bytes.Buffer
	err := run(context.Background(), []string{"loadgen", "--url", g.URL, "--flow", "visit", "--sessions", "6",
		"--concurrency", "2", "--directors", "2", "--json", "--quiet"}, nil, &out)
	if err == nil || !strings.Contains(err.Error(), "6 hops failed") {
		t.Fatalf("unknown directors: %v\n%s", err, out.String())
	}
	var res loadgen.Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if res.Errors[loadgen.ErrScreen] != 6 || res.Sessions.Failed != 6 || res.Hops != 6 || len(res.ErrorSamples) != 1 {
		t.Fatalf("result: %+v", res)
	}
}

// TestLoadgenRefusesOtherHosts: nothing but this machine is ever loaded,
// and a refused target is refused before any connection or lookup.
func TestLoadgenRefusesOtherHosts(t *testing.T) {
	for _, u := range []string{"http://192.0.2.10:8080", "http://10.1.2.3", "https://example.org", "http://[2001:db8::1]:80", "http://127.0.0.1.example.org", "ftp://127.0.0.1"} {
		err := run(context.Background(), []string{"loadgen", "--url", u, "--sessions", "1", "--quiet"}, nil, io.Discard)
		if err == nil {
			t.Errorf("%s: accepted", u)
		} else if strings.HasPrefix(u, "http") && !errors.Is(err, loadgen.ErrNotLoopback) {
			t.Errorf("%s: %v, want ErrNotLoopback", u, err)
		}
	}
}
