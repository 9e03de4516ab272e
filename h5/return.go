package h5

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/wire"
)

// Result is how a page flow ended.
type Result string

// Results of a page flow.
const (
	ResultSuccess   Result = "SUCCESS"
	ResultFailed    Result = "FAILED"
	ResultCancelled Result = "CANCELLED"
)

// Return is a verified return redirect of the bank. It is advisory: the
// user's browser carried it, so confirm the outcome with the notification or
// a query (payment.Query by OutTradeNo, wallet.Client.Query or
// account.Get) before you act on it.
type Return struct {
	Page       string    // the page that ended: "open", "pay", ...
	Result     Result    // SUCCESS, FAILED or CANCELLED
	OutTradeNo string    // recharge, withdraw and pay
	AccountNo  string    // the other pages (open: the new account, if any)
	Timestamp  time.Time // when the bank signed it
	SignKeyID  string    // the bank key that signed it
}

// ErrBadReturn is wrapped by every refusal of VerifyReturn.
var ErrBadReturn = errors.New("h5: bad return redirect")

// maxReturnSkew is the window around the client's clock in which a return's
// timestamp is accepted, as for notifications.
const maxReturnSkew = 300 * time.Second

// VerifyReturn checks the bank's redirect to return_url: the signature
// over canonical("/return", fields) under the trusted bank key that
// sign_key_id names, and the timestamp within 300 s of the client's clock.
// Every refusal wraps ErrBadReturn. The result is advisory; see Return.
func (b *Builder) VerifyReturn(u *url.URL) (*Return, error) {
	bad := func(format string, a ...any) (*Return, error) {
		return nil, fmt.Errorf("%w: "+format, append([]any{ErrBadReturn}, a...)...)
	}
	if u == nil {
		return bad("nil URL")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return bad("query does not parse")
	}
	// Only these fields are signed; the merchant's own parameters in
	// return_url are not.
	fields := make(map[string]string, 7)
	for _, k := range [...]string{"page", "result", "out_trade_no", "account_no", "timestamp", "sign_key_id", "sign_type"} {
		switch v := q[k]; len(v) {
		case 0:
		case 1:
			fields[k] = v[0]
		default:
			return bad("%s appears %d times", k, len(v))
		}
	}
	sig := q.Get("sign")
	if sig == "" || len(q["sign"]) != 1 {
		return bad("no single sign")
	}
	key, ok := b.c.BankKey(fields["sign_key_id"])
	if !ok {
		return bad("sign_key_id %q is not a trusted bank key", fields["sign_key_id"])
	}
	if err := key.VerifyCanonical("/return", fields, sig); err != nil {
		return bad("signature does not verify")
	}
	if fields["sign_type"] != "SM2" {
		return bad("sign_type %q", fields["sign_type"])
	}
	ts, err := wire.Parse(fields["timestamp"])
	if err != nil {
		return bad("timestamp: %v", err)
	}
	if skew := b.now().Sub(ts); skew > maxReturnSkew || skew < -maxReturnSkew {
		return bad("timestamp is %v from this clock", skew.Round(time.Second))
	}
	r := &Return{Page: fields["page"], Result: Result(fields["result"]), OutTradeNo: fields["out_trade_no"],
		AccountNo: fields["account_no"], Timestamp: ts, SignKeyID: fields["sign_key_id"]}
	switch r.Result {
	case ResultSuccess, ResultFailed, ResultCancelled:
	default:
		return bad("result %q", r.Result)
	}
	return r, nil
}
