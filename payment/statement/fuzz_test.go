package statement_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"

	"github.com/xinyun-open/ewallet-go/payment/statement"
)

// knownErrors are the errors a refused file may end with; anything else
// (or a panic) is a bug.
var knownErrors = []error{
	statement.ErrMagic, statement.ErrSegment, statement.ErrTruncated, statement.ErrTrailingData,
	statement.ErrSize, statement.ErrSM3, statement.ErrGzip, statement.ErrCSV, statement.ErrRecords,
	statement.ErrAmountSum,
}

func known(err error) bool {
	for _, k := range knownErrors {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

// FuzzFile feeds the whole reader arbitrary file bytes under the key and
// descriptor of the first vector: it must refuse with a known error or
// read a complete statement, never panic or hand out a record after an
// error.
func FuzzFile(f *testing.F) {
	b, key := billVectors(f)
	v := b.Valid[0]
	file, err := base64.StdEncoding.DecodeString(v.FileB64)
	if err != nil {
		f.Fatal(err)
	}
	d := vectorDescriptor(f, v.Descriptor)
	fileKey, err := statement.OpenKey(context.Background(), key, d)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(file)
	f.Add(file[:200])
	f.Add(file[:12])
	f.Add([]byte("EWB1"))
	for _, c := range b.Invalid {
		f.Add(applyOp(f, file, c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dd := d
		dd.Size = max(int64(len(data)), 28)
		st, err := statement.NewReader(bytes.NewReader(data), fileKey, dd)
		if err != nil {
			t.Fatal(err)
		}
		ended := false
		for _, err := range st.Trades() {
			if ended {
				t.Fatal("a record after the error")
			}
			if err != nil {
				ended = true
				if !known(err) {
					t.Fatalf("unexpected error %v", err)
				}
			}
		}
		if st.Complete() == ended {
			t.Fatalf("complete %v after error %v", st.Complete(), st.Err())
		}
	})
}

// FuzzCSV feeds the CSV parser arbitrary plaintext inside an authentic
// file, so the fuzzer's bytes reach the parser rather than dying at the
// first segment; the seeds are the vectors' CSV and the generator's.
func FuzzCSV(f *testing.F) {
	b, key := billVectors(f)
	for _, v := range b.Valid {
		d := vectorDescriptor(f, v.Descriptor)
		fileKey, err := statement.OpenKey(context.Background(), key, d)
		if err != nil {
			f.Fatal(err)
		}
		file, _ := base64.StdEncoding.DecodeString(v.FileB64)
		var csv bytes.Buffer
		st, _ := statement.NewReader(bytes.NewReader(file), fileKey, d, statement.WithCSVCopy(&csv))
		if err := st.Verify(); err != nil {
			f.Fatal(err)
		}
		if csv.Len() > 4096 {
			csv.Truncate(4096) // the fuzzer works better on short inputs
		}
		f.Add(csv.Bytes(), false)
	}
	f.Add([]byte(tradeHeader+okLine), false)
	f.Add([]byte(tradeHeader+`2026-11-24 00:00:01,"PAY","T,1","B""1",,,6236880000000001,,"100",SUCCESS`+"\n"), false)
	f.Add([]byte(ledgerHeader+"2026-11-24 09:00:00,6236880000000001,RECHARGE,100,100,T1,\n"), true)
	f.Fuzz(func(t *testing.T, csv []byte, ledger bool) {
		if len(csv) > 256<<10 {
			t.Skip("long inputs only slow the fuzzer down: lines are bounded by 64 KiB")
		}
		typ := statement.Trade
		if ledger {
			typ = statement.Ledger
		}
		// The descriptor claims whatever the parser will count, so that a
		// CSV the parser accepts reads as complete.
		n, sum := countLines(csv, ledger)
		if !ledger && sum < 0 {
			sum = 0 // a TRADE descriptor's sum is never negative
		}
		bt := buildCSV(t, typ, csv, n, sum)
		st, err := statement.NewReader(bytes.NewReader(bt.file), testKey, bt.d)
		if err != nil {
			t.Fatal(err)
		}
		var lines int64
		var last error
		if ledger {
			for rec, err := range st.Ledger() {
				if last != nil {
					t.Fatal("a record after the error")
				}
				last = err
				if err == nil {
					lines++
					if rec.AccountNo == "" || rec.OutTradeNo == "" {
						t.Fatal("a record without its required fields")
					}
				}
			}
		} else {
			for rec, err := range st.Trades() {
				if last != nil {
					t.Fatal("a record after the error")
				}
				last = err
				if err == nil {
					lines++
					if rec.Amount <= 0 || rec.TradeNo == "" {
						t.Fatal("a record breaking its rules")
					}
				}
			}
		}
		if last != nil && !errors.Is(last, statement.ErrCSV) && !errors.Is(last, statement.ErrRecords) && !errors.Is(last, statement.ErrAmountSum) {
			t.Fatalf("a CSV problem reported as %v", last)
		}
		if last == nil && lines != n {
			t.Fatalf("complete with %d lines, the descriptor says %d", lines, n)
		}
	})
}

// countLines is a rough count of the data lines and amounts of a CSV,
// enough for the descriptor of a fuzz input: when it is wrong, the reader
// must say ErrRecords or ErrAmountSum, which the fuzz target accepts.
func countLines(csv []byte, ledger bool) (int64, int64) {
	lines := bytes.Split(csv, []byte("\n"))
	var n, sum int64
	col := 8
	if ledger {
		col = 3
	}
	for i, l := range lines {
		if i == 0 || len(l) == 0 {
			continue
		}
		n++
		f := bytes.Split(l, []byte(","))
		if len(f) > col {
			var v int64
			neg := false
			for j, c := range f[col] {
				if j == 0 && c == '-' {
					neg = true
					continue
				}
				if c < '0' || c > '9' {
					break
				}
				v = v*10 + int64(c-'0')
			}
			if neg {
				v = -v
			}
			sum += v
		}
	}
	return n, sum
}

// FuzzDescriptor feeds the bill/download answer's parser arbitrary bytes:
// it refuses with ErrDescriptor, or what it accepts is valid and comes back
// the same through MarshalJSON (the form a job keeps beside the file).
func FuzzDescriptor(f *testing.F) {
	b, _ := billVectors(f)
	for _, v := range b.Valid {
		raw, err := json.Marshal(v.Descriptor)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte(`{"records":"01"}`))
	f.Add([]byte(`{"bill_date":"2026-02-30"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var d statement.Descriptor
		if err := d.UnmarshalJSON(raw); err != nil { // json.Unmarshal would stop bad syntax before it

			if !errors.Is(err, statement.ErrDescriptor) {
				t.Fatalf("refused without ErrDescriptor: %v", err)
			}
			return
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("accepted an invalid descriptor: %v", err)
		}
		out, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var back statement.Descriptor
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("its own form refused: %v\n%s", err, out)
		}
		if back.FileID != d.FileID || !back.Date.Equal(d.Date) || back.Type != d.Type || back.Records != d.Records ||
			back.AmountSum != d.AmountSum || back.Size != d.Size || back.SM3 != d.SM3 ||
			back.EncryptKey != d.EncryptKey || !back.ExpiresAt.Equal(d.ExpiresAt) {
			t.Fatalf("changed through JSON:\n%+v\n%+v", d, back)
		}
	})
}
