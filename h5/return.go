package h5

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/core"
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
// a query (payment.Service.Query by OutTradeNo, wallet.Client.Query or
// account.Service.Query) before you act on it.
type Return struct {
	Page       string    `json:"page"`                   // the page that ended: "open", "pay", ...
	Result     Result    `json:"result"`                 // SUCCESS, FAILED or CANCELLED
	OutTradeNo string    `json:"out_trade_no,omitempty"` // recharge, withdraw and pay
	AccountNo  string    `json:"account_no,omitempty"`   // the other pages (open: the new account, if any)
	Timestamp  time.Time `json:"timestamp"`              // when the bank signed it
	SignKeyID  string    `json:"sign_key_id"`            // the bank key that signed it
}

// ErrBadReturn is wrapped by every refusal of VerifyReturn.
var ErrBadReturn = errors.New("h5: bad return redirect")

// VerifyReturn checks the bank's redirect to return_url with the one
// verifier of everything the bank signs: the signature over
// canonical("/return", fields) under the trusted bank key sign_key_id
// names, where fields are exactly the protocol's return fields (app_id,
// merchant_id, page, result, out_trade_no or account_no, timestamp,
// sign_key_id, sign_type); that app_id and merchant_id are the client's;
// and the timestamp within 300 s of the client's clock. The merchant's own
// parameters in return_url are neither signed nor read, whatever they hold
// (a ";" included): read them yourself from u, and trust them only as far
// as you would any URL. Every refusal wraps ErrBadReturn.
func (b *Builder) VerifyReturn(u *url.URL) (*Return, error) {
	bad := func(format string, a ...any) (*Return, error) {
		return nil, fmt.Errorf("%w: "+format, append([]any{ErrBadReturn}, a...)...)
	}
	if u == nil {
		return bad("nil URL")
	}
	cc, now, err := b.core()
	if err != nil {
		return nil, err
	}
	door := core.ReturnDoor()
	fields, err := signedFields(u.RawQuery, door.Fields)
	if err != nil {
		return bad("%v", err)
	}
	if b.now != nil {
		// The builder's own clock (WithClock) judges the timestamp.
		clocked := *cc
		clocked.Now = now
		cc = &clocked
	}
	v, err := cc.Verify(door, fields)
	if err != nil {
		return bad("%v", err)
	}
	r := &Return{Page: fields["page"], Result: Result(fields["result"]), OutTradeNo: fields["out_trade_no"],
		AccountNo: fields["account_no"], Timestamp: v.Timestamp, SignKeyID: v.KeyID}
	switch r.Result {
	case ResultSuccess, ResultFailed, ResultCancelled:
	default:
		return bad("result is not SUCCESS, FAILED or CANCELLED")
	}
	if !isPage(r.Page) {
		return bad("page is not one of the bank's pages")
	}
	if (r.OutTradeNo == "") == (r.AccountNo == "") {
		return bad("a return names either out_trade_no or account_no")
	}
	return r, nil
}

// signedFields reads the protocol's return fields from a raw query and
// nothing else: the merchant's own parameters may use any syntax (a ";"
// that url.ParseQuery refuses), and only the bank's fields are signed. A
// signed field that appears twice or does not unescape is refused.
func signedFields(rawQuery string, names []string) (map[string]string, error) {
	fields := make(map[string]string, len(names))
	for _, pair := range strings.Split(rawQuery, "&") {
		rawKey, rawValue, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(rawKey)
		if err != nil || !slices.Contains(names, key) {
			continue // not one of the bank's fields
		}
		if _, dup := fields[key]; dup {
			return nil, fmt.Errorf("%s appears twice", key)
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			return nil, fmt.Errorf("%s is not URL-encoded", key)
		}
		fields[key] = value
	}
	return fields, nil
}
