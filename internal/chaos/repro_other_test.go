//go:build !unix

package chaos

import (
	"fmt"
	"os"
)

// runShortWrite needs RLIMIT_FSIZE, which only unix systems have.
func runShortWrite() int {
	fmt.Fprintln(os.Stderr, "chaos: the short-write reproduction needs a unix system")
	return 2
}
