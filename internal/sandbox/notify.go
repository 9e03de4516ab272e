package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/xinyun-open/ewallet-go/sign"
)

// Notification types (section 10).
const (
	notifyPaymentSucceeded = "PAYMENT_SUCCEEDED"
	notifyPaymentFailed    = "PAYMENT_FAILED" // sent by the H5 pay flow when it fails

	notifyRechargeSucceeded  = "RECHARGE_SUCCEEDED"
	notifyWithdrawSucceeded  = "WITHDRAW_SUCCEEDED"
	notifyTransferSucceeded  = "TRANSFER_SUCCEEDED"
	notifyRefundSucceeded    = "REFUND_SUCCEEDED"
	notifyAccountOpened      = "ACCOUNT_OPENED"
	notifyAccountCardChanged = "ACCOUNT_CARD_CHANGED"
	notifyAccountClosed      = "ACCOUNT_CLOSED"
)

const (
	// notifyPath is the path every notification signature covers.
	notifyPath = "/notify"
	// maxReceiverBody bounds how much of a receiver's answer is read.
	maxReceiverBody = 64 << 10
	// maxDeliveries bounds the delivery history kept in memory; the oldest
	// finished deliveries go first.
	maxDeliveries = 10_000
)

// notifySchedule is the wait before each retry (section 10): after the
// last one the bank gives up. A function, not a variable, so that nothing
// can change it.
func notifySchedule() []time.Duration {
	return []time.Duration{
		15 * time.Second, 15 * time.Second, 30 * time.Second, 3 * time.Minute, 10 * time.Minute,
		20 * time.Minute, 30 * time.Minute, 30 * time.Minute, 30 * time.Minute, 60 * time.Minute,
		3 * time.Hour, 3 * time.Hour, 3 * time.Hour, 6 * time.Hour, 6 * time.Hour,
	}
}

// Delivery is the record of one notification: every attempt to deliver it,
// and whether the bank is done with it (delivered, or given up after the
// last retry).
type Delivery struct {
	NotifyID   string
	NotifyType string
	MerchantID string
	URL        string
	Attempts   []Attempt
	Done       bool
}

// Delivered reports whether the receiver accepted the notification.
func (d Delivery) Delivered() bool {
	return len(d.Attempts) > 0 && d.Attempts[len(d.Attempts)-1].OK
}

// Attempt is one delivery attempt: when it started (Options.Now), the HTTP
// status (0 when no answer came), and whether the receiver answered 200
// {"code":"SUCCESS"}.
type Attempt struct {
	Time   time.Time
	Status int
	OK     bool
	Error  string // why the attempt failed, when it did
}

// event is a notification to send, produced by a committed operation.
type event struct {
	appID      string
	merchantID string
	notifyType string
	url        string
	biz        []byte
}

func accountEvent(who caller, typ string, v accountView) event {
	v.Limits = nil
	return event{who.AppID, who.MerchantID, typ, who.NotifyURL, marshalJSON(v)}
}

func orderEvent(who caller, o *order, v orderView) event {
	typ := map[string]string{
		typeRecharge: notifyRechargeSucceeded, typeWithdraw: notifyWithdrawSucceeded,
		typePay: notifyPaymentSucceeded, typeTransfer: notifyTransferSucceeded,
	}[o.Type]
	return event{who.AppID, who.MerchantID, typ, firstNonEmpty(o.NotifyURL, who.NotifyURL), marshalJSON(v)}
}

func refundEvent(who caller, o *order, v refundView) event {
	return event{who.AppID, who.MerchantID, notifyRefundSucceeded, firstNonEmpty(o.NotifyURL, who.NotifyURL), marshalJSON(v)}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// notifier delivers notifications asynchronously, one goroutine per
// notification, on the retry schedule scaled by Options.NotifyScale.
type notifier struct {
	client  *http.Client
	timeout time.Duration
	scale   float64
	now     func() time.Time
	signer  func() (string, *sign.PrivateKey)
	lookup  func(appID string) *merchantRec
	log     *slog.Logger

	ctx    context.Context // cancelled by Close: every wait and request stops
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu   sync.Mutex
	list []*delivery
}

type delivery struct {
	Delivery
	appID string
	biz   []byte
}

// send starts delivering ev; without a URL there is nothing to deliver.
func (n *notifier) send(ev event) {
	if ev.url == "" {
		return
	}
	d := &delivery{
		Delivery: Delivery{NotifyID: randomID("N"), NotifyType: ev.notifyType, MerchantID: ev.merchantID, URL: ev.url},
		appID:    ev.appID,
		biz:      ev.biz,
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	// Checked under the lock that close takes, so that no goroutine starts
	// after close has begun waiting for them.
	if n.ctx.Err() != nil {
		return
	}
	n.list = append(n.list, d)
	n.prune()
	n.wg.Add(1)
	go n.deliver(d)
}

// prune drops the oldest finished deliveries beyond maxDeliveries.
func (n *notifier) prune() {
	excess := len(n.list) - maxDeliveries
	if excess <= 0 {
		return
	}
	n.list = slices.DeleteFunc(n.list, func(d *delivery) bool {
		if excess > 0 && d.Done {
			excess--
			return true
		}
		return false
	})
}

func (n *notifier) deliver(d *delivery) {
	defer n.wg.Done()
	schedule := notifySchedule()
	for i := 0; ; i++ {
		ok := n.attempt(d)
		if ok || i == len(schedule) {
			n.mu.Lock()
			d.Done = true
			n.mu.Unlock()
			if !ok {
				n.log.Warn("sandbox: notification given up", "notify_id", d.NotifyID, "attempts", i+1)
			}
			return
		}
		t := time.NewTimer(time.Duration(float64(schedule[i]) * n.scale))
		select {
		case <-t.C:
		case <-n.ctx.Done():
			t.Stop()
			return
		}
	}
}

// attempt makes one delivery with a fresh timestamp, key envelope and
// signature, and records it.
func (n *notifier) attempt(d *delivery) bool {
	at := Attempt{Time: n.now()}
	status, err := n.post(d, at.Time)
	at.Status = status
	if err != nil {
		at.Error = err.Error()
	} else {
		at.OK = true
	}
	n.mu.Lock()
	d.Attempts = append(d.Attempts, at)
	n.mu.Unlock()
	n.log.Debug("sandbox: notification attempt", "notify_id", d.NotifyID, "type", d.NotifyType,
		"status", status, "ok", at.OK, "err", at.Error)
	return at.OK
}

type deliveryError string

func (e deliveryError) Error() string { return string(e) }

func (n *notifier) post(d *delivery, now time.Time) (int, error) {
	m := n.lookup(d.appID)
	if m == nil {
		return 0, deliveryError("the merchant app is no longer registered")
	}
	ek, ct, err := sign.Seal(m.PublicKey, d.biz, d.NotifyID)
	if err != nil {
		return 0, err
	}
	keyID, key := n.signer()
	fields := map[string]string{
		"app_id":       d.appID,
		"merchant_id":  d.MerchantID,
		"notify_id":    d.NotifyID,
		"notify_type":  d.NotifyType,
		"timestamp":    formatTime(now),
		"sign_key_id":  keyID,
		"sign_type":    "SM2",
		"encrypt_type": "SM4-GCM",
		"encrypt_key":  ek,
		"biz_content":  ct,
	}
	sig, err := sign.SignCanonical(context.Background(), key, notifyPath, fields)
	if err != nil {
		return 0, err
	}
	fields["sign"] = sig

	ctx, cancel := context.WithTimeout(n.ctx, n.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(marshalJSON(fields)))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := n.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReceiverBody))
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, deliveryError("receiver answered HTTP " + http.StatusText(resp.StatusCode))
	}
	var ack struct {
		Code string `json:"code"`
	}
	if json.Unmarshal(body, &ack) != nil || ack.Code != codeSuccess {
		return resp.StatusCode, deliveryError(`receiver did not answer {"code":"SUCCESS"}`)
	}
	return resp.StatusCode, nil
}

// snapshot copies the deliveries of one merchant ("" for all).
func (n *notifier) snapshot(merchantID string) []Delivery {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]Delivery, 0, len(n.list))
	for _, d := range n.list {
		if merchantID != "" && d.MerchantID != merchantID {
			continue
		}
		c := d.Delivery
		c.Attempts = slices.Clone(d.Attempts)
		out = append(out, c)
	}
	return out
}

// close stops every pending retry and in-flight attempt and waits for the
// delivery goroutines to end.
func (n *notifier) close() {
	n.mu.Lock()
	n.cancel()
	n.mu.Unlock()
	n.wg.Wait()
}
