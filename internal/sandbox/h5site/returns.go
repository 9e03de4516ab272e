package h5site

import (
	"net/url"
	"strings"

	"github.com/xinyun-open/ewallet-go/internal/wire"
)

// returnPath is what the return signature covers (docs/protocol.md,
// section 2).
const returnPath = "/return"

// signedReturnFields are the names the bank signs on a return redirect
// (section 9): a parameter of the merchant's own return_url with one of
// these names is dropped, so that the redirect never carries a field twice
// and no unsigned value can pass for a signed one.
func signedReturnFields() []string {
	return []string{"app_id", "merchant_id", "page", "result", "out_trade_no", "account_no",
		"timestamp", "sign_key_id", "sign_type", "sign"}
}

// returnURL is the merchant's return_url with the signed result added:
// exactly app_id, merchant_id, page, result, out_trade_no or account_no,
// timestamp, sign_key_id and sign_type, and sign, the bank's signature
// over canonical("/return", those fields). app_id and merchant_id bind the
// redirect to the merchant the link came from. The merchant's own query
// parameters stay as they were, byte for byte (a ";" in them included) and
// unsigned.
func (s *Site) returnURL(l *link, result, outTradeNo, accountNo string) (string, error) {
	u, err := url.Parse(l.returnURL)
	if err != nil {
		return "", err
	}
	f := map[string]string{
		"app_id":      l.appID,
		"merchant_id": l.merchantID,
		"page":        l.page.name,
		"result":      result,
		"timestamp":   wire.Format(s.bank.Now()),
		"sign_type":   "SM2",
	}
	if outTradeNo != "" {
		f["out_trade_no"] = outTradeNo
	}
	if accountNo != "" {
		f["account_no"] = accountNo
	}
	if err := s.bank.SignReturn(f); err != nil {
		return "", err
	}
	q := url.Values{}
	for k, v := range f {
		q.Set(k, v)
	}
	signed := map[string]bool{}
	for _, k := range signedReturnFields() {
		signed[k] = true
	}
	var kept []string
	if u.RawQuery != "" {
		for _, part := range strings.Split(u.RawQuery, "&") {
			name, _, _ := strings.Cut(part, "=")
			n, err := url.QueryUnescape(name)
			if err != nil {
				n = name
			}
			// Every name the merchant reads as signed goes, even one this
			// return leaves out (account_no of a pay): a merchant's
			// account_no=… would otherwise sit beside the verified fields.
			if signed[n] {
				continue
			}
			kept = append(kept, part)
		}
	}
	u.RawQuery = strings.Join(append(kept, q.Encode()), "&")
	u.ForceQuery = false
	return u.String(), nil
}
