//go:build !unix

package payment

import "os"

// lockFile does nothing where flock is not available: keep one process per
// journal file by configuration.
func lockFile(*os.File) error { return nil }
