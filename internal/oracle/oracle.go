// Package oracle is an independent reading of the protocol's checks, for
// tests and fuzz targets: its own canonical string, signature check and
// the rules of answers, notifications and return redirects
// (docs/protocol.md, sections 2, 3.2, 9 and 10), written again so that a
// test does not share a mistake with the code it checks. It is not used by
// the SDK itself.
package oracle

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/vectors"
	"github.com/xinyun-open/ewallet-go/sign"
)

// The app and merchant of the conformance vectors.
const (
	AppID      = "sandbox-app"
	MerchantID = "M100000001"
)

// Canonical is section 2: path, "?", the fields but sign and the empty
// ones sorted by key, "&"-joined "k=v" with "%", "&" and "=" escaped.
func Canonical(path string, fields map[string]string) string {
	keys := make([]string, 0, len(fields))
	for k, v := range fields {
		if k != "sign" && v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	esc := strings.NewReplacer("%", "%25", "&", "%26", "=", "%3D")
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = esc.Replace(k) + "=" + esc.Replace(fields[k])
	}
	return path + "?" + strings.Join(parts, "&")
}

// Keyset is the vectors' TEST keys: the merchant and the two bank keys.
type Keyset struct {
	Merchant       *sign.PrivateKey
	Bank, BankNext *sign.PrivateKey
	BankID, NextID string
}

// TB is what Load needs of a test.
type TB interface {
	Helper()
	Fatal(args ...any)
}

// Load reads the vectors' keys.
func Load(tb TB) Keyset {
	tb.Helper()
	k, err := vectors.LoadKeys()
	if err != nil {
		tb.Fatal(err)
	}
	parse := func(pem string) *sign.PrivateKey {
		p, err := sign.ParsePrivateKey([]byte(pem))
		if err != nil {
			tb.Fatal(err)
		}
		return p
	}
	return Keyset{parse(k.Merchant.PrivatePEM), parse(k.Bank.PrivatePEM), parse(k.BankNext.PrivatePEM), k.BankKeyID, k.BankNextKeyID}
}

// Trusted returns the bank key with that id.
func (k Keyset) Trusted(id string) (*sign.PublicKey, bool) {
	switch id {
	case k.BankID:
		return k.Bank.Public(), true
	case k.NextID:
		return k.BankNext.Public(), true
	}
	return nil, false
}

// SignedBy reports whether fields carry a valid signature over path by a
// trusted bank key.
func (k Keyset) SignedBy(path string, fields map[string]string) bool {
	key, ok := k.Trusted(fields["sign_key_id"])
	return ok && fields["sign"] != "" && key.Verify([]byte(Canonical(path, fields)), fields["sign"]) == nil
}

func only(fields map[string]string, allowed ...string) bool {
	for k := range fields {
		found := false
		for _, a := range allowed {
			found = found || a == k
		}
		if !found {
			return false
		}
	}
	return true
}

var zone = time.FixedZone("UTC+8", 8*3600)

func inWindow(now time.Time, ts string) bool {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", ts, zone)
	return err == nil && now.Sub(t) <= 300*time.Second && t.Sub(now) <= 300*time.Second
}

// Answer is whether body is an answer a client at now may trust for a
// request to path with msgID (section 3.2), and if so its code and
// plaintext biz_content. It does not check the echo of business fields.
func (k Keyset) Answer(now time.Time, path, msgID string, encrypted bool, body []byte) (code string, payload []byte, ok bool) {
	var f map[string]string
	if json.Unmarshal(body, &f) != nil || !k.SignedBy("/api/v1/"+path, f) {
		return "", nil, false
	}
	if !only(f, "app_id", "msg_id", "timestamp", "code", "msg", "sign_key_id", "sign_type", "encrypt_type", "encrypt_key", "biz_content", "sign") {
		return "", nil, false
	}
	if f["msg_id"] != msgID || f["app_id"] != AppID || f["sign_type"] != "SM2" || f["code"] == "" || !inWindow(now, f["timestamp"]) {
		return "", nil, false
	}
	if f["code"] != "SUCCESS" {
		if f["biz_content"] != "" || f["encrypt_type"] != "" || f["encrypt_key"] != "" {
			return "", nil, false
		}
		return f["code"], nil, true
	}
	switch {
	case f["encrypt_type"] == "SM4-GCM" && encrypted:
		pt, err := sign.Open(context.Background(), k.Merchant, f["encrypt_key"], f["biz_content"], msgID)
		if err != nil {
			return "", nil, false
		}
		payload = pt
	case f["encrypt_type"] == "" && f["encrypt_key"] == "" && !encrypted:
		payload = []byte(f["biz_content"])
	default:
		return "", nil, false
	}
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	return "SUCCESS", payload, true
}

// Notification is whether body is a notification a receiver at now may
// accept (section 10), and if so its fields and plaintext.
func (k Keyset) Notification(now time.Time, body []byte) (map[string]string, []byte, bool) {
	var f map[string]string
	if json.Unmarshal(body, &f) != nil || !k.SignedBy("/notify", f) {
		return nil, nil, false
	}
	if !only(f, "app_id", "merchant_id", "notify_id", "notify_type", "timestamp", "sign_key_id", "sign_type", "encrypt_type", "encrypt_key", "biz_content", "sign") {
		return nil, nil, false
	}
	if f["app_id"] != AppID || f["merchant_id"] != MerchantID || f["sign_type"] != "SM2" ||
		f["notify_id"] == "" || f["notify_type"] == "" || f["encrypt_type"] != "SM4-GCM" || !inWindow(now, f["timestamp"]) {
		return nil, nil, false
	}
	data, err := sign.Open(context.Background(), k.Merchant, f["encrypt_key"], f["biz_content"], f["notify_id"])
	if err != nil || !json.Valid(data) {
		return nil, nil, false
	}
	return f, data, true
}

// ReturnFields are the fields the bank signs into a return redirect.
func ReturnFields() []string {
	return []string{"app_id", "merchant_id", "page", "result", "out_trade_no", "account_no", "timestamp", "sign_key_id", "sign_type", "sign"}
}

// Return is whether the signed fields of a return redirect (only those of
// ReturnFields, as read from its query) verify for the vectors' merchant
// at now (section 9).
func (k Keyset) Return(now time.Time, f map[string]string) bool {
	if !k.SignedBy("/return", f) || f["app_id"] != AppID || f["merchant_id"] != MerchantID || f["sign_type"] != "SM2" || !inWindow(now, f["timestamp"]) {
		return false
	}
	switch f["result"] {
	case "SUCCESS", "FAILED", "CANCELLED":
	default:
		return false
	}
	switch f["page"] {
	case "open", "wallet", "recharge", "withdraw", "pay", "card", "password", "close":
	default:
		return false
	}
	return (f["out_trade_no"] == "") != (f["account_no"] == "")
}
