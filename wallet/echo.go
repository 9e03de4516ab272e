package wallet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unsafe"

	"github.com/xinyun-open/ewallet-go/internal/wire"
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
	asked, ok := echoed(req, e.fields)
	if !ok {
		return nil // a raw request that is not an object was refused before
	}
	var answered map[string]json.RawMessage
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

// echoed reads the fields of req that the answer must repeat. The request
// may hold a face image of a megabyte: it is read in place, without a
// copy, as the SDK's requests are objects of scalars; a raw request with
// nested values is read by encoding/json.
func echoed(req []byte, fields []string) (map[string]wire.Value, bool) {
	out := make(map[string]wire.Value, len(fields))
	err := wire.MembersOf(unsafe.String(unsafe.SliceData(req), len(req)), func(name string, v wire.Value) error {
		if slices.Contains(fields, name) {
			out[name] = wire.Value{Text: strings.Clone(v.Text), String: v.String}
		}
		return nil
	})
	if err == nil {
		return out, true
	}
	var raw map[string]json.RawMessage
	if json.Unmarshal(req, &raw) != nil {
		return nil, false
	}
	clear(out)
	for _, f := range fields {
		r, ok := raw[f]
		if !ok {
			continue
		}
		var s string
		if json.Unmarshal(r, &s) == nil {
			out[f] = wire.Value{Text: s, String: true}
		} else {
			out[f] = wire.Value{Text: string(bytes.TrimSpace(r))}
		}
	}
	return out, true
}

// sameScalar reports whether an answer's value b is the asked value a:
// strings by their decoded text, numbers by their value.
func sameScalar(a wire.Value, b json.RawMessage) bool {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return false
	}
	if a.String || b[0] == '"' {
		var y string
		return a.String && json.Unmarshal(b, &y) == nil && a.Text == y
	}
	x, y := json.Number(a.Text), json.Number("")
	if json.Unmarshal(b, &y) != nil {
		return false
	}
	if xi, err := x.Int64(); err == nil {
		yi, err := y.Int64()
		return err == nil && xi == yi
	}
	return x == y
}
