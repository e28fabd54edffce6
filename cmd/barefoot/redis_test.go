package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/sessions"
	"github.com/barefoot-ussd/barefoot/storage/storagetest"
)

// TestRedisThroughSentinel: a URL with master_name reaches Redis through a
// real Sentinel that monitors the test Redis, and sessions are kept through
// it; a master the Sentinel does not know is refused with the variable
// named.
func TestRedisThroughSentinel(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server is needed to run a Sentinel: %v", err)
	}
	port := freePort(t)
	master := storagetest.RandomName("bf_master")
	conf := filepath.Join(t.TempDir(), "sentinel.conf")
	body := fmt.Sprintf("port %d\nbind 127.0.0.1\nsentinel monitor %s 127.0.0.1 6379 1\n", port, master)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, conf, "--sentinel")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitListening(t, port)

	ctx := context.Background()
	cfg := config{RedisURL: fmt.Sprintf("redis://127.0.0.1:%d/9?master_name=%s", port, master)}
	rdb, err := cfg.openRedis(ctx)
	if err != nil {
		t.Fatalf("through the Sentinel: %v", err)
	}
	defer rdb.Close()
	prefix := storagetest.RandomName("bf_sentinel") + ":"
	t.Cleanup(func() {
		keys, _ := rdb.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
	})
	store := sessions.NewStore(rdb, prefix)
	snap := menus.Snapshot{Tree: "director", Version: 1, Node: "main", Caller: menus.Caller{Phone: "+8613800138001"}}
	if _, err := store.Save(ctx, menus.ChannelUSSD, "at:s1", "+8613800138001", 0, snap, time.Minute, menus.ResumeSave); err != nil {
		t.Fatalf("save through the Sentinel: %v", err)
	}
	got, rev, ok, resume, err := store.LoadWithResume(ctx, menus.ChannelUSSD, "at:s1", "+8613800138001")
	if err != nil || !ok || rev != 1 || got.Node != "main" || resume == nil {
		t.Fatalf("load through the Sentinel = %+v rev %d ok %v resume %v err %v", got, rev, ok, resume, err)
	}

	cfg.RedisURL = fmt.Sprintf("redis://127.0.0.1:%d/9?master_name=nobody", port)
	if _, err := cfg.openRedis(ctx); err == nil || !strings.HasPrefix(err.Error(), "BAREFOOT_REDIS_URL: ") {
		t.Fatalf("unknown master: %v", err)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitListening(t *testing.T, port int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("nothing listens on port %d", port)
}
