// Package spool keeps reports durable on local disk while Postgres cannot
// take them, and drains them into Postgres, in order and exactly once,
// when it can. A director may walk an hour to find a signal: "try again
// later" is a lost report, so a report the caller was told is saved is in
// Postgres or in this spool.
//
// Each report is one file, written to a temporary name, fsynced, renamed
// into place and the directory fsynced, so that a crash leaves either the
// whole report or nothing. Draining inserts with the reference the caller
// was given, idempotently on the report's key: a crash between the insert
// and the removal replays as a no-op.
package spool

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
)

// Store files spooled reports (storage.DB implements it).
type Store interface {
	FileReportAs(ctx context.Context, r menus.Report, ref string) (string, bool, error)
}

// RefSource draws a report's reference before it reaches the database
// (storage.NewRef).
type RefSource func(kind menus.ReportKind) (string, error)

// Spool is a directory of reports waiting for Postgres.
type Spool struct {
	dir    string
	newRef RefSource
	Log    *slog.Logger
	// OnDrain, when set, is told of each report drained, refused or found
	// corrupt, for metrics.
	OnDrain func(outcome string)

	mu   sync.Mutex // one drain at a time; puts are independent
	seq  int64
	seqM sync.Mutex
}

// Suffixes of files the spool keeps aside: a report Postgres refused for
// good (the child left the director's list between confirm and drain),
// and a file that does not decode. Neither is retried; both are kept for
// an operator.
const (
	suffixReady   = ".json"
	suffixRefused = ".refused"
	suffixCorrupt = ".corrupt"
)

// Open makes (or reuses) the spool directory, private to the gateway's
// user, and checks that it can be written: a misconfigured spool must
// stop the gateway at start-up, not lose a report later.
func Open(dir string, newRef RefSource) (*Spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	probe, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return nil, fmt.Errorf("spool: %s is not writable: %w", dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	return &Spool{dir: dir, newRef: newRef}, nil
}

// Dir is the spool's directory.
func (s *Spool) Dir() string { return s.dir }

// entry is a spooled report as stored.
type entry struct {
	Ref       string       `json:"ref"`
	Report    menus.Report `json:"report"`
	SpooledAt time.Time    `json:"spooled_at"`
}

// Put writes a report durably and returns the reference it will be
// stored under. An error means it is not on disk: the caller must not be
// told it was saved.
func (s *Spool) Put(r menus.Report) (string, error) {
	ref, err := s.newRef(r.Kind)
	if err != nil {
		return "", fmt.Errorf("spool: %w", err)
	}
	data, err := json.Marshal(entry{Ref: ref, Report: r, SpooledAt: time.Now().UTC()})
	if err != nil {
		return "", fmt.Errorf("spool: encode: %w", err)
	}
	// Names sort in the order reports were spooled, so they drain in it.
	name := fmt.Sprintf("%020d-%06d-%s%s", time.Now().UnixNano(), s.next(), ref, suffixReady)
	if err := writeDurably(s.dir, name, data); err != nil {
		return "", fmt.Errorf("spool: %w", err)
	}
	return ref, nil
}

func (s *Spool) next() int64 {
	s.seqM.Lock()
	defer s.seqM.Unlock()
	s.seq = (s.seq + 1) % 1_000_000
	return s.seq
}

// writeDurably writes data to dir/name so that after a crash the file is
// either absent or whole: temp file, fsync, rename, fsync of the directory.
func writeDurably(dir, name string, data []byte) error {
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once renamed
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// ready lists the reports waiting, oldest first.
func (s *Spool) ready() ([]string, error) {
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	var names []string
	for _, de := range des {
		if n := de.Name(); strings.HasSuffix(n, suffixReady) && !strings.HasPrefix(n, ".") {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names, nil
}

// Depth returns how many reports wait and when the oldest was spooled.
func (s *Spool) Depth() (int, time.Time, error) {
	names, err := s.ready()
	if err != nil || len(names) == 0 {
		return 0, time.Time{}, err
	}
	ns, _ := strconv.ParseInt(strings.SplitN(names[0], "-", 2)[0], 10, 64)
	return len(names), time.Unix(0, ns), nil
}

// Drain files every waiting report, oldest first, and removes each once
// Postgres has it. It stops at the first report Postgres cannot take now
// (it will be first next time); a report refused for good, or a file that
// does not decode, is set aside and the drain goes on. It returns how many
// reports were filed.
func (s *Spool) Drain(ctx context.Context, store Store) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	names, err := s.ready()
	if err != nil {
		return 0, err
	}
	filed := 0
	for _, name := range names {
		path := filepath.Join(s.dir, name)
		data, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			continue // drained by another process sharing the directory
		}
		if err != nil {
			return filed, fmt.Errorf("spool: %w", err)
		}
		var e entry
		if err := json.Unmarshal(data, &e); err != nil || e.Ref == "" {
			s.setAside(path, suffixCorrupt, "spooled report does not decode; set aside", err)
			continue
		}
		ref, _, err := store.FileReportAs(ctx, e.Report, e.Ref)
		var dup *menus.SavedError
		switch {
		case err == nil:
			if ref != e.Ref {
				s.logger().Error("spooled report filed under another reference: its own was taken meanwhile", "told", e.Ref, "ref", ref)
			}
			if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
				return filed, fmt.Errorf("spool: %w", err)
			}
			filed++
			s.logger().Info("spooled report filed", "ref", ref, "kind", e.Report.Kind, "waited", time.Since(e.SpooledAt).Round(time.Second).String())
			s.told("filed")
		case errors.As(err, &dup), errors.Is(err, menus.ErrNotFound):
			s.setAside(path, suffixRefused, "spooled report refused by the registry; set aside for an operator", err)
		default:
			return filed, fmt.Errorf("spool: file %s: %w", e.Ref, err)
		}
	}
	return filed, nil
}

func (s *Spool) setAside(path, suffix, msg string, err error) {
	s.logger().Error(msg, "file", filepath.Base(path), "err", err)
	if rerr := os.Rename(path, strings.TrimSuffix(path, suffixReady)+suffix); rerr != nil {
		s.logger().Error("could not set a spooled report aside", "err", rerr)
	}
	s.told(strings.TrimPrefix(suffix, "."))
}

func (s *Spool) told(outcome string) {
	if s.OnDrain != nil {
		s.OnDrain(outcome)
	}
}

// Run drains the spool every interval until ctx is done.
func (s *Spool) Run(ctx context.Context, store Store, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := s.Drain(ctx, store); err != nil && ctx.Err() == nil {
			s.logger().Warn("spool not drained yet", "filed", n, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Spool) logger() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}
