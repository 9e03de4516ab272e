package sandbox

import (
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fillDay puts n successful orders of the built-in merchant into the
// store, finished over the business day of day, with their ledger
// entries, straight into the books (no API call: a million calls would
// measure the gateway, not the statement).
func fillDay(b *Bank, day time.Time, n, accounts int) (sum int64) {
	s := b.st
	s.mu.Lock()
	defer s.mu.Unlock()
	balance := make([]int64, accounts)
	nos := make([]string, accounts)
	for i := range nos {
		nos[i] = fmt.Sprintf("62368899%08d", i)
		s.accounts[nos[i]] = &account{No: nos[i], MerchantID: DefaultMerchantID, AppID: DefaultAppID, Status: statusNormal}
	}
	for i := 0; i < n; i++ {
		at := day.Add(time.Duration(i) * (24 * time.Hour / time.Duration(n)))
		a := i % accounts
		amount := int64(100 + i%977*13)
		balance[a] += amount
		o := &order{MerchantID: DefaultMerchantID, AppID: DefaultAppID, OutTradeNo: fmt.Sprintf("T%019d", i),
			TradeNo: fmt.Sprintf("B%s%010d", dayKey(at)[:4], i), Type: typeRecharge, AccountNo: nos[a],
			Amount: amount, Status: orderSuccess, CreatedAt: at, FinishedAt: at}
		s.orders[orderKey{DefaultMerchantID, o.OutTradeNo}] = o
		s.ledgers[nos[a]] = append(s.ledgers[nos[a]], LedgerEntry{Time: at, Type: ledgerRecharge, Amount: amount,
			BalanceAfter: balance[a], OutTradeNo: o.OutTradeNo})
		sum += amount
	}
	return sum
}

// TestBillManyOrders: a day of 20,000 orders makes a statement of 20,000
// lines with their sum; the million-order day is BenchmarkBillMillionOrders.
func TestBillManyOrders(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	day, _ := parseBillDate("2026-11-24")
	sum := fillDay(f.bank, day, 20_000, 100)
	for _, typ := range []string{billTrade, billLedger} {
		d, lines := f.billCSV(f.c, "2026-11-24", typ)
		require.Equal(t, int64(20_000), d.Records)
		require.Len(t, lines, 20_001)
		require.Equal(t, sum, d.AmountSum)
	}
}

// BenchmarkBillMillionOrders makes the TRADE and LEDGER statements of a
// day of 1,000,000 orders over 10,000 accounts and reports the time, the
// file's size and how much the live heap grew while making it (in a
// separate round with a GC every 50 ms): the file is streamed to disk, so the heap
// holds the day's index (a few words a line), not the file.
//
//	go test ./internal/sandbox -run '^$' -bench BillMillionOrders -benchtime 1x
func BenchmarkBillMillionOrders(b *testing.B) {
	f := newFixture(b)
	day, _ := parseBillDate("2026-11-24")
	fillDay(f.bank, day, 1_000_000, 10_000)
	for _, typ := range []string{billTrade, billLedger} {
		b.Run(typ, func(b *testing.B) {
			var peak, base uint64
			var size int64
			make := func() {
				v, err := f.bank.billDownload(caller{AppID: DefaultAppID, MerchantID: DefaultMerchantID},
					billArgs{BillDate: "2026-11-24", BillType: typ})
				if err != nil {
					b.Fatal(err)
				}
				if v.Records != 1_000_000 {
					b.Fatalf("records %d", v.Records)
				}
				size = v.Size
				if fi := f.bank.bills.get(v.FileID, f.clock.Now()); fi != nil {
					_ = os.Remove(fi.path) // keep the disk free between rounds
				}
			}
			for b.Loop() {
				make()
			}
			// Once more, outside the timing, with a GC every 50 ms to see
			// what is held rather than what is garbage.
			runtime.GC()
			base = heapObjects()
			stop := samplePeak(&peak)
			make()
			stop()
			b.ReportMetric(float64(size)/(1<<20), "file-MiB")
			b.ReportMetric(float64(peak-min(base, peak))/(1<<20), "live-heap-added-MiB")
		})
	}
}

// heapObjects is the live heap as of the last GC: what the program holds,
// not the garbage it has yet to collect.
func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func samplePeak(peak *uint64) (stop func()) {
	var done atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !done.Load() {
			runtime.GC()
			if v := heapObjects(); v > *peak {
				*peak = v
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	return func() { done.Store(true); wg.Wait() }
}
