//go:build unix

package payment

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive, non-blocking lock on f, released when f is
// closed: a journal file serves one process.
func lockFile(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}
