package statement

import (
	"cmp"
	"fmt"
	"strings"
	"time"
	"unsafe"
)

// lineParser turns CSV fields into typed records, checking each column's
// rule and the statement's order, and keeps the count and the sum that the
// descriptor must match.
type lineParser struct {
	day     time.Time // 00:00 UTC+8 of the statement's day
	dayText string    // "yyyy-MM-dd "
	records int64
	sum     int64
	max     int64 // the descriptor's records: more lines are refused at once

	// The previous line's sort key, copied: the line itself may be gone.
	prevSec      int64
	prevTradeNo  []byte
	prevRefundNo []byte
}

func newLineParser(d *Descriptor) *lineParser {
	return &lineParser{day: d.Date, dayText: d.Date.Format(dateLayout) + " ", max: d.Records, prevSec: -1}
}

// count adds a line's amount, refusing more lines than the descriptor's
// records and a sum that overflows.
func (p *lineParser) count(line, amount int64) error {
	if p.records == p.max {
		return fmt.Errorf("%w: line %d is one more than the descriptor's %d records", ErrRecords, line, p.max)
	}
	s := p.sum + amount
	if (amount > 0 && s < p.sum) || (amount < 0 && s > p.sum) {
		return &CSVError{Line: line, Column: "amount", Reason: "the sum of the column overflows int64"}
	}
	p.records++
	p.sum = s
	return nil
}

// trade parses a TRADE line: time, type, out_trade_no, trade_no,
// out_refund_no, refund_no, account_no, payee_account_no, amount, status.
func (p *lineParser) trade(f []string, line int64, clean bool) (TradeRecord, error) {
	var r TradeRecord
	sec, err := p.time(f[0], line)
	if err != nil {
		return r, err
	}
	r.Time = p.day.Add(time.Duration(sec) * time.Second)
	// Enums take the package's constants, never the field's text: the
	// line may be a borrowed view that the next read overwrites.
	switch TradeType(f[1]) {
	case TradeRecharge:
		r.Type = TradeRecharge
	case TradeWithdraw:
		r.Type = TradeWithdraw
	case TradePay:
		r.Type = TradePay
	case TradeTransfer:
		r.Type = TradeTransfer
	case TradeRefund:
		r.Type = TradeRefund
	default:
		return r, &CSVError{Line: line, Column: "type", Reason: "must be RECHARGE, WITHDRAW, PAY, TRANSFER or REFUND"}
	}
	r.OutTradeNo, r.TradeNo, r.OutRefundNo, r.RefundNo = f[2], f[3], f[4], f[5]
	r.AccountNo, r.PayeeAccountNo = f[6], f[7]
	refund := r.Type == TradeRefund
	typ := string(r.Type)
	if err := cmp.Or(
		idField(line, "out_trade_no", r.OutTradeNo, true, typ, clean),
		idField(line, "trade_no", r.TradeNo, true, typ, clean),
		idField(line, "out_refund_no", r.OutRefundNo, refund, typ, clean),
		idField(line, "refund_no", r.RefundNo, refund, typ, clean),
		idField(line, "account_no", r.AccountNo, true, typ, clean),
		idField(line, "payee_account_no", r.PayeeAccountNo, r.Type == TradeTransfer, typ, clean),
	); err != nil {
		return r, err
	}
	amount, ok := parseInt(f[8])
	if !ok {
		return r, &CSVError{Line: line, Column: "amount", Reason: "is not an integer"}
	}
	if amount <= 0 {
		return r, &CSVError{Line: line, Column: "amount", Reason: "must be positive"}
	}
	r.Amount = amount
	switch s := Status(f[9]); {
	case s == StatusSuccess:
		r.Status = StatusSuccess
	case s == StatusFailed && !refund:
		r.Status = StatusFailed
	case s == StatusClosed && !refund:
		r.Status = StatusClosed
	case refund:
		return r, &CSVError{Line: line, Column: "status", Reason: "must be SUCCESS on a REFUND line (only successful refunds are listed)"}
	default:
		return r, &CSVError{Line: line, Column: "status", Reason: "must be SUCCESS, FAILED or CLOSED"}
	}
	// Sorted by time, then trade_no, then refund_no: a line that does not
	// come after the previous one is out of order or a duplicate.
	if c := cmpTrade(sec, r.TradeNo, r.RefundNo, p.prevSec, p.prevTradeNo, p.prevRefundNo); c <= 0 {
		return r, &CSVError{Line: line, Reason: "is not after the line before it in the order time, trade_no, refund_no"}
	}
	p.prevSec = sec
	p.prevTradeNo = append(p.prevTradeNo[:0], r.TradeNo...)
	p.prevRefundNo = append(p.prevRefundNo[:0], r.RefundNo...)
	return r, p.count(line, amount)
}

func cmpTrade(sec int64, tradeNo, refundNo string, psec int64, ptradeNo, prefundNo []byte) int {
	switch {
	case sec != psec:
		if sec < psec {
			return -1
		}
		return 1
	case tradeNo != string(ptradeNo):
		return strings.Compare(tradeNo, view(ptradeNo))
	default:
		return strings.Compare(refundNo, view(prefundNo))
	}
}

// view is b as a string without a copy, for a comparison while b does not
// change.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// ledger parses a LEDGER line: time, account_no, type, amount,
// balance_after, out_trade_no, out_refund_no.
func (p *lineParser) ledger(f []string, line int64, clean bool) (LedgerRecord, error) {
	var r LedgerRecord
	sec, err := p.time(f[0], line)
	if err != nil {
		return r, err
	}
	if sec < p.prevSec {
		return r, &CSVError{Line: line, Column: "time", Reason: "is before the line before it: LEDGER lines are sorted by time"}
	}
	p.prevSec = sec
	r.Time = p.day.Add(time.Duration(sec) * time.Second)
	r.AccountNo = f[1]
	if err := idField(line, "account_no", r.AccountNo, true, "", clean); err != nil {
		return r, err
	}
	var in bool
	switch LedgerType(f[2]) {
	case LedgerRecharge:
		r.Type, in = LedgerRecharge, true
	case LedgerTransferIn:
		r.Type, in = LedgerTransferIn, true
	case LedgerRefund:
		r.Type, in = LedgerRefund, true
	case LedgerWithdraw:
		r.Type = LedgerWithdraw
	case LedgerPay:
		r.Type = LedgerPay
	case LedgerTransferOut:
		r.Type = LedgerTransferOut
	default:
		return r, &CSVError{Line: line, Column: "type", Reason: "must be RECHARGE, WITHDRAW, PAY, TRANSFER_OUT, TRANSFER_IN or REFUND"}
	}
	amount, ok := parseInt(f[3])
	switch {
	case !ok:
		return r, &CSVError{Line: line, Column: "amount", Reason: "is not an integer"}
	case in && amount <= 0:
		return r, &CSVError{Line: line, Column: "amount", Reason: "must be positive on a " + string(r.Type) + " line (money in)"}
	case !in && amount >= 0:
		return r, &CSVError{Line: line, Column: "amount", Reason: "must be negative on a " + string(r.Type) + " line (money out)"}
	}
	r.Amount = amount
	bal, ok := parseInt(f[4])
	if !ok || bal < 0 {
		return r, &CSVError{Line: line, Column: "balance_after", Reason: "is not a non-negative integer"}
	}
	r.BalanceAfter = bal
	r.OutTradeNo, r.OutRefundNo = f[5], f[6]
	if err := idField(line, "out_trade_no", r.OutTradeNo, true, "", clean); err != nil {
		return r, err
	}
	if err := idField(line, "out_refund_no", r.OutRefundNo, r.Type == LedgerRefund, string(r.Type), clean); err != nil {
		return r, err
	}
	return r, p.count(line, amount)
}

// time reads a line's time, which must fall on the statement's day.
func (p *lineParser) time(s string, line int64) (int64, error) {
	if len(s) != len(wireLayout) || s[10] != ' ' {
		return 0, &CSVError{Line: line, Column: "time", Reason: "is not yyyy-MM-dd HH:mm:ss"}
	}
	sec, ok := parseClock(s[11:])
	if !ok {
		return 0, &CSVError{Line: line, Column: "time", Reason: "is not yyyy-MM-dd HH:mm:ss"}
	}
	if s[:11] != p.dayText {
		if _, err := parseDate(s[:10]); err != nil {
			return 0, &CSVError{Line: line, Column: "time", Reason: "is not yyyy-MM-dd HH:mm:ss"}
		}
		return 0, &CSVError{Line: line, Column: "time", Reason: "is not on the statement's day " + p.dayText[:10]}
	}
	return sec, nil
}

const wireLayout = "2006-01-02 15:04:05"

// idField checks an identifier column: present when want, empty
// otherwise, and free of control characters (known when the line is clean).
func idField(line int64, col, v string, want bool, typ string, clean bool) error {
	switch {
	case want && v == "":
		return &CSVError{Line: line, Column: col, Reason: "is required"}
	case !want && v != "":
		if typ != "" {
			return &CSVError{Line: line, Column: col, Reason: "must be empty on a " + typ + " line"}
		}
		return &CSVError{Line: line, Column: col, Reason: "must be empty"}
	case clean:
		return nil
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c == 0x7f {
			return &CSVError{Line: line, Column: col, Reason: "holds a control character"}
		}
	}
	return nil
}
