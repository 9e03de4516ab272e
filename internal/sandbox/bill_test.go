package sandbox

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/cipher"
	"encoding/base64"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm4"
	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/sign"
)

const billPath = "/api/v1/bill/download"

// The test side of statements opens files with its own few lines of SM4-GCM
// from the protocol's text, not with the bank's writer nor the SDK's
// reader.

// bill asks for a statement and requires SUCCESS.
func (f *fixture) bill(c *tclient, day, typ string) billView {
	f.t.Helper()
	r := c.ok(billPath, map[string]string{"bill_date": day, "bill_type": typ})
	var v billView
	r.decode(f.t, &v)
	return v
}

// download GETs a file from the bank in process.
func (f *fixture) download(id string, header http.Header) *httptest.ResponseRecorder {
	f.t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/bills/"+id, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	f.bank.ServeHTTP(rec, req)
	return rec
}

// openBill checks a file against its descriptor and returns its CSV.
func openBill(t testing.TB, key *sign.PrivateKey, d billView, file []byte) []byte {
	t.Helper()
	require.Equal(t, d.Size, int64(len(file)), "size")
	require.Equal(t, sign.SM3Hex(file), d.SM3, "sm3")
	ek, err := base64.StdEncoding.DecodeString(d.EncryptKey)
	require.NoError(t, err)
	fileKey, err := key.Decrypt(context.Background(), ek)
	require.NoError(t, err)
	require.Len(t, fileKey, 16)
	block, err := sm4.NewCipher(fileKey)
	require.NoError(t, err)
	aead, err := cipher.NewGCM(block)
	require.NoError(t, err)
	require.Equal(t, "EWB1", string(file[:4]))
	nonce := make([]byte, 12)
	copy(nonce, file[4:12])
	var plain []byte
	rest := file[12:]
	for i := uint32(0); ; i++ {
		n := min(len(rest), 65536+16)
		last := n < 65536+16
		binary.BigEndian.PutUint32(nonce[8:], i)
		aad := append([]byte(d.FileID), 0)
		if last {
			aad[32] = 1
		}
		p, err := aead.Open(nil, nonce, rest[:n], aad)
		require.NoError(t, err, "segment %d", i)
		plain = append(plain, p...)
		rest = rest[n:]
		if last {
			break
		}
	}
	require.Empty(t, rest)
	zr, err := gzip.NewReader(bytes.NewReader(plain))
	require.NoError(t, err)
	out, err := io.ReadAll(zr)
	require.NoError(t, err)
	return out
}

// billCSV downloads and opens a statement; it returns its lines (the
// header first), after checking records and amount_sum.
func (f *fixture) billCSV(c *tclient, day, typ string) (billView, [][]string) {
	f.t.Helper()
	d := f.bill(c, day, typ)
	rec := f.download(d.FileID, nil)
	require.Equal(f.t, http.StatusOK, rec.Code)
	data := openBill(f.t, c.key, d, rec.Body.Bytes())
	require.True(f.t, bytes.HasSuffix(data, []byte("\n")))
	r := csv.NewReader(bytes.NewReader(data))
	lines, err := r.ReadAll()
	require.NoError(f.t, err)
	require.Equal(f.t, d.Records, int64(len(lines)-1), "records")
	col := 8
	if typ == billLedger {
		col = 3
	}
	var sum int64
	for _, l := range lines[1:] {
		var n int64
		_, err := fmt.Sscan(l[col], &n)
		require.NoError(f.t, err)
		sum += n
	}
	require.Equal(f.t, d.AmountSum, sum, "amount_sum")
	return d, lines
}

func TestBillNotReadyAndBadDates(t *testing.T) {
	t.Parallel()
	f := newFixture(t) // business day 2026-11-25
	for _, day := range []string{"2026-11-25", "2026-11-26", "2027-01-01"} {
		f.c.fails(codeBillNotReady, billPath, map[string]string{"bill_date": day, "bill_type": billTrade})
	}
	f.bill(f.c, "2026-11-24", billTrade)
	f.bill(f.c, "2025-11-25", billLedger) // 365 days back
	r := f.c.fails(codeParamInvalid, billPath, map[string]string{"bill_date": "2025-11-24", "bill_type": billTrade})
	require.Equal(t, "bill_date: is more than 365 days back", r.msg)
	for _, bad := range []string{"", "2026-11-5", "2026/11/24", "2026-02-30", "20261124", "2026-11-24 00:00:00"} {
		r := f.c.fails(codeParamInvalid, billPath, map[string]string{"bill_date": bad, "bill_type": billTrade})
		require.True(t, strings.HasPrefix(r.msg, "bill_date: "), r.msg)
	}
	r = f.c.fails(codeParamInvalid, billPath, map[string]string{"bill_date": "2026-11-24", "bill_type": "trade"})
	require.Equal(t, "bill_type: must be TRADE or LEDGER", r.msg)
	f.c.fails(codeParamInvalid, billPath, map[string]any{"bill_date": "2026-11-24", "bill_type": billTrade, "extra": "x"})

	// The day ends on the sandbox clock.
	f.bank.AdvanceClock(8 * time.Hour)
	f.bill(f.c, "2026-11-25", billTrade)
	f.c.fails(codeBillNotReady, billPath, map[string]string{"bill_date": "2026-11-26", "bill_type": billTrade})
}

func TestBillQuietDay(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, typ := range []string{billTrade, billLedger} {
		d, lines := f.billCSV(f.c, "2026-11-24", typ)
		require.Len(t, lines, 1)
		require.Equal(t, int64(0), d.Records)
		require.Equal(t, int64(0), d.AmountSum)
		require.Equal(t, "2026-11-24", d.BillDate)
		require.Equal(t, typ, d.BillType)
		require.Len(t, d.FileID, 32)
		header := billTradeHeader
		if typ == billLedger {
			header = billLedgerHeader
		}
		require.Equal(t, header, strings.Join(lines[0], ","))
		exp, err := parseTime(d.ExpiresAt)
		require.NoError(t, err)
		require.Equal(t, testStart.Add(10*time.Minute), exp, "expires on the real clock")
	}
}

// dayOfActivity makes a day with every kind of line: recharges, a
// withdrawal, payments, a transfer, refunds, and another channel's order,
// each a second apart; it returns the day's accounts and the other
// channel's client.
func dayOfActivity(f *fixture) (a, b string, other *tclient) {
	a, _ = f.newAccount()
	var pb person
	b, pb = f.newAccount()
	tick := func() { f.bank.AdvanceClock(time.Second) }
	f.recharge(f.c, a, 100_000)
	tick()
	f.recharge(f.c, b, 5_000)
	tick()
	pay := f.payArgs(f.c, a, 30_000)
	f.c.ok(payPath, pay)
	tick()
	f.c.ok(transferPath, map[string]any{"account_no": a, "payee_account_no": b, "payee_name": pb.name,
		"out_trade_no": f.orderNo(), "amount": 12_345, "password": f.c.pin(goodPIN)})
	tick()
	f.c.ok(refundPath, map[string]any{"out_trade_no": pay["out_trade_no"], "out_refund_no": "RF" + f.orderNo(), "amount": 1_000})
	f.c.ok(refundPath, map[string]any{"out_trade_no": pay["out_trade_no"], "out_refund_no": "RF" + f.orderNo(), "amount": 2_000})
	tick()
	f.c.ok(withdrawPath, map[string]any{"account_no": b, "out_trade_no": f.orderNo(), "amount": 4_000, "password": f.c.pin(goodPIN)})

	other = f.otherMerchant("other-app", "M200000002")
	o := f.open(other, f.person())
	f.recharge(other, o, 777)
	return a, b, other
}

func TestBillTradeAndLedger(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a, b, other := dayOfActivity(f)
	f.bank.AdvanceClock(24 * time.Hour)

	_, trade := f.billCSV(f.c, "2026-11-25", billTrade)
	var got []string
	for _, l := range trade[1:] {
		require.Equal(t, "SUCCESS", l[9])
		got = append(got, l[1]+" "+l[8])
	}
	require.Equal(t, []string{"RECHARGE 100000", "RECHARGE 5000", "PAY 30000", "TRANSFER 12345", "REFUND 1000", "REFUND 2000", "WITHDRAW 4000"}, got)
	transfer := trade[4]
	require.Equal(t, a, transfer[6])
	require.Equal(t, b, transfer[7], "payee_account_no on a TRANSFER")
	refund := trade[5]
	require.Equal(t, trade[3][2], refund[2], "a refund names its order's out_trade_no")
	require.Equal(t, trade[3][3], refund[3], "and trade_no")
	require.Equal(t, a, refund[6], "and the account refunded")
	require.NotEmpty(t, refund[4])
	require.NotEmpty(t, refund[5])
	for _, l := range trade[1:] {
		require.NotEqual(t, "777", l[8], "another channel's order is not in the statement")
	}

	_, ledger := f.billCSV(f.c, "2026-11-25", billLedger)
	var entries []string
	for _, l := range ledger[1:] {
		entries = append(entries, l[2]+" "+l[3]+" "+l[4])
	}
	require.Equal(t, []string{
		"RECHARGE 100000 100000", "RECHARGE 5000 5000", "PAY -30000 70000",
		"TRANSFER_OUT -12345 57655", "TRANSFER_IN 12345 17345",
		"REFUND 1000 58655", "REFUND 2000 60655", "WITHDRAW -4000 13345",
	}, entries)

	// The other channel sees its own day only.
	_, mine := f.billCSV(other, "2026-11-25", billTrade)
	require.Len(t, mine, 2)
	require.Equal(t, "777", mine[1][8])
}

// TestBillLedgerOrderAtOneInstant: with the clock standing still, every
// movement has the same time; the file keeps each account's order and a
// transfer's debit before its credit.
func TestBillLedgerOrderAtOneInstant(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a, pa := f.newAccount()
	b, _ := f.newAccount()
	require.Less(t, a, b)
	f.recharge(f.c, a, 1_000)
	f.recharge(f.c, b, 50_000)
	// a receives from b, then pays at once: a's account number sorts
	// first, but its TRANSFER_IN must wait for b's TRANSFER_OUT, and its
	// PAY for its TRANSFER_IN.
	f.c.ok(transferPath, map[string]any{"account_no": b, "payee_account_no": a, "payee_name": pa.name,
		"out_trade_no": f.orderNo(), "amount": 20_000, "password": f.c.pin(goodPIN)})
	f.c.ok(payPath, f.payArgs(f.c, a, 21_000))
	f.bank.AdvanceClock(24 * time.Hour)
	_, ledger := f.billCSV(f.c, "2026-11-25", billLedger)
	last := map[string]int64{}
	var sawOut bool
	for _, l := range ledger[1:] {
		var amount, bal int64
		fmt.Sscan(l[3], &amount)
		fmt.Sscan(l[4], &bal)
		require.Equal(t, last[l[1]]+amount, bal, "balance_after follows the account's own order: %v", l)
		last[l[1]] = bal
		switch l[2] {
		case ledgerTransferOut:
			sawOut = true
		case ledgerTransferIn:
			require.True(t, sawOut, "TRANSFER_IN after its TRANSFER_OUT")
		}
	}
	require.Equal(t, int64(0), last[a])
	require.Equal(t, int64(30_000), last[b])
}

func TestBillDownloadHTTP(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	dayOfActivity(f)
	f.bank.AdvanceClock(24 * time.Hour)
	d := f.bill(f.c, "2026-11-25", billTrade)

	first := f.download(d.FileID, nil)
	require.Equal(t, http.StatusOK, first.Code)
	require.Equal(t, "application/octet-stream", first.Header().Get("Content-Type"))
	require.Equal(t, fmt.Sprint(d.Size), first.Header().Get("Content-Length"))
	file := first.Body.Bytes()
	openBill(t, f.c.key, d, file)

	again := f.download(d.FileID, nil)
	require.Equal(t, file, again.Body.Bytes(), "the same bytes every download")

	part := f.download(d.FileID, http.Header{"Range": {"bytes=100-"}})
	require.Equal(t, http.StatusPartialContent, part.Code)
	require.Equal(t, fmt.Sprintf("bytes 100-%d/%d", d.Size-1, d.Size), part.Header().Get("Content-Range"))
	require.Equal(t, file[100:], part.Body.Bytes())

	mid := f.download(d.FileID, http.Header{"Range": {"bytes=10-19"}})
	require.Equal(t, http.StatusPartialContent, mid.Code)
	require.Equal(t, file[10:20], mid.Body.Bytes())

	head := httptest.NewRecorder()
	f.bank.ServeHTTP(head, httptest.NewRequest(http.MethodHead, "/bills/"+d.FileID, nil))
	require.Equal(t, http.StatusOK, head.Code)
	require.Empty(t, head.Body.Bytes())

	post := httptest.NewRecorder()
	f.bank.ServeHTTP(post, httptest.NewRequest(http.MethodPost, "/bills/"+d.FileID, nil))
	require.Equal(t, http.StatusMethodNotAllowed, post.Code)

	// Mounted under a prefix, as the API may be.
	mounted := httptest.NewRecorder()
	f.bank.ServeHTTP(mounted, httptest.NewRequest(http.MethodGet, "/bank/bills/"+d.FileID, nil))
	require.Equal(t, http.StatusOK, mounted.Code)

	for _, id := range []string{strings.Repeat("0", 32), "nothex", "../../etc/passwd", ""} {
		require.Equal(t, http.StatusNotFound, f.download(id, nil).Code, id)
	}

	// Another descriptor is another file, another key.
	d2 := f.bill(f.c, "2026-11-25", billTrade)
	require.NotEqual(t, d.FileID, d2.FileID)
	require.NotEqual(t, d.SM3, d2.SM3)
	require.Equal(t, d.Records, d2.Records)
	require.Equal(t, d.AmountSum, d2.AmountSum)
}

func TestBillExpiry(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.bill(f.c, "2026-11-24", billTrade)
	f.clock.Add(10*time.Minute - time.Second)
	require.Equal(t, http.StatusOK, f.download(d.FileID, nil).Code)
	f.clock.Add(time.Second)
	rec := f.download(d.FileID, nil)
	require.Equal(t, http.StatusNotFound, rec.Code)
	require.Contains(t, rec.Body.String(), "expired")
	// The business clock does not expire files: only the real one does.
	d = f.bill(f.c, "2026-11-24", billTrade)
	f.bank.AdvanceClock(48 * time.Hour)
	require.Equal(t, http.StatusOK, f.download(d.FileID, nil).Code)
}

func TestBillEncryptedRequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// f.c encrypts by default; a plain request works too.
	r := f.c.do(&treq{path: billPath, plain: true, biz: []byte(`{"bill_date":"2026-11-24","bill_type":"LEDGER"}`)})
	require.Equal(t, codeSuccess, r.code)
	require.Empty(t, r.fields["encrypt_type"])
	var v billView
	r.decode(t, &v)
	require.Equal(t, billLedger, v.BillType)
	r = f.c.call(billPath, map[string]string{"bill_date": "2026-11-24", "bill_type": "LEDGER"})
	require.Equal(t, "SM4-GCM", r.fields["encrypt_type"])
}

func TestBillFaults(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	dayOfActivity(f)
	f.bank.AdvanceClock(24 * time.Hour)
	d := f.bill(f.c, "2026-11-25", billLedger)
	clean := f.download(d.FileID, nil).Body.Bytes()

	require.NoError(t, f.bank.InjectFault(Fault{Kind: FaultBillCorrupt, Count: 2}))
	// An API call does not use up a download fault.
	f.bill(f.c, "2026-11-25", billTrade)
	for i := 0; i < 2; i++ {
		bad := f.download(d.FileID, nil).Body.Bytes()
		require.Len(t, bad, len(clean))
		var diff []int
		for j := range bad {
			if bad[j] != clean[j] {
				diff = append(diff, j)
			}
		}
		require.Equal(t, []int{len(clean) / 2}, diff, "one byte flipped, inside a segment")
		require.Greater(t, diff[0], 12)
	}
	require.Equal(t, clean, f.download(d.FileID, nil).Body.Bytes(), "then clean again")

	// Truncation needs a connection to close.
	srv := httptest.NewServer(f.bank)
	defer srv.Close()
	require.NoError(t, f.bank.InjectFault(Fault{Kind: FaultBillTruncate}))
	resp, err := http.Get(srv.URL + "/bills/" + d.FileID)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, int64(len(clean)), resp.ContentLength)
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Error(t, err, "the connection is cut")
	require.Equal(t, clean[:len(clean)/2], got, "after half of the bytes")
	// The resume gets the rest.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/bills/"+d.FileID, nil)
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-", len(got)))
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	rest, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusPartialContent, resp.StatusCode)
	require.Equal(t, clean, append(got, rest...))

	// A truncated resume cuts half of what it carries.
	require.NoError(t, f.bank.InjectFault(Fault{Kind: FaultBillTruncate}))
	req.Header.Set("Range", "bytes=100-")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	got, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Error(t, err)
	require.Equal(t, clean[100:100+(len(clean)-100)/2], got)

	// The control API takes them, and refuses what does not apply.
	for _, body := range []string{`{"kind":"bill_corrupt","path":"payment/pay"}`, `{"kind":"bill_truncate","latency_ms":5}`, `{"kind":"bill_truncate","count":-1}`} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/sandbox/faults", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Host = "127.0.0.1" // the control API answers loopback only
		f.bank.ServeHTTP(rec, req)
		require.Equal(t, http.StatusBadRequest, rec.Code, body)
	}
	rec := httptest.NewRecorder()
	req = httptest.NewRequest(http.MethodPost, "/sandbox/faults", strings.NewReader(`{"kind":"bill_corrupt","count":1}`))
	req.Header.Set("Content-Type", "application/json")
	req.Host = "127.0.0.1"
	f.bank.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.NotEqual(t, clean, f.download(d.FileID, nil).Body.Bytes())

	rec = httptest.NewRecorder()
	req = httptest.NewRequest(http.MethodPost, "/sandbox/faults", strings.NewReader(`{"kind":"bill_melt"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Host = "127.0.0.1"
	f.bank.ServeHTTP(rec, req)
	require.Equal(t, http.StatusBadRequest, rec.Code)
	var e map[string]string
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e))
	require.Contains(t, e["error"], "bill_truncate", "the error lists the bill kinds")
}

func TestBillCloseRemovesFiles(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.bill(f.c, "2026-11-24", billTrade)
	file := f.bank.bills.get(d.FileID, f.clock.Now())
	require.NotNil(t, file)
	require.FileExists(t, file.path)
	require.NoError(t, f.bank.Close())
	require.NoFileExists(t, file.path)
	require.Equal(t, http.StatusNotFound, f.download(d.FileID, nil).Code)
}
