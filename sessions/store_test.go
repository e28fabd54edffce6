package sessions_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/sessions"
	"github.com/barefoot-ussd/barefoot/sessions/sessionstest"
	"github.com/redis/go-redis/v9"
)

func MustStore(t *testing.T) *sessions.Store {
	t.Helper()
	rdb, prefix := sessionstest.MustRedis(t)
	return sessions.NewStore(rdb, prefix)
}

func TestLoadMissing(t *testing.T) {
	t.Parallel()
	s := MustStore(t)
	_, rev, ok, err := s.Load(context.Background(), "ussd", "nope")
	if err != nil || ok || rev != 0 {
		t.Fatalf("Load missing = rev %d ok %v err %v", rev, ok, err)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustStore(t)
	snap := menus.Snapshot{Tree: "director", Version: 3, Node: "visit_child", Lang: "zh",
		Answers: map[string]string{"child": "C0001"}, Caller: menus.Caller{Phone: "+8613800138001", DirectorID: 7},
		Path: "1*C0001", Screen: "CON 你好", Started: time.Date(2026, 11, 28, 1, 2, 3, 0, time.UTC)}
	rev, err := s.Save(ctx, "ussd", "a", "+8613800138001", 0, snap, time.Minute, menus.ResumeKeep)
	if err != nil || rev != 1 {
		t.Fatalf("Save = %d, %v", rev, err)
	}
	got, rev, ok, err := s.Load(ctx, "ussd", "a")
	if err != nil || !ok || rev != 1 {
		t.Fatalf("Load = rev %d ok %v err %v", rev, ok, err)
	}
	if got.Node != snap.Node || got.Answers["child"] != "C0001" || got.Caller.DirectorID != 7 || !got.Started.Equal(snap.Started) || got.Screen != snap.Screen {
		t.Fatalf("round trip lost data: %+v", got)
	}
	ttl, err := s.TTL(ctx, "ussd", "a")
	if err != nil || ttl <= 0 || ttl > time.Minute {
		t.Fatalf("TTL = %v, %v; want within (0, 1m]", ttl, err)
	}
}

func TestSaveConflictReturnsCurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustStore(t)
	if _, err := s.Save(ctx, "ussd", "b", "+8613800138001", 0, menus.Snapshot{Node: "one"}, time.Minute, menus.ResumeKeep); err != nil {
		t.Fatal(err)
	}
	_, err := s.Save(ctx, "ussd", "b", "+8613800138001", 0, menus.Snapshot{Node: "stale"}, time.Minute, menus.ResumeKeep)
	var c *sessions.Conflict
	if !errors.As(err, &c) || !errors.Is(err, sessions.ErrConflict) {
		t.Fatalf("stale Save = %v, want a Conflict", err)
	}
	if c.Rev != 1 || !c.Exists || c.Current.Node != "one" {
		t.Fatalf("conflict = %+v, want rev 1 with node one", c)
	}
	got, _, _, _ := s.Load(ctx, "ussd", "b")
	if got.Node != "one" {
		t.Fatalf("stale write applied: node %q", got.Node)
	}
}

// TestConcurrentSavesOneWinner fires many writers at one revision: exactly
// one may win, and the stored state is the winner's, whole.
func TestConcurrentSavesOneWinner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustStore(t)
	const n = 20
	var wg sync.WaitGroup
	start := make(chan struct{})
	wins := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			node := string(rune('a' + i))
			if _, err := s.Save(ctx, "ussd", "c", "+8613800138001", 0, menus.Snapshot{Node: node, Answers: map[string]string{"k": node}}, time.Minute, menus.ResumeKeep); err == nil {
				wins <- node
			} else if !errors.Is(err, sessions.ErrConflict) {
				t.Error(err)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(wins)
	var winners []string
	for w := range wins {
		winners = append(winners, w)
	}
	if len(winners) != 1 {
		t.Fatalf("%d writers won, want exactly 1", len(winners))
	}
	got, rev, _, _ := s.Load(ctx, "ussd", "c")
	if rev != 1 || got.Node != winners[0] || got.Answers["k"] != winners[0] {
		t.Fatalf("stored rev %d node %q answers %v, want the winner %q", rev, got.Node, got.Answers, winners[0])
	}
}

func TestKeysAreIsolatedByChannelAndExpire(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustStore(t)
	if _, err := s.Save(ctx, "ussd", "d", "+8613800138001", 0, menus.Snapshot{Node: "u"}, 50*time.Millisecond, menus.ResumeKeep); err != nil {
		t.Fatal(err)
	}
	if _, _, ok, _ := s.Load(ctx, "sms", "d"); ok {
		t.Fatal("sms channel sees the ussd session")
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		_, _, ok, err := s.Load(ctx, "ussd", "d")
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("session did not expire")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestResumableWalk: a save can keep the walk for the phone, a later save
// can drop it, and a conflicting save touches neither.
func TestResumableWalk(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustStore(t)
	s.ResumeTTL = time.Minute
	const phone = "+8613800138002"
	_, _, _, r, err := s.LoadWithResume(ctx, "ussd", "e1", phone)
	if err != nil || r != nil {
		t.Fatalf("fresh phone has a resumable walk: %v, %v", r, err)
	}
	walk := menus.Snapshot{Node: "visit_situation", Answers: map[string]string{"child": "C0001"}}
	if _, err := s.Save(ctx, "ussd", "e1", phone, 0, walk, time.Minute, menus.ResumeSave); err != nil {
		t.Fatal(err)
	}
	// A new session from the same phone sees the walk, and no session.
	_, rev, ok, r, err := s.LoadWithResume(ctx, "ussd", "e2", phone)
	if err != nil || ok || rev != 0 || r == nil || r.Answers["child"] != "C0001" {
		t.Fatalf("new session: ok %v rev %d resume %+v err %v", ok, rev, r, err)
	}
	// A losing writer cannot drop it.
	if _, err := s.Save(ctx, "ussd", "e1", phone, 0, menus.Snapshot{}, time.Minute, menus.ResumeForget); !errors.Is(err, sessions.ErrConflict) {
		t.Fatalf("stale save: %v", err)
	}
	if _, _, _, r, _ := s.LoadWithResume(ctx, "ussd", "e2", phone); r == nil {
		t.Fatal("a conflicting save dropped the walk")
	}
	if _, err := s.Save(ctx, "ussd", "e2", phone, 0, menus.Snapshot{Node: "main"}, time.Minute, menus.ResumeKeep); err != nil {
		t.Fatal(err)
	}
	if _, _, _, r, _ := s.LoadWithResume(ctx, "ussd", "e3", phone); r == nil {
		t.Fatal("ResumeKeep dropped the walk")
	}
	if _, err := s.Save(ctx, "ussd", "e2", phone, 1, menus.Snapshot{Node: "done", Ended: true}, time.Minute, menus.ResumeForget); err != nil {
		t.Fatal(err)
	}
	if _, _, _, r, _ := s.LoadWithResume(ctx, "ussd", "e4", phone); r != nil {
		t.Fatalf("ResumeForget kept %+v", r)
	}
}

func TestLimiter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb, prefix := sessionstest.MustRedis(t)
	l := sessions.NewLimiter(rdb, prefix, "test", 3, 200*time.Millisecond)
	for i := 1; i <= 5; i++ {
		ok, err := l.Allow(ctx, "+8613900139001")
		if err != nil || ok != (i <= 3) {
			t.Fatalf("reply %d: allowed %v, %v", i, ok, err)
		}
	}
	if ok, _ := l.Allow(ctx, "+8613900139002"); !ok {
		t.Fatal("another phone shares the limit")
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		if ok, _ := l.Allow(ctx, "+8613900139001"); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the window never reset")
		}
		time.Sleep(50 * time.Millisecond)
	}
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer down.Close()
	if ok, err := sessions.NewLimiter(down, prefix, "test", 3, time.Second).Allow(ctx, "+8613900139001"); ok || err == nil {
		t.Fatalf("limiter without Redis allowed: %v, %v", ok, err)
	}
}
