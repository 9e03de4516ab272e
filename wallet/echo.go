package wallet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// echo is what the answer of an API must repeat from its request: the
// order and refund numbers, accounts and amounts it acts on, and the order
// type the API makes (docs/protocol.md, section 3.2). An answer that names
// another order or amount does not answer this request, whoever signed it.
type echo struct {
	fields []string
	typ    OrderType // the order's type, for the APIs that make orders
}

var echoes = map[string]echo{
	"payment/recharge":     {fields: []string{"out_trade_no", "account_no", "amount"}, typ: OrderRecharge},
	"payment/withdraw":     {fields: []string{"out_trade_no", "account_no", "amount"}, typ: OrderWithdraw},
	"payment/pay":          {fields: []string{"out_trade_no", "account_no", "amount"}, typ: OrderPay},
	"payment/transfer":     {fields: []string{"out_trade_no", "account_no", "payee_account_no", "amount"}, typ: OrderTransfer},
	"payment/refund":       {fields: []string{"out_trade_no", "out_refund_no", "amount"}},
	"payment/query":        {fields: []string{"out_trade_no"}},
	"payment/refund/query": {fields: []string{"out_refund_no"}},
	"account/open":         {fields: []string{"user_id"}},
	"account/query":        {fields: []string{"account_no"}},
	"bill/download":        {fields: []string{"bill_date", "bill_type"}},
}

// checkEcho compares an answer's payload with its request for the APIs of
// echoes. Both are JSON objects; values are compared as JSON scalars.
func checkEcho(path string, req, payload []byte) error {
	e, ok := echoes[path]
	if !ok {
		return nil
	}
	var asked, answered map[string]json.RawMessage
	if err := json.Unmarshal(req, &asked); err != nil {
		return nil // a raw request that is not an object was refused before
	}
	if err := json.Unmarshal(payload, &answered); err != nil {
		return errors.New("biz_content is not a JSON object")
	}
	for _, f := range e.fields {
		want, ok := asked[f]
		if !ok {
			continue // not asked (a raw request): nothing to compare
		}
		if !sameScalar(want, answered[f]) {
			return fmt.Errorf("the answer's %s is not the request's: it does not answer this request", f)
		}
	}
	if e.typ != "" {
		var typ OrderType
		if err := json.Unmarshal(answered["type"], &typ); err != nil || typ != e.typ {
			return fmt.Errorf("the answer's order type is not %s", e.typ)
		}
	}
	return nil
}

// sameScalar reports whether two JSON scalars are equal: strings by their
// decoded text, numbers by their value.
func sameScalar(a, b json.RawMessage) bool {
	a, b = bytes.TrimSpace(a), bytes.TrimSpace(b)
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	if a[0] == '"' || b[0] == '"' {
		var x, y string
		return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && x == y
	}
	var x, y json.Number
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	if xi, err := x.Int64(); err == nil {
		yi, err := y.Int64()
		return err == nil && xi == yi
	}
	return x == y
}
