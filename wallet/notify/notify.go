package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/core"
	"github.com/xinyun-open/ewallet-go/internal/wire"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
)

// Type is the event a notification reports.
type Type string

// Notification types (docs/protocol.md, section 10).
const (
	PaymentSucceeded   Type = "PAYMENT_SUCCEEDED"
	PaymentFailed      Type = "PAYMENT_FAILED"
	RechargeSucceeded  Type = "RECHARGE_SUCCEEDED"
	WithdrawSucceeded  Type = "WITHDRAW_SUCCEEDED"
	TransferSucceeded  Type = "TRANSFER_SUCCEEDED"
	RefundSucceeded    Type = "REFUND_SUCCEEDED"
	AccountOpened      Type = "ACCOUNT_OPENED"
	AccountCardChanged Type = "ACCOUNT_CARD_CHANGED"
	AccountClosed      Type = "ACCOUNT_CLOSED"
)

// IsOrder reports whether the payload is an order (Event.Order).
func (t Type) IsOrder() bool {
	switch t {
	case PaymentSucceeded, PaymentFailed, RechargeSucceeded, WithdrawSucceeded, TransferSucceeded:
		return true
	}
	return false
}

// IsAccount reports whether the payload is an account (Event.Account).
func (t Type) IsAccount() bool {
	return t == AccountOpened || t == AccountCardChanged || t == AccountClosed
}

// Event is a verified, decrypted notification. A type this SDK does not
// know yet (a later version of the bank's) is passed on as it is: its Data
// is still verified and decrypted.
type Event struct {
	ID        string          `json:"notify_id"`   // the same on every redelivery: de-duplicate on it
	Type      Type            `json:"notify_type"` // what happened
	Timestamp time.Time       `json:"timestamp"`   // when this delivery attempt was signed
	SignKeyID string          `json:"sign_key_id"` // the bank key that signed it
	Data      json.RawMessage `json:"data"`        // the decrypted biz_content: an order, refund or account
}

// ErrWrongType is returned by a typed accessor that does not match the
// event's type.
var ErrWrongType = errors.New("notify: the event's payload is of another type")

// Order decodes the payload of an order event (PAYMENT_*, RECHARGE_,
// WITHDRAW_, TRANSFER_SUCCEEDED).
func (e *Event) Order() (*wallet.Order, error) {
	if !e.Type.IsOrder() {
		return nil, fmt.Errorf("%w: %s", ErrWrongType, e.Type)
	}
	return decode[wallet.Order](e)
}

// Refund decodes the payload of REFUND_SUCCEEDED.
func (e *Event) Refund() (*wallet.Refund, error) {
	if e.Type != RefundSucceeded {
		return nil, fmt.Errorf("%w: %s", ErrWrongType, e.Type)
	}
	return decode[wallet.Refund](e)
}

// Account decodes the payload of an ACCOUNT_* event.
func (e *Event) Account() (*wallet.Account, error) {
	if !e.Type.IsAccount() {
		return nil, fmt.Errorf("%w: %s", ErrWrongType, e.Type)
	}
	return decode[wallet.Account](e)
}

func decode[T any](e *Event) (*T, error) {
	var v T
	if err := json.Unmarshal(e.Data, &v); err != nil {
		return nil, fmt.Errorf("notify: event %s: %w", e.ID, err)
	}
	return &v, nil
}

// maxBodyBytes bounds a notification body: an order is a few hundred
// bytes; anything near this is not the bank.
const maxBodyBytes = 256 << 10

// ErrRefused is wrapped by every refusal of Parse and Verify.
var ErrRefused = errors.New("notify: notification refused")

// Parse reads the bank's notification from r (its body is read once) and
// returns it verified and decrypted; see Verify.
func Parse(c *wallet.Client, r *http.Request) (*Event, error) {
	if r.Method != http.MethodPost {
		return nil, fmt.Errorf("%w: method %s", ErrRefused, r.Method)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading body: %v", ErrRefused, err)
	}
	return Verify(r.Context(), c, body)
}

// Verify checks a notification body as the bank POSTed it: the signature
// under the trusted bank key sign_key_id names, over canonical("/notify",
// fields); the fields (none the protocol does not sign); that it is for the
// client's app and merchant; that its timestamp is within 300 s of the
// client's clock; and it opens biz_content (AAD notify_id) with the
// merchant's key. Every refusal wraps ErrRefused, and nothing of a refused
// notification is returned. When the merchant's key itself fails (a remote
// sign.Signer that is down), the error wraps wallet.ErrSigner instead: the
// notification is not refused, and the Handler asks the bank to deliver it
// again. Use it where the body arrives another way than
// an HTTP request (a queue in front of the merchant's service).
func Verify(ctx context.Context, c *wallet.Client, body []byte) (*Event, error) {
	cc, err := core.Bridge.Core(c)
	if err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	refuse := func(format string, a ...any) (*Event, error) {
		return nil, fmt.Errorf("%w: "+format, append([]any{ErrRefused}, a...)...)
	}
	if len(body) > maxBodyBytes {
		return refuse("body larger than %d bytes", maxBodyBytes)
	}
	f, err := wire.ParseFlat(body)
	if err != nil {
		return refuse("body: %v", err)
	}
	v, err := cc.Verify(core.NotifyDoor(), f)
	if err != nil {
		return refuse("%v", err)
	}
	if f["encrypt_type"] != "SM4-GCM" {
		return refuse("biz_content is not encrypted")
	}
	id := f["notify_id"]
	data, err := cc.Open(ctx, f["encrypt_key"], f["biz_content"], id)
	if err != nil && !errors.Is(err, sign.ErrDecrypt) {
		// The merchant's key (a remote signer) failed, not the
		// notification: not a refusal, the bank should deliver it again.
		return nil, fmt.Errorf("notify: the merchant's key could not open notification %s: %w: %w", id, wallet.ErrSigner, err)
	}
	if err != nil {
		return refuse("biz_content does not open: %v", err)
	}
	if !json.Valid(data) {
		return refuse("biz_content is not JSON")
	}
	return &Event{ID: id, Type: Type(f["notify_type"]), Timestamp: v.Timestamp, SignKeyID: v.KeyID, Data: data}, nil
}
