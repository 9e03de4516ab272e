package core

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/wire"
)

// Window is how far a signed message's timestamp may be from the client's
// clock: answers, notifications and return redirects alike
// (docs/protocol.md, sections 3.2, 9 and 10).
const Window = 300 * time.Second

// Door is one way a message signed by the bank reaches the merchant: as the
// answer to a call, as a notification, or as a return redirect. The
// verifier runs the same checks at every door; a door only says which
// fields it carries and which path the bank signed.
type Door struct {
	// Path is the path the bank signed: the API path of the call,
	// "/notify" or "/return".
	Path string
	// Fields are every field the door may carry, sign included. For an
	// answer or a notification a field outside this list refuses the
	// message: nothing the bank did not mean to sign is read. A return
	// redirect shares its query with the merchant's own parameters, so
	// there only these fields are signed and read, and the rest ignored.
	Fields []string
	// Required must be present and not empty.
	Required []string
	// Others says the message may hold fields outside Fields (returns).
	Others bool
	// Merchant says merchant_id must be the client's (notifications,
	// returns). app_id must always be the client's.
	Merchant bool
}

// answerFields are the fields of a response envelope (section 3.2).
var answerFields = []string{"app_id", "msg_id", "timestamp", "code", "msg", "sign_key_id", "sign_type",
	"encrypt_type", "encrypt_key", "biz_content", "sign"}

// AnswerDoor is the door of the answer to a call of the API at path
// ("/api/v1/payment/pay").
func AnswerDoor(path string) Door {
	return Door{Path: path, Fields: answerFields,
		Required: []string{"app_id", "msg_id", "timestamp", "code", "sign_key_id", "sign_type", "sign"}}
}

// NotifyDoor is the door of notifications (section 10).
func NotifyDoor() Door {
	return Door{Path: "/notify", Merchant: true,
		Fields: []string{"app_id", "merchant_id", "notify_id", "notify_type", "timestamp", "sign_key_id", "sign_type",
			"encrypt_type", "encrypt_key", "biz_content", "sign"},
		Required: []string{"app_id", "merchant_id", "notify_id", "notify_type", "timestamp", "sign_key_id", "sign_type",
			"encrypt_type", "encrypt_key", "biz_content", "sign"}}
}

// ReturnDoor is the door of H5 return redirects (section 9).
func ReturnDoor() Door {
	return Door{Path: "/return", Merchant: true, Others: true,
		Fields: []string{"app_id", "merchant_id", "page", "result", "out_trade_no", "account_no", "timestamp",
			"sign_key_id", "sign_type", "sign"},
		Required: []string{"app_id", "merchant_id", "page", "result", "timestamp", "sign_key_id", "sign_type", "sign"}}
}

// Verified is what the verifier established about a message.
type Verified struct {
	KeyID     string    // the trusted bank key that signed it
	Timestamp time.Time // its timestamp, within Window of the client's clock
}

// Verify checks a message that came through door, in the order that
// trusts nothing before the signature: the signature under the trusted bank
// key sign_key_id names, over canonical(door.Path, fields); then the field
// set, sign_type, the timestamp window, and that app_id (and merchant_id)
// are the client's. fields holds the message's fields, sign included; for
// a door with Others it may hold more, which are not signed and not read.
// The error says what failed and never quotes a value.
func (c *Core) Verify(d Door, fields map[string]string) (Verified, error) {
	signed := fields
	if d.Others {
		signed = make(map[string]string, len(d.Fields))
		for _, k := range d.Fields {
			if v, ok := fields[k]; ok {
				signed[k] = v
			}
		}
	}
	sig := signed["sign"]
	if sig == "" {
		return Verified{}, errors.New("no sign")
	}
	keyID := signed["sign_key_id"]
	key, ok := c.Keys.Verifier(keyID)
	if !ok {
		return Verified{}, fmt.Errorf("sign_key_id %q is not a trusted bank key", printable(keyID))
	}
	if err := key.VerifyCanonical(d.Path, signed, sig); err != nil {
		return Verified{}, fmt.Errorf("signature does not verify under %s", keyID)
	}
	// Signed by the bank: from here on the fields are the bank's, but
	// not yet proven to be meant for this client, now.
	for k := range signed {
		if !slices.Contains(d.Fields, k) {
			return Verified{}, fmt.Errorf("field %q is not one the protocol signs here", printable(k))
		}
	}
	for _, k := range d.Required {
		if signed[k] == "" {
			return Verified{}, fmt.Errorf("no %s", k)
		}
	}
	if st := signed["sign_type"]; st != "SM2" {
		return Verified{}, fmt.Errorf("sign_type is not SM2")
	}
	ts, err := wire.Parse(signed["timestamp"])
	if err != nil {
		return Verified{}, fmt.Errorf("timestamp: %v", err)
	}
	if skew := c.Now().Sub(ts); skew > Window || skew < -Window {
		return Verified{}, fmt.Errorf("timestamp is %v from this clock (more than %d s): a replay, or a clock to fix", skew.Round(time.Second), int(Window/time.Second))
	}
	if signed["app_id"] != c.AppID {
		return Verified{}, errors.New("app_id is not this client's")
	}
	if d.Merchant && signed["merchant_id"] != c.MerchantID {
		return Verified{}, errors.New("merchant_id is not this client's")
	}
	return Verified{KeyID: keyID, Timestamp: ts}, nil
}

// printable cuts an outside value down to something safe to quote in an
// error: at most 64 printable ASCII characters.
func printable(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	b := []byte(s)
	for i, c := range b {
		if c < ' ' || c > '~' {
			b[i] = '?'
		}
	}
	return string(b)
}
