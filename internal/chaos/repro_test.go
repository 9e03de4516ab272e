//go:build unix

package chaos

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xinyun-open/ewallet-go/payment"
)

// TestFileJournalShortWrite reproduces an SDK bug this module's crash
// test led to (a kill can cut a write(2) in the middle, which the
// FileJournal handles on the last line only): when a write of the journal
// fails part-way (a full disk), FileJournal.write
// (payment/filejournal.go:150) returns the error and leaves the partial
// line in the file; the next Begin appends after it, and from then on
// OpenFileJournal refuses the file ("line 2 is not a journal record"),
// so the merchant cannot start, and the entries begun after the failure
// (sent calls among them) cannot be recovered.
//
// Fixed: a failed write now cuts its partial line off. The full disk is
// RLIMIT_FSIZE, set in a child process (Go ignores SIGXFSZ, so the write
// fails with EFBIG).
func TestFileJournalShortWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	c := startChild(t, "shortwrite", "EWALLET_CHAOS_JOURNAL="+path)
	var lines []string
	for {
		l, err := c.next(60 * time.Second)
		if err != nil {
			break
		}
		lines = append(lines, l)
	}
	t.Logf("the merchant process: %s", strings.Join(lines, "; "))
	j, err := payment.OpenFileJournal(path)
	if err != nil {
		t.Fatalf("after a Begin that failed on a full disk and one that succeeded, OpenFileJournal: %v", err)
	}
	defer j.Close()
	pending, err := j.Pending(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 2 {
		t.Errorf("pending: %d entries, want 2 (the first and the third Begin)", len(pending))
	}
}

// runShortWrite is the child of TestFileJournalShortWrite: three Begins,
// the second on a full disk.
func runShortWrite() int {
	path := os.Getenv("EWALLET_CHAOS_JOURNAL")
	j, err := payment.OpenFileJournal(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer j.Close()
	ctx := context.Background()
	entry := func(n int) payment.Entry {
		id := fmt.Sprintf("%032x", n)
		return payment.Entry{MsgID: id, Path: "payment/recharge", OrderNo: "T" + id,
			Request: []byte(`{"remark":"` + strings.Repeat("a", 2000) + `"}`), Begun: time.Now()}
	}
	fmt.Println("Begin 1:", j.Begin(ctx, entry(1)))
	st, err := os.Stat(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	full := lim
	full.Cur = uint64(st.Size()) + 1000 // room for half a line
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &full); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("Begin 2, on a full disk:", j.Begin(ctx, entry(2)))
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("Begin 3, with room again:", j.Begin(ctx, entry(3)))
	return 0
}
