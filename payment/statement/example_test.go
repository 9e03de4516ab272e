package statement_test

import (
	"context"
	"fmt"
	"time"

	"github.com/xinyun-open/ewallet-go/payment/statement"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// The daily job against the sandbox bank: ask for yesterday's TRADE
// statement, download and check it while reconciling it with your books.
func Example() {
	ctx := context.Background()
	sb, stop, err := wallettest.StartServer() // the sandbox bank, in-process
	if err != nil {
		panic(err)
	}
	defer stop()
	c := sb.Client()
	acct := sb.OpenAccount(wallettest.Person())
	o := sb.Recharge(acct, 100_00)
	sb.AdvanceClock(24 * time.Hour) // the sandbox's business day ends

	st, err := statement.Fetch(ctx, c, statement.Request{Date: o.FinishedAt, Type: statement.Trade})
	if err != nil {
		panic(err) // wallet.ErrBillNotReady before the day has ended
	}
	defer st.Close()

	// Your books of the day, sorted by time: here, one recharge.
	books := func(yield func(statement.MerchantRecord, error) bool) {
		yield(statement.MerchantRecord{Time: o.FinishedAt, Type: statement.TradeRecharge,
			OutTradeNo: o.OutTradeNo, Amount: o.Amount, Status: o.Status}, nil)
	}
	report, err := st.Reconcile(books)
	if err != nil {
		panic(err) // the statement was refused: never book from it
	}
	fmt.Println(st.Complete(), report.Matched.Lines, report.Matched.Amount, report.Clean())
	// Output: true 1 10000 true
}

// Every difference comes with its kind, and the totals add up on both
// sides.
func ExampleReconcile() {
	at := time.Date(2026, 11, 24, 9, 30, 0, 0, time.FixedZone("UTC+8", 8*3600))
	bank := []statement.TradeRecord{
		{Time: at, Type: statement.TradePay, OutTradeNo: "T1", TradeNo: "B1", AccountNo: "6236880000000001", Amount: 990, Status: statement.StatusSuccess},
		{Time: at, Type: statement.TradePay, OutTradeNo: "T2", TradeNo: "B2", AccountNo: "6236880000000001", Amount: 500, Status: statement.StatusSuccess},
		{Time: at.Add(time.Hour), Type: statement.TradeWithdraw, OutTradeNo: "T3", TradeNo: "B3", AccountNo: "6236880000000001", Amount: 100, Status: statement.StatusSuccess},
	}
	books := []statement.MerchantRecord{
		{Time: at, Type: statement.TradePay, OutTradeNo: "T1", Amount: 990, Status: statement.StatusSuccess},
		// T2 timed out and was never resolved: missing from the books.
		{Time: at.Add(time.Hour), Type: statement.TradeWithdraw, OutTradeNo: "T3", Amount: 100, Status: statement.StatusProcessing},
		{Time: at.Add(2 * time.Hour), Type: statement.TradePay, OutTradeNo: "T4", Amount: 300, Status: statement.StatusSuccess},
	}
	r, err := statement.Reconcile(seq(bank), seq(books))
	if err != nil {
		panic(err)
	}
	for _, d := range r.Differences {
		no := ""
		if d.Bank != nil {
			no = d.Bank.OutTradeNo
		} else {
			no = d.Books.OutTradeNo
		}
		fmt.Println(d.Kind, no)
	}
	fmt.Println("bank", r.Bank.Lines, r.Bank.Amount, "books", r.Books.Lines, r.Books.Amount, "matched", r.Matched.Lines, r.Check())
	// Output:
	// STATUS_MISMATCH T3
	// MISSING_IN_BOOKS T2
	// MISSING_AT_BANK T4
	// bank 3 1590 books 3 1390 matched 1 <nil>
}
