package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Money kinds, as the tests name the five money calls.
const (
	kindRecharge = "recharge"
	kindWithdraw = "withdraw"
	kindPay      = "pay"
	kindTransfer = "transfer"
	kindRefund   = "refund"
)

var moneyKinds = []string{kindRecharge, kindWithdraw, kindPay, kindTransfer, kindRefund}

// order is a money movement a test made or tried: what the bank's books
// must show for it when it was made, and must not show when it was not.
type order struct {
	Kind    string `json:"kind"`
	No      string `json:"no"`                // out_trade_no, or out_refund_no for a refund
	PaidNo  string `json:"paid_no,omitempty"` // refund: the PAY order's out_trade_no
	Account string `json:"account"`           // the account it moves money of (refund: the paying account)
	Payee   string `json:"payee,omitempty"`   // transfer
	Amount  int64  `json:"amount"`
}

// entryKey names one ledger entry: an account, an entry type and the order
// (or refund) number it carries.
type entryKey struct {
	Account, Type, No string
}

// entries are the ledger entries a made order leaves, with their signed
// amounts.
func (o order) entries() map[entryKey]int64 {
	switch o.Kind {
	case kindRecharge:
		return map[entryKey]int64{{o.Account, "RECHARGE", o.No}: o.Amount}
	case kindWithdraw:
		return map[entryKey]int64{{o.Account, "WITHDRAW", o.No}: -o.Amount}
	case kindPay:
		return map[entryKey]int64{{o.Account, "PAY", o.No}: -o.Amount}
	case kindTransfer:
		return map[entryKey]int64{{o.Account, "TRANSFER_OUT", o.No}: -o.Amount, {o.Payee, "TRANSFER_IN", o.No}: o.Amount}
	case kindRefund:
		return map[entryKey]int64{{o.Account, "REFUND", o.No}: o.Amount}
	}
	panic("chaos: unknown order kind " + o.Kind)
}

// ledgerEntry is one entry of GET /sandbox/accounts/{no}/ledger
// (docs/protocol.md, section 11.3).
type ledgerEntry struct {
	Time         string `json:"time"`
	Type         string `json:"type"`
	Amount       int64  `json:"amount"`
	BalanceAfter int64  `json:"balance_after"`
	OutTradeNo   string `json:"out_trade_no"`
	OutRefundNo  string `json:"out_refund_no"`
}

func (e ledgerEntry) key(account string) entryKey {
	no := e.OutTradeNo
	if e.Type == "REFUND" {
		no = e.OutRefundNo
	}
	return entryKey{account, e.Type, no}
}

// fetchLedger reads an account's ledger from the sandbox's control API, over
// HTTP, so that it works for a sandbox in another process.
func fetchLedger(ctx context.Context, baseURL, accountNo string) ([]ledgerEntry, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/sandbox/accounts/"+url.PathEscape(accountNo)+"/ledger", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET ledger of %s: HTTP %d: %s", accountNo, resp.StatusCode, b)
	}
	var out struct {
		Entries []ledgerEntry `json:"entries"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("GET ledger of %s: %w", accountNo, err)
	}
	return out.Entries, nil
}

// books is what the bank's ledgers say, next to what a test expects.
type books struct {
	ledgers map[string][]ledgerEntry
}

// readBooks fetches the ledgers of accounts.
func readBooks(ctx context.Context, baseURL string, accounts []string) (*books, error) {
	b := &books{ledgers: map[string][]ledgerEntry{}}
	for _, a := range accounts {
		l, err := fetchLedger(ctx, baseURL, a)
		if err != nil {
			return nil, err
		}
		b.ledgers[a] = l
	}
	return b, nil
}

// balance is an account's balance after its last ledger entry (0 for none:
// an account opens empty).
func (b *books) balance(account string) int64 {
	l := b.ledgers[account]
	if len(l) == 0 {
		return 0
	}
	return l[len(l)-1].BalanceAfter
}

// entriesOf counts the ledger entries that carry an order or refund number.
func (b *books) entriesOf(no string) int {
	n := 0
	for a, l := range b.ledgers {
		for _, e := range l {
			if e.key(a).No == no {
				n++
			}
		}
	}
	return n
}

// check compares the ledgers with the orders a test knows were made and
// those it knows were not: every made order's entries appear exactly once
// with their amounts, no entry belongs to anything else, no entry carries a
// number of notMade, each ledger's balances chain (balance_after is the
// previous one plus the amount), and each account's balance is the sum of
// the made orders' effects on it. It returns one line per problem.
func (b *books) check(made []order, notMade []string) []string {
	var problems []string
	want := map[entryKey]int64{}
	for _, o := range made {
		for k, amt := range o.entries() {
			if _, dup := want[k]; dup {
				problems = append(problems, fmt.Sprintf("the test lists order %s twice", k.No))
			}
			want[k] = amt
		}
	}
	got := map[entryKey]int{}
	sums := map[string]int64{}
	for a, l := range b.ledgers {
		var prev int64
		for i, e := range l {
			k := e.key(a)
			got[k]++
			if amt, ok := want[k]; !ok {
				problems = append(problems, fmt.Sprintf("account %s: ledger entry %s %s of %d fen belongs to no order the test made", a, e.Type, k.No, e.Amount))
			} else if amt != e.Amount {
				problems = append(problems, fmt.Sprintf("account %s: ledger entry %s %s is %d fen, the order says %d", a, e.Type, k.No, e.Amount, amt))
			}
			if e.BalanceAfter != prev+e.Amount {
				problems = append(problems, fmt.Sprintf("account %s: ledger entry %d (%s %s) leaves %d fen after %d%+d", a, i, e.Type, k.No, e.BalanceAfter, prev, e.Amount))
			}
			prev = e.BalanceAfter
		}
		sums[a] = prev
	}
	for k := range want {
		switch n := got[k]; {
		case n == 0:
			problems = append(problems, fmt.Sprintf("order %s: no %s entry on account %s (lost money)", k.No, k.Type, k.Account))
		case n > 1:
			problems = append(problems, fmt.Sprintf("order %s: %d %s entries on account %s (money moved %d times)", k.No, n, k.Type, k.Account, n))
		}
	}
	for k, n := range got {
		if n > 1 {
			if _, ok := want[k]; !ok {
				problems = append(problems, fmt.Sprintf("account %s: %d %s entries for %s", k.Account, n, k.Type, k.No))
			}
		}
	}
	for _, no := range notMade {
		if n := b.entriesOf(no); n > 0 {
			problems = append(problems, fmt.Sprintf("order %s should not have been made, and has %d ledger entries", no, n))
		}
	}
	// Balances against the made orders' effects.
	expect := map[string]int64{}
	for k, amt := range want {
		expect[k.Account] += amt
	}
	for a := range b.ledgers {
		if expect[a] != sums[a] {
			problems = append(problems, fmt.Sprintf("account %s: balance %d fen, the made orders add up to %d", a, sums[a], expect[a]))
		}
	}
	sort.Strings(problems)
	return problems
}

// kindCounts formats a map of counts in a stable order.
func kindCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	for i, k := range keys {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "%s %d", k, m[k])
	}
	return sb.String()
}
