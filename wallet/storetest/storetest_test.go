package storetest_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/wallet/notify"
	"github.com/xinyun-open/ewallet-go/wallet/storetest"
)

// The in-process stores are held to the same contract as the shared ones.

func TestMemoryDeduper(t *testing.T) {
	t.Parallel()
	// One process, so "two instances" of a namespace are one MemoryDeduper.
	var mu sync.Mutex
	byNS := map[string]*notify.MemoryDeduper{}
	storetest.TestDeduper(t, storetest.DeduperStore{
		Open: func(_ *testing.T, ns string, retention time.Duration) notify.Deduper {
			mu.Lock()
			defer mu.Unlock()
			if d, ok := byNS[ns]; ok {
				return d
			}
			d := notify.NewMemoryDeduper(retention)
			byNS[ns] = d
			return d
		},
		IgnoresContext: true,
	})
}

func TestFileJournal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := func(ns string) string { return filepath.Join(dir, ns+".journal") }
	storetest.TestJournal(t, storetest.JournalStore{
		Open: func(t *testing.T, ns string) payment.Journal {
			j, err := payment.OpenFileJournal(path(ns))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = j.Close() })
			return j
		},
		Outcome: func(t *testing.T, _ payment.Journal, ns, msgID string) *payment.Outcome {
			return fileOutcome(t, path(ns), msgID)
		},
		Exclusive:      true,
		IgnoresContext: true,
	})
}

// fileOutcome reads the outcome recorded for msgID from a FileJournal's
// file (JSON lines; FileJournal has no reader of outcomes), the first
// "settle" line of it, as replaying the file would keep.
func fileOutcome(t *testing.T, path, msgID string) *payment.Outcome {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l struct {
			Op      string           `json:"op"`
			MsgID   string           `json:"msg_id"`
			Outcome *payment.Outcome `json:"outcome"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("journal file line %q: %v", sc.Text(), err)
		}
		if l.Op == "settle" && l.MsgID == msgID {
			return l.Outcome
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return nil
}

// TestFleetInProcess is the fleet with one MemoryDeduper shared in-process
// by its receivers: the baseline the shared stores match.
func TestFleetInProcess(t *testing.T) {
	t.Parallel()
	shared := notify.NewMemoryDeduper(0)
	rep := storetest.Fleet{}.Run(t, func(*testing.T) notify.Deduper { return shared }, nil)
	t.Log(rep)
}
