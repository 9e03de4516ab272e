package wallet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/wire"
	"github.com/xinyun-open/ewallet-go/sign"
)

// NotifyType is the event a notification reports.
type NotifyType string

// Notification types of PROTOCOL.md section 10.
const (
	NotifyPaymentSucceeded   NotifyType = "PAYMENT_SUCCEEDED"
	NotifyPaymentFailed      NotifyType = "PAYMENT_FAILED"
	NotifyRechargeSucceeded  NotifyType = "RECHARGE_SUCCEEDED"
	NotifyWithdrawSucceeded  NotifyType = "WITHDRAW_SUCCEEDED"
	NotifyTransferSucceeded  NotifyType = "TRANSFER_SUCCEEDED"
	NotifyRefundSucceeded    NotifyType = "REFUND_SUCCEEDED"
	NotifyAccountOpened      NotifyType = "ACCOUNT_OPENED"
	NotifyAccountCardChanged NotifyType = "ACCOUNT_CARD_CHANGED"
	NotifyAccountClosed      NotifyType = "ACCOUNT_CLOSED"
)

// IsOrder reports whether the payload is an Order.
func (t NotifyType) IsOrder() bool {
	switch t {
	case NotifyPaymentSucceeded, NotifyPaymentFailed, NotifyRechargeSucceeded, NotifyWithdrawSucceeded, NotifyTransferSucceeded:
		return true
	}
	return false
}

// IsAccount reports whether the payload is an Account.
func (t NotifyType) IsAccount() bool {
	return t == NotifyAccountOpened || t == NotifyAccountCardChanged || t == NotifyAccountClosed
}

// Notification is a verified, decrypted event from the bank.
type Notification struct {
	NotifyID  string          // the same on every redelivery: de-duplicate on it
	Type      NotifyType      // what happened
	Timestamp time.Time       // when this delivery attempt was signed
	SignKeyID string          // the bank key that signed it
	Data      json.RawMessage // the decrypted biz_content: an order, refund or account
}

// ErrNotificationType is returned by a typed accessor that does not match
// the notification's type.
var ErrNotificationType = errors.New("wallet: notification payload is of another type")

// Order decodes the payload of an order notification (PAYMENT_*,
// RECHARGE_, WITHDRAW_, TRANSFER_SUCCEEDED).
func (n *Notification) Order() (*Order, error) {
	if !n.Type.IsOrder() {
		return nil, fmt.Errorf("%w: %s", ErrNotificationType, n.Type)
	}
	var o Order
	if err := json.Unmarshal(n.Data, &o); err != nil {
		return nil, fmt.Errorf("wallet: notification %s: %w", n.NotifyID, err)
	}
	return &o, nil
}

// Refund decodes the payload of REFUND_SUCCEEDED.
func (n *Notification) Refund() (*Refund, error) {
	if n.Type != NotifyRefundSucceeded {
		return nil, fmt.Errorf("%w: %s", ErrNotificationType, n.Type)
	}
	var r Refund
	if err := json.Unmarshal(n.Data, &r); err != nil {
		return nil, fmt.Errorf("wallet: notification %s: %w", n.NotifyID, err)
	}
	return &r, nil
}

// Account decodes the payload of an ACCOUNT_* notification.
func (n *Notification) Account() (*Account, error) {
	if !n.Type.IsAccount() {
		return nil, fmt.Errorf("%w: %s", ErrNotificationType, n.Type)
	}
	var a Account
	if err := json.Unmarshal(n.Data, &a); err != nil {
		return nil, fmt.Errorf("wallet: notification %s: %w", n.NotifyID, err)
	}
	return &a, nil
}

const (
	notifyPath = "/notify"
	// maxNotifyBytes bounds a notification body: an order is a few hundred
	// bytes; anything near this is not the bank.
	maxNotifyBytes = 256 << 10
	// maxSkew is the receiver's timestamp window of PROTOCOL.md section 10.
	maxSkew = 300 * time.Second
)

// ErrBadNotification is wrapped by every refusal of ParseNotification.
var ErrBadNotification = errors.New("wallet: bad notification")

// ParseNotification reads the bank's notification from r (its body is read
// once), verifies the signature under the trusted bank key named by
// sign_key_id, checks that it is for this app and merchant and that its
// timestamp is within 300 s of the client's clock, and opens biz_content
// (AAD notify_id). Every refusal wraps ErrBadNotification; nothing of a
// refused notification is returned.
func (c *Client) ParseNotification(r *http.Request) (*Notification, error) {
	if r.Method != http.MethodPost {
		return nil, fmt.Errorf("%w: method %s", ErrBadNotification, r.Method)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxNotifyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading body: %v", ErrBadNotification, err)
	}
	if len(body) > maxNotifyBytes {
		return nil, fmt.Errorf("%w: body larger than %d bytes", ErrBadNotification, maxNotifyBytes)
	}
	return c.parseNotification(body)
}

func (c *Client) parseNotification(body []byte) (*Notification, error) {
	bad := func(format string, a ...any) (*Notification, error) {
		return nil, fmt.Errorf("%w: "+format, append([]any{ErrBadNotification}, a...)...)
	}
	var f map[string]string
	if err := json.Unmarshal(body, &f); err != nil {
		return bad("body is not a flat JSON object of strings")
	}
	if f["sign"] == "" {
		return bad("no sign")
	}
	key, ok := c.keys.verifier(f["sign_key_id"])
	if !ok {
		return bad("sign_key_id %q is not a trusted bank key", f["sign_key_id"])
	}
	if err := key.VerifyCanonical(notifyPath, f, f["sign"]); err != nil {
		return bad("signature does not verify")
	}
	// Only now is anything in it trusted.
	if f["app_id"] != c.cfg.AppID || f["merchant_id"] != c.cfg.MerchantID {
		return bad("not for this app and merchant")
	}
	if f["sign_type"] != "SM2" {
		return bad("sign_type %q", f["sign_type"])
	}
	ts, err := wire.Parse(f["timestamp"])
	if err != nil {
		return bad("timestamp: %v", err)
	}
	if skew := c.now().Sub(ts); skew > maxSkew || skew < -maxSkew {
		return bad("timestamp is %v from this clock (more than 300 s): a replay or a clock to fix", skew.Round(time.Second))
	}
	id := f["notify_id"]
	if id == "" || f["notify_type"] == "" {
		return bad("no notify_id or notify_type")
	}
	if f["encrypt_type"] != encryptType {
		return bad("biz_content is not encrypted")
	}
	data, err := sign.Open(context.Background(), c.cfg.PrivateKey, f["encrypt_key"], f["biz_content"], id)
	if err != nil {
		return bad("biz_content does not open: %v", err)
	}
	if !json.Valid(data) {
		return bad("biz_content is not JSON")
	}
	return &Notification{NotifyID: id, Type: NotifyType(f["notify_type"]), Timestamp: ts, SignKeyID: f["sign_key_id"], Data: data}, nil
}

// NotificationHandler serves the merchant's notify URL. For each delivery it
// parses and verifies the notification, skips one already handled (same
// notify_id), calls fn, and answers the bank HTTP 200 {"code":"SUCCESS"} only
// when fn returned nil; otherwise it answers a failure so that the bank
// delivers again later. fn must finish within the bank's 5 s; do slow work
// after recording the event.
//
// De-duplication uses the client's Deduper (WithDeduper; by default one in
// memory, per process). A notification whose handling is still running when
// a duplicate arrives makes the duplicate fail, so it is retried rather than
// lost.
func (c *Client) NotificationHandler(fn func(ctx context.Context, n *Notification) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		n, err := c.ParseNotification(r)
		if err != nil {
			c.log.LogAttrs(ctx, levelWarn, "wallet notification refused", errAttr(err))
			answerNotify(w, http.StatusBadRequest, "FAIL", "notification refused")
			return
		}
		done, err := c.dedup.Claim(ctx, n.NotifyID)
		if err != nil {
			c.log.LogAttrs(ctx, levelWarn, "wallet notification not claimed", notifyAttrs(n, err)...)
			answerNotify(w, http.StatusServiceUnavailable, "FAIL", "busy, deliver again")
			return
		}
		if done {
			c.log.LogAttrs(ctx, levelDebug, "wallet notification duplicate", notifyAttrs(n, nil)...)
			answerNotify(w, http.StatusOK, "SUCCESS", "")
			return
		}
		herr := runHandler(ctx, fn, n)
		if err := c.dedup.Done(ctx, n.NotifyID, herr == nil); err != nil && herr == nil {
			herr = err
		}
		if herr != nil {
			c.log.LogAttrs(ctx, levelWarn, "wallet notification handler failed", notifyAttrs(n, herr)...)
			answerNotify(w, http.StatusInternalServerError, "FAIL", "handler failed")
			return
		}
		c.log.LogAttrs(ctx, levelInfo, "wallet notification handled", notifyAttrs(n, nil)...)
		answerNotify(w, http.StatusOK, "SUCCESS", "")
	})
}

// runHandler calls fn and turns a panic into an error, so that the claim on
// the notification is always released and the bank delivers it again.
func runHandler(ctx context.Context, fn func(context.Context, *Notification) error, n *Notification) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("wallet: notification handler panicked: %v", p)
		}
	}()
	return fn(ctx, n)
}

func answerNotify(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if msg == "" {
		_, _ = io.WriteString(w, `{"code":"`+code+`"}`)
		return
	}
	b, _ := json.Marshal(map[string]string{"code": code, "msg": msg})
	_, _ = w.Write(b)
}

// Deduper remembers which notifications were handled, so that a redelivery
// does not run the handler twice. Implement it over the merchant's database
// when several processes serve the notify URL.
type Deduper interface {
	// Claim is called before the handler. It returns done=true when the
	// notification was already handled (the bank is told SUCCESS), or an
	// error (the bank is told to deliver again), or claims the id for this
	// delivery.
	Claim(ctx context.Context, notifyID string) (done bool, err error)
	// Done ends a claim: ok marks the id handled; !ok releases it, so that a
	// redelivery runs the handler again.
	Done(ctx context.Context, notifyID string, ok bool) error
}

// ErrNotificationInFlight is returned by MemoryDeduper.Claim while another
// delivery of the same notification is being handled.
var ErrNotificationInFlight = errors.New("wallet: the same notification is being handled")

// MemoryDeduper is the in-memory Deduper: per process, forgetting ids after
// a retention period (by default 72 h, longer than the bank's ~25 h retry
// schedule).
type MemoryDeduper struct {
	retention time.Duration
	now       func() time.Time
	mu        sync.Mutex
	seen      map[string]dedupEntry
	lastSweep time.Time
}

type dedupEntry struct {
	done bool
	at   time.Time
}

// NewMemoryDeduper returns a MemoryDeduper that remembers handled ids for
// retention (72 h when zero or negative).
func NewMemoryDeduper(retention time.Duration) *MemoryDeduper {
	if retention <= 0 {
		retention = 72 * time.Hour
	}
	return &MemoryDeduper{retention: retention, now: time.Now, seen: make(map[string]dedupEntry)}
}

// Claim implements Deduper.
func (d *MemoryDeduper) Claim(_ context.Context, id string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	d.sweep(now)
	if e, ok := d.seen[id]; ok {
		if e.done {
			return true, nil
		}
		return false, ErrNotificationInFlight
	}
	d.seen[id] = dedupEntry{at: now}
	return false, nil
}

// Done implements Deduper.
func (d *MemoryDeduper) Done(_ context.Context, id string, ok bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if ok {
		d.seen[id] = dedupEntry{done: true, at: d.now()}
	} else {
		delete(d.seen, id)
	}
	return nil
}

// sweep drops expired ids, at most once a minute so that Claim stays cheap.
func (d *MemoryDeduper) sweep(now time.Time) {
	if now.Sub(d.lastSweep) < time.Minute {
		return
	}
	d.lastSweep = now
	for id, e := range d.seen {
		if now.Sub(e.at) > d.retention {
			delete(d.seen, id)
		}
	}
}
