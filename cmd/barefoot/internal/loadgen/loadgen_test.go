package loadgen

import (
	"testing"
	"time"
)

func TestParseFlows(t *testing.T) {
	ws, err := parseFlows("mix", "")
	if err != nil || len(ws) != len(Flows) || ws[len(ws)-1].cum != 13 {
		t.Fatalf("default mix: %v, %v", ws, err)
	}
	ws, err = parseFlows("mix", "visit=3, status=0,need=1")
	if err != nil || len(ws) != 2 || ws[0].flow.name != "visit" || ws[1].cum != 4 || needsDirectors(ws) != true {
		t.Fatalf("visit and need: %v, %v", ws, err)
	}
	if ws, _ := parseFlows("status", ""); needsDirectors(ws) {
		t.Fatal("status needs no director")
	}
	for _, bad := range []string{"visit", "visit=x", "walk=1", "visit=1,visit=2", "visit=0", "visit=-1"} {
		if _, err := parseFlows("mix", bad); err == nil {
			t.Errorf("mix %q accepted", bad)
		}
	}
	if _, err := parseFlows("sprint", ""); err == nil {
		t.Error("unknown flow accepted")
	}
}

func TestCheckTarget(t *testing.T) {
	for _, ok := range []string{"http://127.0.0.1:8080", "http://127.9.9.9", "http://[::1]:8080/", "http://localhost:8080", "https://LOCALHOST"} {
		if _, err := checkTarget(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"http://0.0.0.0:8080", "http://[::]:80", "http://192.168.1.1", "http://localhost.example.org", "http://127.0.0.1?x=1", "http://u:p@127.0.0.1", "127.0.0.1:8080"} {
		if _, err := checkTarget(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestConfigBounds(t *testing.T) {
	base := Config{URL: "http://127.0.0.1:1", Flow: "visit", Concurrency: 4, Directors: 4, Timeout: time.Second, Sessions: 1}
	if _, _, err := base.check(); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]Config{
		"unbounded":         {URL: base.URL, Flow: "visit", Concurrency: 4, Directors: 4, Timeout: time.Second},
		"shared directors":  {URL: base.URL, Flow: "visit", Concurrency: 4, Directors: 3, Timeout: time.Second, Sessions: 1},
		"no phones":         {URL: base.URL, Flow: "visit", Directors: 4, Timeout: time.Second, Sessions: 1},
		"no timeout":        {URL: base.URL, Flow: "visit", Concurrency: 4, Directors: 4, Sessions: 1},
		"negative duration": {URL: base.URL, Flow: "visit", Concurrency: 4, Directors: 4, Timeout: time.Second, Duration: -time.Second},
	} {
		if _, _, err := c.check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// Guardians' flows need no directors.
	g := Config{URL: base.URL, Flow: "allowance", Concurrency: 4, Timeout: time.Second, Sessions: 1}
	if _, _, err := g.check(); err != nil {
		t.Fatal(err)
	}
}

func TestDirectorPhone(t *testing.T) {
	if DirectorPhone(0) != "+8613790000001" || DirectorPhone(MaxDirectors-1) != "+8613799999999" {
		t.Fatal(DirectorPhone(0), DirectorPhone(MaxDirectors-1))
	}
}
