package statement_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/payment/statement"
)

// readTrades reads a generated file with its descriptor.
func readTrades(t testing.TB, b built) ([]statement.TradeRecord, *statement.Statement, error) {
	t.Helper()
	st, err := statement.NewReader(bytes.NewReader(b.file), testKey, b.d)
	require.NoError(t, err)
	var out []statement.TradeRecord
	for rec, err := range st.Trades() {
		if err != nil {
			require.False(t, st.Complete())
			return out, st, err
		}
		out = append(out, rec)
	}
	require.True(t, st.Complete())
	return out, st, nil
}

func TestReadGeneratedTrades(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 5, 3000} {
		recs := genTrades(n)
		b := tradeFile(t, recs)
		got, st, err := readTrades(t, b)
		require.NoError(t, err)
		require.Equal(t, len(recs), len(got))
		for i := range recs {
			require.True(t, recs[i].Time.Equal(got[i].Time))
			got[i].Time = recs[i].Time
		}
		if n > 0 {
			require.Equal(t, recs, got)
		}
		require.Equal(t, int64(n), st.Records())
		require.Equal(t, b.d.AmountSum, st.AmountSum())
	}
}

func TestReadLedger(t *testing.T) {
	t.Parallel()
	csv := ledgerHeader +
		"2026-11-24 09:00:00,6236880000000001,RECHARGE,10000,10000,T1,\n" +
		"2026-11-24 09:00:00,6236880000000001,TRANSFER_OUT,-2500,7500,T2,\n" +
		"2026-11-24 09:00:00,6236880000000002,TRANSFER_IN,2500,2500,T2,\n" +
		"2026-11-24 10:30:00,6236880000000001,PAY,-1000,6500,T3,\n" +
		"2026-11-24 11:00:00,6236880000000001,REFUND,400,6900,T3,R1\n" +
		"2026-11-24 23:59:59,6236880000000002,WITHDRAW,-2500,0,T4,\n"
	b := buildCSV(t, statement.Ledger, []byte(csv), 6, 10000-2500+2500-1000+400-2500)
	st, err := statement.NewReader(bytes.NewReader(b.file), testKey, b.d)
	require.NoError(t, err)
	var got []statement.LedgerRecord
	for rec, err := range st.Ledger() {
		require.NoError(t, err)
		got = append(got, rec)
	}
	require.True(t, st.Complete())
	require.Len(t, got, 6)
	require.Equal(t, statement.LedgerRecord{Time: testDay.Add(11 * 3600e9), AccountNo: "6236880000000001",
		Type: statement.LedgerRefund, Amount: 400, BalanceAfter: 6900, OutTradeNo: "T3", OutRefundNo: "R1"}, got[4])
	require.Equal(t, "UTC+8", got[0].Time.Location().String())
}

// TestRefusedFiles: every check of the reader, each refusing with its own
// error.
func TestRefusedFiles(t *testing.T) {
	t.Parallel()
	recs := genTrades(9000) // several segments
	good := tradeFile(t, recs)
	require.Greater(t, len(good.file), 2*statement.SegmentSize)
	change := func(f func(b *built)) built {
		b := built{file: bytes.Clone(good.file), d: good.d}
		f(&b)
		return b
	}
	cases := []struct {
		name string
		b    built
		key  []byte
		want error
	}{
		{"another key", good, []byte("fedcba9876543210"), statement.ErrSegment},
		{"another file_id", change(func(b *built) { b.d.FileID = strings.Repeat("ab", 16) }), nil, statement.ErrSegment},
		{"descriptor size one short", change(func(b *built) { b.d.Size-- }), nil, statement.ErrSize},
		{"descriptor size one long", change(func(b *built) { b.d.Size++ }), nil, statement.ErrSize},
		{"another sm3", change(func(b *built) { b.d.SM3 = strings.Repeat("0", 64) }), nil, statement.ErrSM3},
		{"one record more claimed", change(func(b *built) { b.d.Records++ }), nil, statement.ErrRecords},
		{"one record less claimed", change(func(b *built) { b.d.Records-- }), nil, statement.ErrRecords},
		{"another amount_sum", change(func(b *built) { b.d.AmountSum++ }), nil, statement.ErrAmountSum},
		{"empty", built{file: nil, d: good.d}, nil, statement.ErrTruncated},
		{"magic only", built{file: []byte("EWB1"), d: good.d}, nil, statement.ErrTruncated},
		{"another magic", change(func(b *built) { copy(b.file, "EWB2") }), nil, statement.ErrMagic},
		{"cut inside a segment", change(func(b *built) { b.file = b.file[:100_000] }), nil, statement.ErrTruncated},
		{"cut after the first segment", change(func(b *built) { b.file = b.file[:12+statement.SegmentSize+16] }), nil, statement.ErrTruncated},
		{"a tag byte flipped", change(func(b *built) { b.file[12+statement.SegmentSize+15] ^= 0x80 }), nil, statement.ErrSegment},
		{"the last segment flipped", change(func(b *built) { b.file[len(b.file)-20] ^= 1 }), nil, statement.ErrSegment},
		{"a newline appended", change(func(b *built) { b.file = append(b.file, '\n'); b.d.Size++ }), nil, statement.ErrTrailingData},
		{"a segment's worth appended", change(func(b *built) {
			b.file = append(b.file, bytes.Repeat([]byte{0}, statement.SegmentSize+16)...)
			b.d.Size = int64(len(b.file))
		}), nil, statement.ErrSegment},
		{"longer than the descriptor says", change(func(b *built) {
			b.file = append(b.file, bytes.Repeat([]byte{0}, statement.SegmentSize+16)...)
		}), nil, statement.ErrSize},
		{"the last segment dropped", change(func(b *built) {
			n := (len(b.file) - 12) / (statement.SegmentSize + 16)
			b.file = b.file[:12+n*(statement.SegmentSize+16)]
		}), nil, statement.ErrTruncated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			key := c.key
			if key == nil {
				key = testKey
			}
			st, err := statement.NewReader(bytes.NewReader(c.b.file), key, c.b.d)
			require.NoError(t, err)
			var last error
			for _, err := range st.Trades() {
				last = err
			}
			require.ErrorIs(t, last, c.want)
			require.False(t, st.Complete())
		})
	}
}

// TestRefusedPlaintext: authentic segments whose plaintext is not a
// statement's.
func TestRefusedPlaintext(t *testing.T) {
	t.Parallel()
	b := tradeFile(t, genTrades(10))
	cases := map[string]struct {
		b    built
		want error
	}{
		"not gzip":            {buildPlain(t, statement.Trade, []byte("time,type\n"), 0, 0), statement.ErrGzip},
		"empty plaintext":     {buildPlain(t, statement.Trade, nil, 0, 0), statement.ErrGzip},
		"gzip cut short":      {buildPlain(t, statement.Trade, gzipOf(t, b.csv)[:200], 10, b.d.AmountSum), statement.ErrGzip},
		"gzip then garbage":   {buildPlain(t, statement.Trade, append(gzipOf(t, b.csv), "junk"...), 10, b.d.AmountSum), statement.ErrGzip},
		"gzip crc broken":     {buildPlain(t, statement.Trade, breakCRC(gzipOf(t, b.csv)), 10, b.d.AmountSum), statement.ErrGzip},
		"two gzip members ok": {buildPlain(t, statement.Trade, append(gzipOf(t, b.csv[:len(tradeHeader)]), gzipOf(t, b.csv[len(tradeHeader):])...), 10, b.d.AmountSum), nil},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, _, err := readTrades(t, c.b)
			if c.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, c.want)
		})
	}
}

func gzipOf(t testing.TB, b []byte) []byte {
	t.Helper()
	return buildCSVPlain(t, b)
}

func breakCRC(gz []byte) []byte {
	gz = bytes.Clone(gz)
	gz[len(gz)-8] ^= 1
	return gz
}

const okLine = "2026-11-24 00:00:01,PAY,T1,B1,,,6236880000000001,,100,SUCCESS\n"

// TestCSVRules: each rule of the CSV, refused with the line and column.
func TestCSVRules(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		csv    string
		line   int64
		column string
	}{
		{"byte order mark", "\ufeff" + tradeHeader + okLine, 1, ""},
		{"another header", strings.Replace(tradeHeader, "status", "state", 1) + okLine, 1, ""},
		{"no header", "", 1, ""},
		{"CRLF", strings.Replace(tradeHeader, "\n", "\r\n", 1) + okLine, 1, ""},
		{"CRLF in a line", tradeHeader + strings.Replace(okLine, "\n", "\r\n", 1), 2, ""},
		{"no final newline", tradeHeader + strings.TrimSuffix(okLine, "\n"), 2, ""},
		{"empty line", tradeHeader + okLine + "\n", 3, ""},
		{"nine fields", tradeHeader + strings.Replace(okLine, ",SUCCESS", "", 1), 2, ""},
		{"eleven fields", tradeHeader + strings.Replace(okLine, "SUCCESS", "SUCCESS,", 1), 2, ""},
		{"invalid UTF-8", tradeHeader + strings.Replace(okLine, "T1", "T\xff", 1), 2, ""},
		{"plus sign", tradeHeader + strings.Replace(okLine, ",100,", ",+100,", 1), 2, "amount"},
		{"leading zero", tradeHeader + strings.Replace(okLine, ",100,", ",0100,", 1), 2, "amount"},
		{"decimal amount", tradeHeader + strings.Replace(okLine, ",100,", ",1.00,", 1), 2, "amount"},
		{"zero amount", tradeHeader + strings.Replace(okLine, ",100,", ",0,", 1), 2, "amount"},
		{"negative amount", tradeHeader + strings.Replace(okLine, ",100,", ",-100,", 1), 2, "amount"},
		{"huge amount", tradeHeader + strings.Replace(okLine, ",100,", ",99999999999999999999,", 1), 2, "amount"},
		{"ISO time", tradeHeader + strings.Replace(okLine, "2026-11-24 ", "2026-11-24T", 1), 2, "time"},
		{"hour 24", tradeHeader + strings.Replace(okLine, "00:00:01", "24:00:00", 1), 2, "time"},
		{"another day", tradeHeader + strings.Replace(okLine, "2026-11-24", "2026-11-25", 1), 2, "time"},
		{"no such date", tradeHeader + strings.Replace(okLine, "2026-11-24", "2026-02-30", 1), 2, "time"},
		{"unknown type", tradeHeader + strings.Replace(okLine, "PAY", "GIFT", 1), 2, "type"},
		{"lowercase status", tradeHeader + strings.Replace(okLine, "SUCCESS", "success", 1), 2, "status"},
		{"PROCESSING status", tradeHeader + strings.Replace(okLine, "SUCCESS", "PROCESSING", 1), 2, "status"},
		{"no out_trade_no", tradeHeader + strings.Replace(okLine, ",T1,", ",,", 1), 2, "out_trade_no"},
		{"no trade_no", tradeHeader + strings.Replace(okLine, ",B1,", ",,", 1), 2, "trade_no"},
		{"no account_no", tradeHeader + strings.Replace(okLine, "6236880000000001", "", 1), 2, "account_no"},
		{"refund_no on a PAY", tradeHeader + strings.Replace(okLine, ",B1,,,", ",B1,R1,F1,", 1), 2, "out_refund_no"},
		{"REFUND without refund numbers", tradeHeader + strings.Replace(okLine, "PAY", "REFUND", 1), 2, "out_refund_no"},
		{"FAILED refund", tradeHeader + "2026-11-24 00:00:01,REFUND,T1,B1,R1,F1,6236880000000001,,100,FAILED\n", 2, "status"},
		{"payee on a PAY", tradeHeader + strings.Replace(okLine, "0001,,", "0001,6236880000000002,", 1), 2, "payee_account_no"},
		{"TRANSFER without payee", tradeHeader + strings.Replace(okLine, "PAY", "TRANSFER", 1), 2, "payee_account_no"},
		{"control character", tradeHeader + strings.Replace(okLine, "T1", "T\x01", 1), 2, "out_trade_no"},
		{"out of time order", tradeHeader + strings.Replace(okLine, "00:00:01", "00:00:02", 1) + okLine, 3, ""},
		{"out of trade_no order", tradeHeader + strings.Replace(okLine, "B1", "B2", 1) + okLine, 3, ""},
		{"a line twice", tradeHeader + okLine + okLine, 3, ""},
		{"bare quote", tradeHeader + strings.Replace(okLine, "T1", `T"1`, 1), 2, ""},
		{"unclosed quote", tradeHeader + strings.Replace(okLine, "T1", `"T1`, 1), 2, ""},
		{"text after a closing quote", tradeHeader + strings.Replace(okLine, "T1", `"T"1`, 1), 2, ""},
		{"quoted line break", tradeHeader + strings.Replace(okLine, "T1", "\"T\n1\"", 1), 2, "out_trade_no"},
		{"an endless line", tradeHeader + strings.Repeat("x", 70_000) + "\n", 2, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := buildCSV(t, statement.Trade, []byte(c.csv), 1, 100)
			_, _, err := readTrades(t, b)
			require.ErrorIs(t, err, statement.ErrCSV)
			var ce *statement.CSVError
			require.True(t, errors.As(err, &ce), "%v", err)
			require.Equal(t, c.line, ce.Line, "%v", err)
			require.Equal(t, c.column, ce.Column, "%v", err)
			require.NotContains(t, err.Error(), "6236880000000001", "errors never echo values")
		})
	}
}

func TestCSVQuotedFields(t *testing.T) {
	t.Parallel()
	// Quoting a field that does not need it, and a comma and a doubled
	// quote inside quotes, are RFC 4180.
	csv := tradeHeader + `2026-11-24 00:00:01,"PAY","T,1","B""1",,,6236880000000001,,"100",SUCCESS` + "\n"
	b := buildCSV(t, statement.Trade, []byte(csv), 1, 100)
	got, _, err := readTrades(t, b)
	require.NoError(t, err)
	require.Equal(t, "T,1", got[0].OutTradeNo)
	require.Equal(t, `B"1`, got[0].TradeNo)
	require.Equal(t, statement.TradePay, got[0].Type)
}

func TestLedgerRules(t *testing.T) {
	t.Parallel()
	ok := "2026-11-24 09:00:00,6236880000000001,RECHARGE,100,100,T1,\n"
	cases := []struct {
		name, csv, column string
	}{
		{"positive PAY", strings.Replace(ok, "RECHARGE", "PAY", 1), "amount"},
		{"negative RECHARGE", strings.Replace(ok, ",100,100,", ",-100,100,", 1), "amount"},
		{"zero", strings.Replace(ok, ",100,100,", ",0,100,", 1), "amount"},
		{"negative balance", strings.Replace(ok, ",100,100,", ",100,-1,", 1), "balance_after"},
		{"refund number on a RECHARGE", strings.Replace(ok, "T1,", "T1,R1", 1), "out_refund_no"},
		{"REFUND without refund number", strings.Replace(ok, "RECHARGE", "REFUND", 1), "out_refund_no"},
		{"no account", strings.Replace(ok, "6236880000000001", "", 1), "account_no"},
		{"TRADE type", strings.Replace(ok, "RECHARGE", "TRANSFER", 1), "type"},
		{"out of order", strings.Replace(ok, "09:", "10:", 1) + ok, "time"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := buildCSV(t, statement.Ledger, []byte(ledgerHeader+c.csv), 1, 100)
			st, err := statement.NewReader(bytes.NewReader(b.file), testKey, b.d)
			require.NoError(t, err)
			var last error
			for _, err := range st.Ledger() {
				last = err
			}
			var ce *statement.CSVError
			require.True(t, errors.As(last, &ce), "%v", last)
			require.Equal(t, c.column, ce.Column, "%v", last)
		})
	}
}

func TestStatementIsReadOnce(t *testing.T) {
	t.Parallel()
	b := tradeFile(t, genTrades(3))
	st, err := statement.NewReader(bytes.NewReader(b.file), testKey, b.d)
	require.NoError(t, err)
	for _, err := range st.Ledger() {
		require.ErrorContains(t, err, "TRADE")
	}
	for _, err := range st.Trades() {
		require.ErrorIs(t, err, statement.ErrRead)
	}
	require.False(t, st.Complete())
}

func TestStoppingEarlyIsNotComplete(t *testing.T) {
	t.Parallel()
	b := tradeFile(t, genTrades(100))
	st, err := statement.NewReader(bytes.NewReader(b.file), testKey, b.d)
	require.NoError(t, err)
	for _, err := range st.Trades() {
		require.NoError(t, err)
		break
	}
	require.False(t, st.Complete())
	require.NoError(t, st.Err())
	require.Equal(t, int64(1), st.Records())
}

func TestVerifyAndRawCopy(t *testing.T) {
	t.Parallel()
	b := tradeFile(t, genTrades(5000))
	var raw, csv bytes.Buffer
	st, err := statement.NewReader(bytes.NewReader(b.file), testKey, b.d, statement.WithRawCopy(&raw), statement.WithCSVCopy(&csv))
	require.NoError(t, err)
	require.NoError(t, st.Verify())
	require.True(t, st.Complete())
	require.Equal(t, b.file, raw.Bytes())
	require.Equal(t, b.csv, csv.Bytes())

	broken := bytes.Clone(b.file)
	broken[len(broken)/2] ^= 1
	st, err = statement.NewReader(bytes.NewReader(broken), testKey, b.d)
	require.NoError(t, err)
	require.ErrorIs(t, st.Verify(), statement.ErrSegment)
}

func TestNewReaderChecksItsInput(t *testing.T) {
	t.Parallel()
	b := tradeFile(t, genTrades(1))
	_, err := statement.NewReader(bytes.NewReader(b.file), testKey[:15], b.d)
	require.ErrorContains(t, err, "16 bytes")
	d := b.d
	d.SM3 = "ABC"
	_, err = statement.NewReader(bytes.NewReader(b.file), testKey, d)
	require.ErrorIs(t, err, statement.ErrDescriptor)
	require.ErrorContains(t, err, "sm3")
}
