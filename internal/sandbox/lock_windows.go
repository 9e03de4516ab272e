//go:build windows

package sandbox

import (
	"os"
	"syscall"
)

// lockFile opens path with no sharing allowed until the returned file is
// closed: a second sandbox cannot open it. Windows closes the handle when
// the process dies, so a crash leaves no stale lock behind.
func lockFile(path string) (*os.File, error) {
	p, err := syscall.UTF16PtrFromString(path)
	if err != nil {
		return nil, err
	}
	h, err := syscall.CreateFile(p, syscall.GENERIC_READ|syscall.GENERIC_WRITE, 0, nil,
		syscall.OPEN_ALWAYS, syscall.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		// ERROR_SHARING_VIOLATION: another process holds it.
		if errno, ok := err.(syscall.Errno); ok && errno == 32 {
			return nil, errStateLocked
		}
		return nil, err
	}
	return os.NewFile(uintptr(h), path), nil
}
