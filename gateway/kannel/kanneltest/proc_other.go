//go:build !linux

package kanneltest

import (
	"errors"
	"os"
	"os/exec"
)

var errPlatform = errors.New("Kannel's Debian packages run only on Linux")

// platformSupported makes Start skip: see proc_linux.go.
func platformSupported() error { return errPlatform }

func setProcAttr(*exec.Cmd) {}

func killGroup(int) error { return errPlatform }

func pipeUnread(*os.File) (int, error) { return 0, errPlatform }
