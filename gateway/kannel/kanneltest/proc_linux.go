//go:build linux

package kanneltest

import (
	"os"
	"os/exec"
	"syscall"
	"unsafe"
)

// platformSupported: Kannel's Debian packages are Linux programs.
func platformSupported() error { return nil }

// setProcAttr puts the child in its own process group, for killGroup, and
// has the kernel kill it should the test binary die without cleaning up,
// so that no Kannel outlives its test.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup sends SIGKILL to the process group led by pid.
func killGroup(pid int) error { return syscall.Kill(-pid, syscall.SIGKILL) }

// pipeUnread returns how many bytes written to the pipe f the reader has
// not read yet (FIONREAD, which Linux answers on either end of a pipe).
func pipeUnread(f *os.File) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int32
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&n)))
	}); err != nil {
		return 0, err
	}
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
