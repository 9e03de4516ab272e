//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package sandbox

import (
	"errors"
	"os"
	"syscall"
)

// lockFile holds an exclusive advisory lock (flock) on path until the
// returned file is closed; the kernel drops it if the process dies, so a
// crash leaves no stale lock behind.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errStateLocked
		}
		return nil, err
	}
	return f, nil
}
