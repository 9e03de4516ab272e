//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd || windows)

package sandbox

import "os"

// lockFile on a platform without flock or share modes only opens the lock
// file: two sandboxes on one state file are not prevented there.
func lockFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}
