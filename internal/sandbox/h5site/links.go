package h5site

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/rules"
	"github.com/xinyun-open/ewallet-go/internal/wire"
)

// The validity of an H5 link (docs/protocol.md): from timestamp − 300 s,
// for a merchant whose clock runs ahead, to timestamp + 10 minutes, on the
// bank's real clock.
const (
	linkTTL  = 10 * time.Minute
	linkSkew = 300 * time.Second
)

// link is a verified link: who sent the user, to which page, with what.
type link struct {
	page       *page
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
	prefill    prefill
}

// prefill is the open page's data once decrypted. The values only fill
// the form: the user may correct them, and the bank checks them when the
// form is submitted (a prefilled card number that fails Luhn is the user's
// to fix, not a bad link).
type prefill struct {
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
	Mobile   string `json:"mobile"`
	CardNo   string `json:"card_no"`
}

// who is the merchant on whose behalf the flow runs. The link's notify_url,
// when given, replaces the merchant's for every notification of the flow,
// as notify_url does for an API call.
func (l *link) who(d Directory) Caller {
	c := Caller{AppID: l.appID, MerchantID: l.merchantID, NotifyURL: l.notifyURL}
	if c.NotifyURL == "" {
		if m, ok := d.Merchant(l.appID); ok {
			c.NotifyURL = m.NotifyURL
		}
	}
	return c
}

// envelopeFields are the fields of every link that the signature itself
// needs; commonFields are the other fields every page takes.
func envelopeFields() []string {
	return []string{"app_id", "merchant_id", "timestamp", "nonce", "sign_type"}
}

func commonFields() []linkField {
	return []linkField{
		{"user_id", true, rules.UserID},
		{"return_url", true, rules.CallbackURL},
		{"notify_url", false, rules.CallbackURL},
	}
}

// dataFields carry the encrypted prefill of a page that takes data.
func dataFields() []string { return []string{"data", "encrypt_type", "encrypt_key", "encrypt_key_id"} }

// amountRule reads an amount in fen written as the SDK writes it: a plain
// decimal integer, no sign, no leading zero.
func amountRule(s string) error {
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

// paramErr is the 参数错误 page for one field of the protocol.
func paramErr(field, why string) *linkError {
	return &linkError{kind: errParam, field: field, why: why}
}

// verifyLink checks a link before anything renders, in the order of the
// gateway (docs/protocol.md): form of the envelope fields → app →
// merchant → validity window → signature → the page's fields → data →
// nonce, which is spent only by a link that passed everything else, so that
// nobody but the merchant's own signed link can use up its nonce.
func (s *Site) verifyLink(name, rawQuery string) (*link, *linkError) {
	p := s.pages[name]
	if p == nil {
		return nil, &linkError{kind: errPage}
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, paramErr("query", "无法解析")
	}
	spec := append(commonFields(), p.fields...)
	allowed := map[string]bool{"sign": true}
	for _, k := range envelopeFields() {
		allowed[k] = true
	}
	for _, f := range spec {
		allowed[f.name] = true
	}
	if p.data {
		for _, k := range dataFields() {
			allowed[k] = true
		}
	}
	fields := make(map[string]string, len(q))
	for k, v := range q {
		if !allowed[k] {
			if s.linkFieldNames[k] {
				return nil, paramErr(k, "不是此页面的参数")
			}
			// Not named: a name no page knows is the sender's text.
			return nil, paramErr("", "链接含有此页面不接受的参数")
		}
		if len(v) != 1 {
			// Which of two values was signed? Neither is trusted.
			return nil, paramErr(k, "重复出现")
		}
		fields[k] = v[0]
	}

	// The envelope.
	for _, k := range envelopeFields() {
		if fields[k] == "" {
			return nil, paramErr(k, "缺失")
		}
	}
	if fields["sign_type"] != "SM2" {
		return nil, paramErr("sign_type", "须为 SM2")
	}
	ts, err := time.ParseInLocation(wire.Layout, fields["timestamp"], wire.Shanghai)
	if err != nil || ts.Format(wire.Layout) != fields["timestamp"] {
		return nil, paramErr("timestamp", "须为 yyyy-MM-dd HH:mm:ss（北京时间）")
	}
	if rules.Nonce(fields["nonce"]) != nil {
		return nil, paramErr("nonce", "须为16至32位字母或数字")
	}
	m, ok := s.bank.Merchant(fields["app_id"])
	if !ok || fields["merchant_id"] != m.MerchantID {
		return nil, &linkError{kind: errMerchant}
	}
	now := s.bank.Now()
	if now.Before(ts.Add(-linkSkew)) {
		return nil, &linkError{kind: errEarly}
	}
	if now.After(ts.Add(linkTTL)) {
		return nil, &linkError{kind: errExpired}
	}
	if fields["sign"] == "" || m.PublicKey.VerifyCanonical("/h5/"+name, fields, fields["sign"]) != nil {
		return nil, &linkError{kind: errSignature}
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
	l := &link{
		page: p, appID: m.AppID, merchantID: m.MerchantID, userID: fields["user_id"],
		nonce: fields["nonce"], timestamp: ts, returnURL: fields["return_url"], notifyURL: fields["notify_url"],
		accountNo: fields["account_no"], outTradeNo: fields["out_trade_no"], subject: fields["subject"],
	}
	if a := fields["amount"]; a != "" {
		l.amount, _ = parseFen(a) // checked above
	}
	if p.data {
		if e := s.openData(fields, &l.prefill); e != nil {
			return nil, e
		}
	}

	if !s.nonces.spend(m.AppID, l.nonce, ts.Add(linkTTL), now) {
		return nil, &linkError{kind: errReused}
	}
	return l, nil
}

// openData decrypts the open page's prefill: SM4-GCM under the key envelope
// for the bank key encrypt_key_id names, with AAD = the link's nonce, into
// a JSON object of the four prefill fields (as strings).
func (s *Site) openData(f map[string]string, into *prefill) *linkError {
	switch f["encrypt_type"] {
	case "":
		for _, k := range []string{"data", "encrypt_key", "encrypt_key_id"} {
			if f[k] != "" {
				return paramErr(k, "仅在 encrypt_type 为 SM4-GCM 时使用")
			}
		}
		return nil
	case "SM4-GCM":
	default:
		return paramErr("encrypt_type", "须为 SM4-GCM")
	}
	for _, k := range []string{"data", "encrypt_key", "encrypt_key_id"} {
		if f[k] == "" {
			return paramErr(k, "缺失")
		}
	}
	plain, err := s.bank.OpenLinkData(f["encrypt_key_id"], f["encrypt_key"], f["data"], f["nonce"])
	if errors.Is(err, ErrUnknownKey) {
		return paramErr("encrypt_key_id", "不是银行当前的密钥")
	}
	if err != nil {
		return paramErr("data", "无法解密（密钥、nonce 或密文不符）")
	}
	if decodePrefill(plain, into) != nil {
		return paramErr("data", "内容不正确（须为 name、id_number、mobile、card_no 组成的 JSON 对象）")
	}
	return nil
}

// decodePrefill reads the prefill object strictly: one JSON object of the
// four fields, each a string and named once, names matched exactly.
func decodePrefill(plain []byte, into *prefill) error {
	if err := duplicateKeys(plain); err != nil {
		return err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(plain, &raw); err != nil {
		return err
	}
	for k, v := range raw {
		var s string
		if len(v) == 0 || v[0] != '"' || json.Unmarshal(v, &s) != nil {
			return errors.New("a member is not a string")
		}
		switch k {
		case "name":
			into.Name = s
		case "id_number":
			into.IDNumber = s
		case "mobile":
			into.Mobile = s
		case "card_no":
			into.CardNo = s
		default:
			return errors.New("a member is not a prefill field")
		}
	}
	return nil
}

// duplicateKeys refuses an object that names a member twice: which of the
// two would the merchant have meant?
func duplicateKeys(obj []byte) error {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return errors.New("not a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		k, _ := tok.(string)
		if seen[k] {
			return errors.New("duplicate member")
		}
		seen[k] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
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
