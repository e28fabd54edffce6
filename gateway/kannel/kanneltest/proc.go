package kanneltest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// killTimeout bounds the wait for a killed process to be reaped.
const killTimeout = 10 * time.Second

// proc is a Kannel process started by the harness, in a process group of
// its own so that kill takes anything it may have started with it.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has been reaped
	err  error         // Wait's result, set before done is closed
}

// startProc runs a Kannel box with its standard output and error in
// dir/name.out (its real log goes to the log-file of its configuration).
func startProc(dir, name, path string, args ...string) (*proc, error) {
	out, err := os.Create(filepath.Join(dir, name+".out"))
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	return runProc(name, cmd, out)
}

// runProc starts cmd and closes the parent's copies of the files in
// closeAfter, which only the child needs.
func runProc(name string, cmd *exec.Cmd, closeAfter ...io.Closer) (*proc, error) {
	setProcAttr(cmd)
	err := cmd.Start()
	for _, c := range closeAfter {
		c.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// kill ends the process and its group at once and waits until it is
// reaped. A graceful shutdown would only slow tests down: nothing Kannel
// keeps is wanted after the test.
func (p *proc) kill() error {
	select {
	case <-p.done:
		return nil
	default:
	}
	if err := killGroup(p.cmd.Process.Pid); err != nil {
		// The group may be gone already; the process is reaped below.
		_ = p.cmd.Process.Kill()
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(killTimeout):
		return fmt.Errorf("%s (pid %d) still running %v after SIGKILL", p.name, p.cmd.Process.Pid, killTimeout)
	}
}

// randomToken returns a fresh password.
func randomToken() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand does not fail on Linux; a fixed password would do
		// for a loopback test anyway.
		return "kanneltest"
	}
	return hex.EncodeToString(b)
}
