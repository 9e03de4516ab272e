package sandbox

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/rules"
	"github.com/xinyun-open/ewallet-go/sign"
)

// The validity of an H5 link (docs/protocol.md): from timestamp − 300 s,
// for a merchant whose clock runs ahead, to timestamp + 10 minutes, on the
// bank's real clock.
const (
	h5LinkTTL  = 10 * time.Minute
	h5LinkSkew = 300 * time.Second
)

// h5Link is a verified link: who sent the user, to which page, with what.
type h5Link struct {
	page       string
	appID      string
	merchantID string
	userID     string
	nonce      string
	timestamp  time.Time
	returnURL  string
	notifyURL  string // "" for the merchant's own
	accountNo  string
	outTradeNo string
	amount     int64 // fen; 0 when the link has none
	subject    string
	prefill    h5Prefill
}

// h5Prefill is the open page's data once decrypted. The values only fill
// the form: the user may correct them, and the bank checks them when the
// form is submitted (a prefilled card number that fails Luhn is the user's
// to fix, not a bad link).
type h5Prefill struct {
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
	Mobile   string `json:"mobile"`
	CardNo   string `json:"card_no"`
}

// who is the merchant on whose behalf the flow runs. The link's notify_url,
// when given, replaces the merchant's for every notification of the flow,
// as notify_url does for an API call.
func (l *h5Link) who(b *Bank) caller {
	c := caller{AppID: l.appID, MerchantID: l.merchantID, NotifyURL: l.notifyURL}
	if c.NotifyURL == "" {
		if m := b.st.merchant(l.appID); m != nil {
			c.NotifyURL = m.NotifyURL
		}
	}
	return c
}

// h5Field is one query field a page's link may carry.
type h5Field struct {
	name     string
	required bool
	check    func(string) error
}

// h5LinkFields lists the fields of a page's link besides the envelope
// (app_id, merchant_id, timestamp, nonce, sign_type, sign). A field not
// listed is refused, as an unknown biz_content field is: a typo in a
// hand-built link is caught, not ignored.
func h5LinkFields(page string) ([]h5Field, bool) {
	common := []h5Field{
		{"user_id", true, rules.UserID},
		{"return_url", true, rules.CallbackURL},
		{"notify_url", false, rules.CallbackURL},
	}
	account := h5Field{"account_no", true, rules.AccountNo}
	switch page {
	case "open":
		// Only the open page takes personal data, and only encrypted.
		return append(common,
			h5Field{"data", false, nil}, h5Field{"encrypt_type", false, nil},
			h5Field{"encrypt_key", false, nil}, h5Field{"encrypt_key_id", false, nil}), true
	case "wallet", "card", "password", "close":
		return append(common, account), true
	case "recharge", "withdraw":
		return append(common, account,
			h5Field{"amount", false, h5AmountRule},
			h5Field{"out_trade_no", false, rules.OrderNo}), true
	case "pay":
		return append(common, account,
			h5Field{"out_trade_no", true, rules.OrderNo},
			h5Field{"amount", true, h5AmountRule},
			h5Field{"subject", true, h5SubjectRule}), true
	}
	return nil, false
}

// h5AmountRule reads an amount in fen written as the SDK writes it: a
// plain decimal integer, no sign, no leading zero.
func h5AmountRule(s string) error {
	_, err := parseFen(s)
	return err
}

func parseFen(s string) (int64, error) {
	if s == "" || s[0] == '0' || len(s) > 16 {
		return 0, errors.New("must be an integer number of fen")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("must be an integer number of fen")
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, errors.New("must be an integer number of fen")
	}
	return n, rules.Amount(n)
}

// h5SubjectRule is the API's rule for subject (docs/protocol.md).
func h5SubjectRule(s string) error { return rules.Text(s, 128) }

// paramErr is the 参数错误 page for one field.
func paramErr(field, why string) *h5Error {
	return &h5Error{kind: h5ErrParam, field: field, why: why}
}

// verifyLink checks a link before anything renders, in the order of the
// gateway (docs/protocol.md): form of the envelope fields → app →
// merchant → validity window → signature → the page's fields → data →
// nonce, which is spent only by a link that passed everything else, so that
// nobody but the merchant's own signed link can use up its nonce.
func (s *h5Site) verifyLink(page, rawQuery string) (*h5Link, *h5Error) {
	spec, ok := h5LinkFields(page)
	if !ok {
		return nil, &h5Error{kind: h5ErrPage}
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, paramErr("query", "无法解析")
	}
	allowed := map[string]bool{"app_id": true, "merchant_id": true, "timestamp": true, "nonce": true, "sign_type": true, "sign": true}
	for _, f := range spec {
		allowed[f.name] = true
	}
	fields := make(map[string]string, len(q))
	for k, v := range q {
		if !allowed[k] {
			return nil, paramErr(k, "不是此页面的参数")
		}
		if len(v) != 1 {
			// Which of two values was signed? Neither is trusted.
			return nil, paramErr(k, "重复出现")
		}
		fields[k] = v[0]
	}

	// The envelope.
	for _, k := range []string{"app_id", "merchant_id", "timestamp", "nonce", "sign_type"} {
		if fields[k] == "" {
			return nil, paramErr(k, "缺失")
		}
	}
	if fields["sign_type"] != "SM2" {
		return nil, paramErr("sign_type", "须为 SM2")
	}
	ts, err := parseTime(fields["timestamp"])
	if err != nil {
		return nil, paramErr("timestamp", "须为 yyyy-MM-dd HH:mm:ss（北京时间）")
	}
	if rules.Nonce(fields["nonce"]) != nil {
		return nil, paramErr("nonce", "须为16至32位字母或数字")
	}
	m := s.b.st.merchant(fields["app_id"])
	if m == nil || fields["merchant_id"] != m.MerchantID {
		return nil, &h5Error{kind: h5ErrMerchant}
	}
	now := s.b.now()
	if now.Before(ts.Add(-h5LinkSkew)) {
		return nil, &h5Error{kind: h5ErrEarly}
	}
	if now.After(ts.Add(h5LinkTTL)) {
		return nil, &h5Error{kind: h5ErrExpired}
	}
	if fields["sign"] == "" || m.PublicKey.VerifyCanonical("/h5/"+page, fields, fields["sign"]) != nil {
		return nil, &h5Error{kind: h5ErrSignature}
	}

	// The page's own fields, now that the merchant is known to have sent
	// them.
	for _, f := range spec {
		v := fields[f.name]
		switch {
		case v == "" && f.required:
			return nil, paramErr(f.name, "缺失")
		case v == "" || f.check == nil:
		case f.check(v) != nil:
			if f.name == "return_url" || f.name == "notify_url" {
				return nil, paramErr(f.name, "须为 https 地址（本机回环地址可用 http）")
			}
			return nil, paramErr(f.name, "格式不正确")
		}
	}
	l := &h5Link{
		page: page, appID: m.AppID, merchantID: m.MerchantID, userID: fields["user_id"],
		nonce: fields["nonce"], timestamp: ts, returnURL: fields["return_url"], notifyURL: fields["notify_url"],
		accountNo: fields["account_no"], outTradeNo: fields["out_trade_no"], subject: fields["subject"],
	}
	if a := fields["amount"]; a != "" {
		l.amount, _ = parseFen(a) // checked above
	}
	if e := s.openData(fields, &l.prefill, now); e != nil {
		return nil, e
	}

	if !s.nonces.spend(m.AppID, l.nonce, ts.Add(h5LinkTTL), now) {
		return nil, &h5Error{kind: h5ErrReused}
	}
	return l, nil
}

// openData decrypts the open page's prefill: SM4-GCM under the key envelope
// for the bank key encrypt_key_id names, with AAD = the link's nonce, into
// a JSON object of the four prefill fields (as strings).
func (s *h5Site) openData(f map[string]string, into *h5Prefill, now time.Time) *h5Error {
	switch f["encrypt_type"] {
	case "":
		for _, k := range []string{"data", "encrypt_key", "encrypt_key_id"} {
			if f[k] != "" {
				return paramErr(k, "仅在 encrypt_type 为 SM4-GCM 时使用")
			}
		}
		return nil
	case encryptSM4GCM:
	default:
		return paramErr("encrypt_type", "须为 SM4-GCM")
	}
	for _, k := range []string{"data", "encrypt_key", "encrypt_key_id"} {
		if f[k] == "" {
			return paramErr(k, "缺失")
		}
	}
	key, kerr := s.b.keys.decrypter(f["encrypt_key_id"], now)
	if kerr != nil {
		return paramErr("encrypt_key_id", "不是银行当前的密钥")
	}
	plain, err := sign.Open(context.Background(), key, f["encrypt_key"], f["data"], f["nonce"])
	if err != nil {
		return paramErr("data", "无法解密（密钥、nonce 或密文不符）")
	}
	if e := decodeBiz(plain, into); e != nil {
		return paramErr("data", "内容不正确（须为 name、id_number、mobile、card_no 组成的 JSON 对象）")
	}
	return nil
}

// parseYuan reads an amount the user typed in 元 ("100", "0.5", "12.34",
// with an optional ¥ and thousands commas) into fen, exactly: no floats.
func parseYuan(s string) (int64, bool) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "¥"))
	s = strings.ReplaceAll(s, ",", "")
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || len(whole) > 14 || (dot && (len(frac) == 0 || len(frac) > 2)) {
		return 0, false
	}
	var n int64
	for _, c := range whole + frac {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	for _, c := range whole {
		n = n*10 + int64(c-'0')
	}
	frac += strings.Repeat("0", 2-len(frac))
	n = n*100 + int64(frac[0]-'0')*10 + int64(frac[1]-'0')
	return n, n > 0
}

// yuan writes fen as 元 with thousands separators: 123456 → "1,234.56".
func yuan(fen int64) string {
	neg := fen < 0
	if neg {
		fen = -fen
	}
	whole := strconv.FormatInt(fen/100, 10)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	b.WriteByte('.')
	b.WriteString(strconv.FormatInt(fen%100/10, 10))
	b.WriteString(strconv.FormatInt(fen%10, 10))
	return b.String()
}
