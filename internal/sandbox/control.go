package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/xinyun-open/ewallet-go/sign"
)

// maxControlBody bounds a control request; they are a few hundred bytes.
const maxControlBody = 1 << 20

// serveControl is the unsigned control API of section 11. JSON in and out;
// 200 on success, 400 {"error": ...} on a bad request (404 for an unknown
// path or account, 405 for a wrong method).
func (b *Bank) serveControl(w http.ResponseWriter, r *http.Request, path string) {
	if msg := b.controlRefusal(r); msg != "" {
		writeError(w, http.StatusForbidden, msg)
		return
	}
	rest := strings.TrimPrefix(path, "/sandbox/")
	switch rest {
	case "credentials":
		if method(w, r, http.MethodGet) {
			writeJSON(w, http.StatusOK, b.Credentials())
		}
		return
	case "merchants":
		switch r.Method {
		case http.MethodGet:
			b.controlMerchantList(w)
		case http.MethodPost:
			b.controlMerchant(w, r)
		default:
			w.Header().Set("Allow", "GET, POST")
			writeError(w, http.StatusMethodNotAllowed, "use GET or POST")
		}
		return
	case "clock":
		if method(w, r, http.MethodPost) {
			b.controlClock(w, r)
		}
		return
	case "faults":
		if method(w, r, http.MethodPost) {
			b.controlFault(w, r)
		}
		return
	case "signing-key":
		if method(w, r, http.MethodPost) {
			b.controlSigningKey(w, r)
		}
		return
	case "notifications":
		if method(w, r, http.MethodGet) {
			b.controlNotifications(w, r)
		}
		return
	}
	// accounts/{account_no}/{freeze|unfreeze|ledger}
	if parts := strings.Split(rest, "/"); len(parts) == 3 && parts[0] == "accounts" {
		no, action := parts[1], parts[2]
		switch action {
		case "freeze", "unfreeze":
			if method(w, r, http.MethodPost) {
				v, err := b.core.setFrozen(no, action == "freeze")
				writeResult(w, v, err)
			}
			return
		case "ledger":
			if method(w, r, http.MethodGet) {
				entries, err := b.Ledger(no)
				writeResult(w, ledgerJSON(entries), err)
			}
			return
		}
	}
	writeError(w, http.StatusNotFound, "no such control endpoint")
}

// controlRefusal is why a control request is refused (HTTP 403), or "".
// The control API is unsigned and hands out the test keys, and a
// developer's browser can reach a sandbox on loopback: a page of another
// site must not drive it (docs/protocol.md, section 11). So the Host must
// be a loopback name or address or the sandbox's own address (a
// DNS-rebound name is not), an Origin must be the sandbox's own, and a
// POST must be application/json, which no cross-site form can send
// without a CORS preflight the sandbox never grants.
func (b *Bank) controlRefusal(r *http.Request) string {
	if !b.controlHost(r.Host) {
		return "the control API answers only on a loopback host or the sandbox's own address"
	}
	if o := r.Header.Get("Origin"); o != "" && !sameOrigin(o, r.Host) {
		return "the control API refuses requests from another origin"
	}
	if r.Method == http.MethodPost {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			return "a control POST must have Content-Type: application/json"
		}
	}
	return ""
}

// controlHost reports whether a request's Host may reach the control API.
func (b *Bank) controlHost(host string) bool {
	h := hostName(host)
	if h == "" {
		return false
	}
	if strings.EqualFold(h, "localhost") {
		return true
	}
	if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
		return true
	}
	return b.addr != "" && strings.EqualFold(h, hostName(b.addr))
}

// hostName is the host of a host[:port], without brackets.
func hostName(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
}

// sameOrigin reports whether an Origin header names the host the request
// was sent to.
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
		return false // "null" included
	}
	return strings.EqualFold(u.Host, host)
}

func method(w http.ResponseWriter, r *http.Request, want string) bool {
	if r.Method == want {
		return true
	}
	w.Header().Set("Allow", want)
	writeError(w, http.StatusMethodNotAllowed, "use "+want)
	return false
}

// readControl decodes a control request strictly: an unknown field is a
// mistake worth a 400, not something to ignore.
func readControl(w http.ResponseWriter, r *http.Request, dst any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxControlBody))
	if err != nil {
		writeError(w, http.StatusBadRequest, "body could not be read")
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		writeError(w, http.StatusBadRequest, "body: "+strings.TrimPrefix(err.Error(), "json: "))
		return false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "body: one JSON object only")
		return false
	}
	return true
}

type merchantJSON struct {
	AppID      string `json:"app_id"`
	MerchantID string `json:"merchant_id"`
	PublicKey  string `json:"public_key"`
	NotifyURL  string `json:"notify_url,omitempty"`
}

func (b *Bank) controlMerchant(w http.ResponseWriter, r *http.Request) {
	var in merchantJSON
	if !readControl(w, r, &in) {
		return
	}
	if in.PublicKey == "" {
		writeError(w, http.StatusBadRequest, "public_key is required")
		return
	}
	pub, err := sign.ParsePublicKey([]byte(in.PublicKey))
	if err != nil {
		writeError(w, http.StatusBadRequest, "public_key: "+err.Error())
		return
	}
	if err := b.RegisterMerchant(Merchant{AppID: in.AppID, MerchantID: in.MerchantID, PublicKey: pub, NotifyURL: in.NotifyURL}); err != nil {
		writeError(w, http.StatusBadRequest, strings.TrimPrefix(err.Error(), "sandbox: "))
		return
	}
	writeJSON(w, http.StatusOK, in)
}

func (b *Bank) controlMerchantList(w http.ResponseWriter) {
	out := []merchantJSON{}
	for _, m := range b.Merchants() {
		pem, err := m.PublicKey.MarshalPEM()
		if err != nil {
			pem = []byte(m.PublicKey.Hex())
		}
		out = append(out, merchantJSON{AppID: m.AppID, MerchantID: m.MerchantID, PublicKey: string(pem), NotifyURL: m.NotifyURL})
	}
	writeJSON(w, http.StatusOK, map[string]any{"merchants": out})
}

func (b *Bank) controlClock(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Advance string `json:"advance"`
	}
	if !readControl(w, r, &in) {
		return
	}
	d, err := time.ParseDuration(in.Advance)
	if err != nil || d < 0 {
		writeError(w, http.StatusBadRequest, `advance must be a non-negative Go duration such as "24h" or "90s"`)
		return
	}
	now := b.AdvanceClock(d)
	if d > 0 { // {"advance":"0s"} only reads the clock (wallettest.Connect does)
		b.log.Info("sandbox: clock advanced", "by", d, "now", formatTime(now))
	}
	writeJSON(w, http.StatusOK, map[string]string{"now": formatTime(now)})
}

func (b *Bank) controlFault(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Kind      string `json:"kind"`
		Count     int    `json:"count"`
		Path      string `json:"path"`
		LatencyMS int64  `json:"latency_ms"`
	}
	if !readControl(w, r, &in) {
		return
	}
	err := b.InjectFault(Fault{Kind: in.Kind, Count: in.Count, Path: in.Path, Latency: time.Duration(in.LatencyMS) * time.Millisecond})
	if err != nil {
		writeError(w, http.StatusBadRequest, strings.TrimPrefix(err.Error(), "sandbox: fault: "))
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

func (b *Bank) controlSigningKey(w http.ResponseWriter, r *http.Request) {
	var in struct {
		KeyID string `json:"key_id"`
	}
	if !readControl(w, r, &in) {
		return
	}
	if err := b.SetSigningKey(in.KeyID); err != nil {
		writeError(w, http.StatusBadRequest, strings.TrimPrefix(err.Error(), "sandbox: "))
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

type attemptJSON struct {
	Time   string `json:"time"`
	Status int    `json:"status"`
	OK     bool   `json:"ok"`
	Error  string `json:"error,omitempty"`
}

type deliveryJSON struct {
	NotifyID   string        `json:"notify_id"`
	NotifyType string        `json:"notify_type"`
	MerchantID string        `json:"merchant_id"`
	URL        string        `json:"url"`
	Attempts   []attemptJSON `json:"attempts"`
	Done       bool          `json:"done"`
}

func (b *Bank) controlNotifications(w http.ResponseWriter, r *http.Request) {
	out := []deliveryJSON{}
	for _, d := range b.Deliveries(r.URL.Query().Get("merchant_id")) {
		j := deliveryJSON{NotifyID: d.NotifyID, NotifyType: d.NotifyType, MerchantID: d.MerchantID, URL: d.URL, Done: d.Done, Attempts: []attemptJSON{}}
		for _, a := range d.Attempts {
			j.Attempts = append(j.Attempts, attemptJSON{Time: formatTime(a.Time), Status: a.Status, OK: a.OK, Error: a.Error})
		}
		out = append(out, j)
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": out})
}

type ledgerEntryJSON struct {
	Time         string `json:"time"`
	Type         string `json:"type"`
	Amount       int64  `json:"amount"`
	BalanceAfter int64  `json:"balance_after"`
	OutTradeNo   string `json:"out_trade_no"`
	OutRefundNo  string `json:"out_refund_no,omitempty"`
}

func ledgerJSON(entries []LedgerEntry) map[string]any {
	out := make([]ledgerEntryJSON, 0, len(entries))
	for _, e := range entries {
		out = append(out, ledgerEntryJSON{Time: formatTime(e.Time), Type: e.Type, Amount: e.Amount,
			BalanceAfter: e.BalanceAfter, OutTradeNo: e.OutTradeNo, OutRefundNo: e.OutRefundNo})
	}
	return map[string]any{"entries": out}
}

// writeResult answers a control call on an account: 404 when the bank has
// no such account, 400 for another refusal.
func writeResult(w http.ResponseWriter, v any, err error) {
	switch {
	case errors.Is(err, ErrUnknownAccount):
		writeError(w, http.StatusNotFound, "no such account")
	case err != nil:
		writeError(w, http.StatusBadRequest, err.Error())
	default:
		writeJSON(w, http.StatusOK, v)
	}
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(marshalJSON(v))
}
