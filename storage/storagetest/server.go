package storagetest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Server is a PostgreSQL cluster of a test's own, made with initdb on a
// spare loopback port, for fault tests that stop, kill and restart it
// without touching the shared server. It trusts local connections.
type Server struct {
	Port int
	tb   testing.TB
	dir  string
	bin  string
	cred *syscall.Credential
}

// MustServer makes and starts a private cluster, removed when the test
// ends. The test is skipped when PostgreSQL's server programs are not
// installed. As root, the cluster runs as the postgres user (the server
// refuses to run as root).
func MustServer(tb testing.TB) *Server {
	tb.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		tb.Skip("storagetest: PostgreSQL's initdb is not installed")
	}
	sort.Strings(bins)
	s := &Server{tb: tb, bin: filepath.Dir(bins[len(bins)-1])}
	dir, err := os.MkdirTemp("", "barefoot-pg-")
	if err != nil {
		tb.Fatal(err)
	}
	s.dir = dir
	tb.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			tb.Skip("storagetest: running as root and there is no postgres user")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			tb.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s.Port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s.run("initdb", "-D", filepath.Join(dir, "data"), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C")
	s.Start()
	tb.Cleanup(func() { s.pgctl("stop", "-m", "immediate") })
	return s
}

func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	return cmd
}

func (s *Server) run(name string, args ...string) {
	s.tb.Helper()
	if out, err := s.command(name, args...).CombinedOutput(); err != nil {
		s.tb.Fatalf("storagetest: %s: %v\n%s", name, err, out)
	}
}

func (s *Server) pgctl(action string, args ...string) error {
	all := append([]string{action, "-D", filepath.Join(s.dir, "data"), "-w"}, args...)
	return s.command("pg_ctl", all...).Run()
}

// Start starts the cluster (again) and waits until it takes connections.
func (s *Server) Start() {
	s.tb.Helper()
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories=%s -c fsync=off", s.Port, s.dir)
	s.run("pg_ctl", "start", "-D", filepath.Join(s.dir, "data"), "-w", "-l", filepath.Join(s.dir, "log"), "-o", opts)
}

// Kill stops the cluster at once, as a crash would (pg_ctl -m immediate):
// connections break, and it restarts with recovery.
func (s *Server) Kill() {
	s.tb.Helper()
	if err := s.pgctl("stop", "-m", "immediate"); err != nil {
		s.tb.Fatalf("storagetest: stop the private cluster: %v", err)
	}
}

// DSN names a database of the cluster.
func (s *Server) DSN(dbname string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.Port, dbname)
}

// MustDatabase creates an empty database on the cluster and returns its
// DSN; storage.Open migrates it.
func (s *Server) MustDatabase(name string) string {
	s.tb.Helper()
	db, err := sql.Open("postgres", s.DSN("postgres"))
	if err != nil {
		s.tb.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		s.tb.Fatalf("storagetest: create database: %v", err)
	}
	return s.DSN(name)
}
