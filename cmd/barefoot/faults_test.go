package main

// Faults of the gateway's own processes: two processes behind a
// round-robin balancer, one killed and one stopped while callers walk.

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/cmd/barefoot/internal/loadgen"
	"github.com/barefoot-ussd/barefoot/sessions/sessionstest"
	"github.com/barefoot-ussd/barefoot/storage/storagetest"
	"github.com/jmoiron/sqlx"
)

// TestMain lets a test run this binary as the barefoot command: a child
// started with BAREFOOT_TEST_MAIN=1 runs main with its arguments, so the
// fault tests can kill a real gateway process without building one.
func TestMain(m *testing.M) {
	if os.Getenv("BAREFOOT_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// gatewayProc is one `barefoot serve` process of a test.
type gatewayProc struct {
	addr string
	env  []string
	cmd  *exec.Cmd
}

// start starts the process and waits until it is ready. It may run off
// the test's goroutine, so it returns its error rather than failing.
func (p *gatewayProc) start() error {
	p.cmd = exec.Command(os.Args[0], "serve")
	p.cmd.Env = append(os.Environ(), p.env...)
	p.cmd.Env = append(p.cmd.Env, "BAREFOOT_TEST_MAIN=1", "BAREFOOT_ADDR="+p.addr)
	p.cmd.Stderr, p.cmd.Stdout = io.Discard, io.Discard
	if err := p.cmd.Start(); err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + p.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("gateway on %s never became ready", p.addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop signals the process and waits for it to exit.
func (p *gatewayProc) stop(sig os.Signal) error {
	if err := p.cmd.Process.Signal(sig); err != nil {
		return err
	}
	_ = p.cmd.Wait() // a killed process's exit status is an error
	return nil
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

var savedRef = regexp.MustCompile(`^END Visit saved\. Ref (V[0-9A-Z]+)`)

// TestFaultProcessesKilledAndRestarted: 24 directors each record an urgent
// visit through two gateway processes behind a balancer that sends every
// hop to the next process (no sticky routing). Mid-walk one process is
// killed (SIGKILL) and started again, then the other is stopped (SIGTERM)
// and started again. A hop that fails is retried on the other process, as
// a carrier retries. Every director ends with a reference, every reference
// is in Postgres once, no walk is saved twice, and each visit's alerts are
// queued once.
func TestFaultProcessesKilledAndRestarted(t *testing.T) {
	if testing.Short() {
		t.Skip("starts gateway processes")
	}
	const callers = 24
	name := storagetest.RandomName("barefoot_procs")
	storagetest.MustDropDatabase(t, name)
	redisSrv := sessionstest.MustServer(t)
	env := map[string]string{
		"BAREFOOT_DATABASE_URL": storagetest.DSNFor(name),
		"BAREFOOT_REDIS_URL":    "redis://" + redisSrv.Addr + "/0",
		"BAREFOOT_LOG_LEVEL":    "error",
		"BAREFOOT_DRAIN_DELAY":  "200ms",
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	ctx := context.Background()
	for _, args := range [][]string{{"migrate"}, {"seed"}, {"loadgen", "--seed-directors", fmt.Sprint(callers)}} {
		if err := run(ctx, args, nil, io.Discard); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	procs := make([]*gatewayProc, 2)
	t.Cleanup(func() {
		for _, p := range procs {
			if p != nil && p.cmd != nil && p.cmd.ProcessState == nil {
				_ = p.cmd.Process.Kill()
				_ = p.cmd.Wait()
			}
		}
	})
	for i := range procs {
		penv := []string{"BAREFOOT_SPOOL_DIR=" + t.TempDir()}
		procs[i] = &gatewayProc{addr: freeAddr(t), env: penv}
		if err := procs[i].start(); err != nil {
			t.Fatal(err)
		}
	}

	var (
		next    atomic.Int64 // the balancer's round robin
		hops    atomic.Int64 // hops answered
		retries atomic.Int64 // hops that failed and were sent again
		client  = &http.Client{Timeout: 10 * time.Second}
	)
	// post sends one Africa's Talking callback through the balancer,
	// retrying on the other process until it is answered.
	post := func(session, phone, text string) (string, error) {
		form := url.Values{"sessionId": {session}, "serviceCode": {"*384*2015#"}, "phoneNumber": {phone}, "networkCode": {"46000"}, "text": {text}}
		var last string
		for attempt := 0; attempt < 100; attempt++ {
			p := procs[next.Add(1)%2]
			resp, err := client.PostForm("http://"+p.addr+"/ussd/africastalking", form)
			if err == nil {
				body, rerr := io.ReadAll(resp.Body)
				resp.Body.Close()
				if rerr == nil && resp.StatusCode == http.StatusOK {
					hops.Add(1)
					return string(body), nil
				}
				last = fmt.Sprintf("%d %q", resp.StatusCode, body)
			} else {
				last = err.Error()
			}
			retries.Add(1)
			time.Sleep(20 * time.Millisecond)
		}
		return "", fmt.Errorf("hop %q of %s never answered: %s", text, session, last)
	}

	faults, walked := make(chan []string, 1), make(chan struct{})
	go func() {
		var done []string
		defer func() { faults <- done }()
		// waitHops says whether n hops were answered before the walks ended.
		waitHops := func(n int64) bool {
			for hops.Load() < n {
				select {
				case <-walked:
					return false
				case <-time.After(5 * time.Millisecond):
				}
			}
			return true
		}
		if !waitHops(callers) {
			return
		}
		// restart stops a process with sig and starts it again.
		restart := func(p *gatewayProc, sig syscall.Signal, pause time.Duration) bool {
			if err := p.stop(sig); err != nil {
				done = append(done, fmt.Sprintf("%v failed: %v", sig, err))
				return false
			}
			time.Sleep(pause)
			if err := p.start(); err != nil {
				done = append(done, fmt.Sprintf("restart after %v failed: %v", sig, err))
				return false
			}
			done = append(done, sig.String())
			return true
		}
		if !restart(procs[0], syscall.SIGKILL, 100*time.Millisecond) || !waitHops(3*callers) {
			return
		}
		restart(procs[1], syscall.SIGTERM, 0)
	}()

	refs := make([]string, callers)
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for i := 0; i < callers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			session, phone := fmt.Sprintf("ATUid_procs_%d", i), loadgen.DirectorPhone(i)
			var last string
			for _, text := range []string{"", "1", "1*C0001", "1*C0001*4", "1*C0001*4*1"} {
				got, err := post(session, phone, text)
				if err != nil {
					errs <- err
					return
				}
				last = got
				time.Sleep(10 * time.Millisecond) // the caller reads and types
			}
			m := savedRef.FindStringSubmatch(last)
			if m == nil {
				errs <- fmt.Errorf("caller %d ended on %q", i, last)
				return
			}
			refs[i] = m[1]
		}(i)
	}
	wg.Wait()
	close(walked)
	done := <-faults
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(done) != 2 || done[0] != "killed" || done[1] != "terminated" {
		t.Errorf("the walks ended after %d hops, with the faults %q made, not a kill and a stop", hops.Load(), done)
	}
	if t.Failed() {
		return
	}
	t.Logf("%d hops answered, %d sent again after a failure", hops.Load(), retries.Load())

	sqlDB, err := sqlx.Connect("postgres", storagetest.DSNFor(name))
	if err != nil {
		t.Fatal(err)
	}
	defer sqlDB.Close()
	// Postgres may still be taking spooled visits from a process's drain.
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int
		if err := sqlDB.Get(&n, `SELECT count(*) FROM visits WHERE session_key LIKE 'ussd:at:ATUid_procs_%'`); err != nil {
			t.Fatal(err)
		}
		if n == callers {
			break
		}
		if n > callers || time.Now().After(deadline) {
			t.Fatalf("%d visits in Postgres, want %d", n, callers)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for i, ref := range refs {
		var key string
		if err := sqlDB.Get(&key, `SELECT session_key FROM visits WHERE ref = $1`, ref); err != nil {
			t.Fatalf("caller %d's reference %s: %v", i, ref, err)
		}
		if want := fmt.Sprintf("ussd:at:ATUid_procs_%d", i); key != want {
			t.Fatalf("reference %s is saved under %s, want %s", ref, key, want)
		}
	}
	// Each urgent visit alerts the county and opens one case, told to its
	// township: the same messages for every visit, none twice.
	var alerts, distinct, perVisit, cases, caseMessages int
	if err := sqlDB.Get(&alerts, `SELECT count(*) FROM messages WHERE kind = 'alert' AND dedupe_key LIKE 'alert:%'`); err != nil {
		t.Fatal(err)
	}
	if err := sqlDB.Get(&distinct, `SELECT count(DISTINCT dedupe_key) FROM messages WHERE kind = 'alert'`); err != nil {
		t.Fatal(err)
	}
	if err := sqlDB.Get(&perVisit, `SELECT count(*) FROM messages WHERE kind = 'alert' AND dedupe_key LIKE $1`, "alert:"+refs[0]+":%"); err != nil {
		t.Fatal(err)
	}
	if err := sqlDB.Get(&cases, `SELECT count(*) FROM cases`); err != nil {
		t.Fatal(err)
	}
	if err := sqlDB.Get(&caseMessages, `SELECT count(*) FROM messages WHERE kind = 'alert' AND dedupe_key LIKE 'case:%'`); err != nil {
		t.Fatal(err)
	}
	if perVisit == 0 || alerts+caseMessages != distinct || alerts != perVisit*callers {
		t.Fatalf("%d alerts (%d distinct with case messages), %d for the first visit: want the same number for each of %d visits, none twice", alerts, distinct, perVisit, callers)
	}
	if cases != callers || caseMessages%callers != 0 || caseMessages == 0 {
		t.Fatalf("%d cases and %d case messages for %d urgent visits: want one case each, told alike", cases, caseMessages, callers)
	}
}
