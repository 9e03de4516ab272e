package statement_test

import (
	"bytes"
	"compress/gzip"
	"crypto/cipher"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"
	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/payment/statement"
)

// A test-only writer of statement files, made from the protocol's text
// (docs/protocol.md, "Statements") and nothing of the sandbox, so that the
// reader is not checked against the code it will meet in the sandbox.

// testKey is the file key of generated files. TEST KEY.
var testKey = []byte("0123456789abcdef")

var shanghai = time.FixedZone("UTC+8", 8*3600)

// testDay is the business day of generated statements.
var testDay = time.Date(2026, 11, 24, 0, 0, 0, 0, shanghai)

const testFileID = "00112233445566778899aabbccddeeff"

// fileWriter seals gzip plaintext into segments as it is written.
type fileWriter struct {
	w      io.Writer
	aead   cipher.AEAD
	nonce  [12]byte
	aad    []byte
	buf    []byte
	index  uint32
	header bool
	h      hash.Hash
	n      int64
}

func newFileWriter(w io.Writer, key []byte, fileID string, prefix [8]byte) *fileWriter {
	block, err := sm4.NewCipher(key)
	if err != nil {
		panic(err)
	}
	aead, err := cipher.NewGCM(block) // 12-byte nonce, 16-byte tag
	if err != nil {
		panic(err)
	}
	f := &fileWriter{w: w, aead: aead, aad: append([]byte(fileID), 0), h: sm3.New()}
	copy(f.nonce[:8], prefix[:])
	f.buf = make([]byte, 0, statement.SegmentSize+16)
	return f
}

func (f *fileWriter) out(p []byte) error {
	f.h.Write(p)
	f.n += int64(len(p))
	_, err := f.w.Write(p)
	return err
}

func (f *fileWriter) Write(p []byte) (int, error) {
	if !f.header {
		f.header = true
		if err := f.out(append([]byte("EWB1"), f.nonce[:8]...)); err != nil {
			return 0, err
		}
	}
	n := len(p)
	for len(p) > 0 {
		k := min(len(p), statement.SegmentSize-len(f.buf))
		f.buf = append(f.buf, p[:k]...)
		p = p[k:]
		if len(f.buf) == statement.SegmentSize {
			if err := f.seal(false); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (f *fileWriter) seal(last bool) error {
	binary.BigEndian.PutUint32(f.nonce[8:], f.index)
	f.index++
	f.aad[32] = 0
	if last {
		f.aad[32] = 1
	}
	sealed := f.aead.Seal(f.buf[:0], f.nonce[:], f.buf, f.aad)
	err := f.out(sealed)
	f.buf = f.buf[:0]
	return err
}

// Close seals the last segment, empty when the plaintext was an exact
// multiple of the segment size.
func (f *fileWriter) Close() error {
	if !f.header {
		if _, err := f.Write(nil); err != nil {
			return err
		}
	}
	return f.seal(true)
}

func (f *fileWriter) sum() string { return hex.EncodeToString(f.h.Sum(nil)) }

// built is a generated file with its descriptor.
type built struct {
	file []byte
	d    statement.Descriptor
	csv  []byte
}

// buildCSV seals csv (gzip) into a file whose descriptor claims records
// and sum.
func buildCSV(t testing.TB, typ statement.Type, csv []byte, records, sum int64) built {
	t.Helper()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, err := zw.Write(csv)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buildPlain(t, typ, gz.Bytes(), records, sum)
}

// buildPlain seals any plaintext.
func buildPlain(t testing.TB, typ statement.Type, plain []byte, records, sum int64) built {
	t.Helper()
	var file bytes.Buffer
	fw := newFileWriter(&file, testKey, testFileID, [8]byte{1, 2, 3, 4, 5, 6, 7, 8})
	_, err := fw.Write(plain)
	require.NoError(t, err)
	require.NoError(t, fw.Close())
	return built{file: file.Bytes(), d: descriptor(typ, records, sum, fw.n, fw.sum())}
}

func descriptor(typ statement.Type, records, sum, size int64, sm3hex string) statement.Descriptor {
	return statement.Descriptor{
		FileID: testFileID, Date: testDay, Type: typ, Records: records, AmountSum: sum,
		Size: size, SM3: sm3hex, EncryptKey: "not used: the tests hold the file key",
		ExpiresAt: testDay.Add(34*time.Hour + 10*time.Minute),
	}
}

const tradeHeader = "time,type,out_trade_no,trade_no,out_refund_no,refund_no,account_no,payee_account_no,amount,status\n"
const ledgerHeader = "time,account_no,type,amount,balance_after,out_trade_no,out_refund_no\n"

// tradeLine writes one TRADE line (fields never need quotes here).
func tradeLine(b []byte, r statement.TradeRecord) []byte {
	b = r.Time.In(shanghai).AppendFormat(b, "2006-01-02 15:04:05")
	b = append(b, ',')
	b = append(b, r.Type...)
	for _, s := range []string{r.OutTradeNo, r.TradeNo, r.OutRefundNo, r.RefundNo, r.AccountNo, r.PayeeAccountNo} {
		b = append(b, ',')
		b = append(b, s...)
	}
	b = append(b, ',')
	b = strconv.AppendInt(b, r.Amount, 10)
	b = append(b, ',')
	b = append(b, r.Status...)
	return append(b, '\n')
}

// tradeFile builds a valid TRADE file of records (given in file order).
func tradeFile(t testing.TB, recs []statement.TradeRecord) built {
	t.Helper()
	csv := []byte(tradeHeader)
	var sum int64
	for _, r := range recs {
		csv = tradeLine(csv, r)
		sum += r.Amount
	}
	b := buildCSV(t, statement.Trade, csv, int64(len(recs)), sum)
	b.csv = csv
	return b
}

// genTrade is the i-th of n TRADE lines of a synthetic day, in file order:
// every seventh a refund of the order before it, every eleventh order
// FAILED, transfers with a payee.
func genTrade(i, n int) statement.TradeRecord {
	sec := int64(i) * 86399 / int64(max(n, 1))
	r := statement.TradeRecord{
		Time:       testDay.Add(time.Duration(sec) * time.Second),
		OutTradeNo: "T20261124" + pad(i, 12),
		TradeNo:    "B20261124" + pad(i, 17),
		AccountNo:  "62368800" + pad(i%5000, 8),
		Amount:     int64(100 + i%977*13),
		Status:     statement.StatusSuccess,
	}
	switch {
	case i%7 == 6:
		r.Type = statement.TradeRefund
		r.OutRefundNo = "R20261124" + pad(i, 12)
		r.RefundNo = "F20261124" + pad(i, 17)
	case i%4 == 1:
		r.Type = statement.TradeTransfer
		r.PayeeAccountNo = "62368800" + pad((i+17)%5000, 8)
	case i%4 == 2:
		r.Type = statement.TradeRecharge
	case i%4 == 3:
		r.Type = statement.TradeWithdraw
	default:
		r.Type = statement.TradePay
	}
	if r.Type != statement.TradeRefund && i%11 == 0 {
		r.Status = statement.StatusFailed
	}
	return r
}

func pad(n, width int) string {
	s := strconv.Itoa(n)
	return strings.Repeat("0", max(width-len(s), 0)) + s
}

// books is the merchant record that agrees with a TRADE line.
func books(r statement.TradeRecord) statement.MerchantRecord {
	return statement.MerchantRecord{Time: r.Time, Type: r.Type, OutTradeNo: r.OutTradeNo,
		OutRefundNo: r.OutRefundNo, Amount: r.Amount, Status: r.Status}
}

func genTrades(n int) []statement.TradeRecord {
	out := make([]statement.TradeRecord, n)
	for i := range out {
		out[i] = genTrade(i, n)
	}
	return out
}

func TestGeneratorMatchesVectorsFormat(t *testing.T) {
	// The generator must make files the reader opens, with the segment
	// count the format says: an exact multiple gets an empty last segment.
	t.Parallel()
	for _, n := range []int{0, statement.SegmentSize - 1, statement.SegmentSize, 2*statement.SegmentSize + 5} {
		plain := bytes.Repeat([]byte{'x'}, n)
		b := buildPlain(t, statement.Trade, plain, 0, 0)
		segs := n/statement.SegmentSize + 1
		require.Equal(t, 12+n+16*segs, len(b.file), fmt.Sprint(n))
	}
}

// buildCSVPlain is the gzip of b.
func buildCSVPlain(t testing.TB, b []byte) []byte {
	t.Helper()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return gz.Bytes()
}
