package chaos

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xinyun-open/ewallet-go/account"
	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/notify"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// notifyTimeout is how long the sandbox waits for a receiver's answer
// (wallettest's NotifyTimeout); the latency toxics of the notification
// test hold a delivery longer.
const notifyTimeout = 2 * time.Second

// notifyRows are the toxics between the sandbox and the merchant's
// notify.Handler; s holds the sizes of one delivery (request) and its
// answer.
var notifyRows = []toxicRow{
	{"latency_up", "the delivery reaches the receiver 2.5 s late, after the bank gave up on it",
		func(callSizes) []toxic {
			return []toxic{{Type: "latency", Stream: "upstream", Attributes: map[string]any{"latency": 2500}}}
		}},
	{"latency_down", "the receiver's answer is held 2.5 s: the bank gives up after 2 s, though the event was handled",
		func(callSizes) []toxic {
			return []toxic{{Type: "latency", Stream: "downstream", Attributes: map[string]any{"latency": 2500}}}
		}},
	{"reset_up", "reset_peer upstream: RST as the delivery arrives",
		func(callSizes) []toxic {
			return []toxic{{Type: "reset_peer", Stream: "upstream", Attributes: map[string]any{"timeout": 0}}}
		}},
	{"cut_delivery", "limit_data upstream: the connection closes in the middle of the delivery's body",
		func(s callSizes) []toxic {
			return []toxic{{Type: "limit_data", Stream: "upstream", Attributes: map[string]any{"bytes": s.reqHeader + s.reqBody/2}}}
		}},
	{"reset_down", "reset_peer downstream: RST as the receiver's answer starts (it handled the event)",
		func(callSizes) []toxic {
			return []toxic{{Type: "reset_peer", Stream: "downstream", Attributes: map[string]any{"timeout": 0}}}
		}},
	{"cut_answer", "limit_data downstream: the connection closes in the middle of the answer's body (the event was handled)",
		func(s callSizes) []toxic {
			return []toxic{{Type: "limit_data", Stream: "downstream", Attributes: map[string]any{"bytes": s.ansHeader + s.ansBody/2}}}
		}},
	{"slow_close", "slow_close both ways, 1 s",
		func(callSizes) []toxic {
			return []toxic{{Type: "slow_close", Stream: "upstream", Attributes: map[string]any{"delay": 1000}},
				{Type: "slow_close", Stream: "downstream", Attributes: map[string]any{"delay": 1000}}}
		}},
	{"bandwidth", "bandwidth 2 KB/s both ways: a delivery takes about a second",
		func(callSizes) []toxic {
			return []toxic{{Type: "bandwidth", Stream: "upstream", Attributes: map[string]any{"rate": 2}},
				{Type: "bandwidth", Stream: "downstream", Attributes: map[string]any{"rate": 2}}}
		}},
	{"slicer", "slicer both ways: 16±8-byte pieces, 50 µs apart",
		func(callSizes) []toxic {
			attrs := map[string]any{"average_size": 16, "size_variation": 8, "delay": 50}
			return []toxic{{Type: "slicer", Stream: "upstream", Attributes: attrs}, {Type: "slicer", Stream: "downstream", Attributes: attrs}}
		}},
}

// TestToxicNotifications has the sandbox deliver notifications to a
// notify.Handler behind a Toxiproxy proxy, under each toxic of notifyRows
// in turn at toxicity 0.5 (one connection in two), with the notification
// retries 5000 times faster than the bank's. The receiver closes every
// connection after its answer, so that each delivery draws the toxics
// anew. Every event must be handled exactly once (the merchant's function
// called once per notify_id), and every delivery must end done and
// delivered.
func TestToxicNotifications(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := wallettest.NewServer(t, wallettest.WithoutNotifyReceiver(), wallettest.WithNotifyScale(0.0002))

	var (
		mu      sync.Mutex
		calls   = map[string]int{}      // notify_id → calls of the function
		byOrder = map[string][]string{} // order, refund or account number → notify_ids
	)
	fn := func(_ context.Context, e *notify.Event) error {
		no := ""
		switch {
		case e.Type.IsOrder():
			o, err := e.Order()
			if err != nil {
				return err
			}
			no = o.OutTradeNo
		case e.Type == notify.RefundSucceeded:
			r, err := e.Refund()
			if err != nil {
				return err
			}
			no = r.OutRefundNo
		default:
			a, err := e.Account()
			if err != nil {
				return err
			}
			no = a.AccountNo
		}
		mu.Lock()
		defer mu.Unlock()
		calls[e.ID]++
		if calls[e.ID] == 1 {
			byOrder[no] = append(byOrder[no], e.ID)
		}
		return nil
	}
	h, err := notify.NewHandler(srv.Client(), fn)
	if err != nil {
		t.Fatal(err)
	}
	counter := &countingListener{}
	hs := httptest.NewUnstartedServer(h)
	counter.Listener = hs.Listener
	hs.Listener = counter
	hs.Config.SetKeepAlivesEnabled(false)
	hs.Start()
	t.Cleanup(hs.Close)
	p := newToxiproxy(t, "notify", hs.Listener.Addr().String())
	srv.SetNotifyURL("http://" + p.Listen + "/notify")

	direct := payment.New(srv.Client())
	people := []wallettest.TestPerson{wallettest.Person(), wallettest.Person()}
	accounts := []string{srv.OpenAccount(people[0]), srv.OpenAccount(people[1])}
	expected := append([]string{}, accounts...) // numbers that must have exactly one event
	waitDone(t, srv, 30*time.Second)
	var sizes callSizes
	sizes.reqHeader, sizes.reqBody, sizes.ansHeader, sizes.ansBody = counter.sizes()
	t.Logf("a delivery: %d+%d bytes, its answer %d+%d bytes (header+body)", sizes.reqHeader, sizes.reqBody, sizes.ansHeader, sizes.ansBody)
	if sizes.reqBody < 200 || sizes.ansBody < 10 {
		t.Fatalf("implausible sizes %+v", sizes)
	}
	for _, a := range accounts {
		o, err := direct.Recharge(ctx, payment.RechargeRequest{AccountNo: a, OutTradeNo: payment.NewOutTradeNo(), Amount: 1_000_000})
		if err != nil {
			t.Fatal(err)
		}
		expected = append(expected, o.OutTradeNo)
	}
	waitDone(t, srv, 30*time.Second)

	seen := map[string]bool{}
	for _, d := range srv.Deliveries() {
		seen[d.NotifyID] = true
	}
	type rowStats struct{ events, attempts, failed int }
	stats := map[string]rowStats{}
	failures := map[string]int{}
	start := time.Now()
	for i, row := range notifyRows {
		addToxics(t, p, 0.5, row.toxics(sizes)...)
		a, b := accounts[i%2], accounts[(i+1)%2]
		pin := wallettest.PIN(t, srv.Client())
		rc, err := direct.Recharge(ctx, payment.RechargeRequest{AccountNo: a, OutTradeNo: payment.NewOutTradeNo(), Amount: 1000})
		if err != nil {
			t.Fatal(err)
		}
		py, err := direct.Pay(ctx, payment.PayRequest{AccountNo: a, OutTradeNo: payment.NewOutTradeNo(), Amount: 900, Subject: "notify", Password: pin})
		if err != nil {
			t.Fatal(err)
		}
		rf, err := direct.Refund(ctx, payment.RefundRequest{OutTradeNo: py.OutTradeNo, OutRefundNo: payment.NewOutRefundNo(), Amount: 400})
		if err != nil {
			t.Fatal(err)
		}
		tr, err := direct.Transfer(ctx, payment.TransferRequest{AccountNo: a, PayeeAccountNo: b, PayeeName: people[(i+1)%2].Name,
			OutTradeNo: payment.NewOutTradeNo(), Amount: 300, Password: pin})
		if err != nil {
			t.Fatal(err)
		}
		expected = append(expected, rc.OutTradeNo, py.OutTradeNo, rf.OutRefundNo, tr.OutTradeNo)
		waitDone(t, srv, 60*time.Second)
		clearToxics(p)
		var st rowStats
		for _, d := range srv.Deliveries() {
			if seen[d.NotifyID] {
				continue
			}
			seen[d.NotifyID] = true
			st.events++
			st.attempts += len(d.Attempts)
			for _, at := range d.Attempts {
				if !at.OK {
					st.failed++
					failures[failureKind(at)]++
				}
			}
		}
		stats[row.name] = st
	}
	elapsed := time.Since(start)

	for _, d := range srv.Deliveries() {
		if !d.Done || !d.Delivered() {
			t.Errorf("delivery %s (%s): done %v, delivered %v after %d attempts", d.NotifyID, d.NotifyType, d.Done, d.Delivered(), len(d.Attempts))
		}
		mu.Lock()
		n := calls[d.NotifyID]
		mu.Unlock()
		if n != 1 {
			t.Errorf("event %s (%s) handled %d times", d.NotifyID, d.NotifyType, n)
		}
	}
	mu.Lock()
	for _, no := range expected {
		if ids := byOrder[no]; len(ids) != 1 {
			t.Errorf("%s: %d events handled, want 1", no, len(ids))
		}
	}
	handled := len(calls)
	mu.Unlock()
	if deliveries := len(srv.Deliveries()); handled != deliveries {
		t.Errorf("%d events handled, the bank sent %d", handled, deliveries)
	}

	var sb strings.Builder
	fmt.Fprintf(&sb, "notifications through Toxiproxy (toxicity 0.5), %d events handled once each, in %v:\n", handled, elapsed.Round(time.Millisecond))
	for _, row := range notifyRows {
		st := stats[row.name]
		fmt.Fprintf(&sb, "  %-13s %d events, %2d attempts (%2d failed)  %s\n", row.name, st.events, st.attempts, st.failed, row.what)
	}
	fmt.Fprintf(&sb, "  failed attempts by what the bank saw: %s", kindCounts(failures))
	t.Log(sb.String())
}

// failureKind sums up why a delivery attempt failed.
func failureKind(a wallettest.Attempt) string {
	switch {
	case a.Status != 0:
		return fmt.Sprintf("HTTP %d", a.Status)
	case strings.Contains(a.Error, "deadline exceeded") || strings.Contains(a.Error, "Timeout"):
		return "timeout"
	case strings.Contains(a.Error, "reset"):
		return "connection reset"
	case strings.Contains(a.Error, "EOF"):
		return "EOF"
	default:
		return "other"
	}
}

// waitDone waits until the bank has no delivery left to make.
func waitDone(t *testing.T, srv *wallettest.Server, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		pending := 0
		for _, dl := range srv.Deliveries() {
			if !dl.Done {
				pending++
			}
		}
		if pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries not done after %v", pending, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// countingListener counts the bytes of each accepted connection; sizes
// returns those of the last one closed, whose request body and answer body
// it reads from the HTTP framing.
type countingListener struct {
	net.Listener
	mu   sync.Mutex
	last struct{ in, out []byte }
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &recordingConn{Conn: c, l: l}, nil
}

func (l *countingListener) sizes() (reqHeader, reqBody, ansHeader, ansBody int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	split := func(b []byte) (int64, int64) {
		i := bytes.Index(b, []byte("\r\n\r\n"))
		if i < 0 {
			return int64(len(b)), 0
		}
		return int64(i + 4), int64(len(b) - i - 4)
	}
	reqHeader, reqBody = split(l.last.in)
	ansHeader, ansBody = split(l.last.out)
	return
}

type recordingConn struct {
	net.Conn
	l       *countingListener
	in, out bytes.Buffer
	mu      sync.Mutex
	once    sync.Once
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.in.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

func (c *recordingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.mu.Lock()
	c.out.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

func (c *recordingConn) Close() error {
	c.once.Do(func() {
		c.mu.Lock()
		in, out := bytes.Clone(c.in.Bytes()), bytes.Clone(c.out.Bytes())
		c.mu.Unlock()
		if len(in) > 0 && len(out) > 0 {
			c.l.mu.Lock()
			c.l.last.in, c.l.last.out = in, out
			c.l.mu.Unlock()
		}
	})
	return c.Conn.Close()
}

// faceMiB is a colour PNG of just under 1 MiB: random pixels, which do not
// compress.
func faceMiB(t *testing.T) wallet.FaceImage {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	img := image.NewNRGBA(image.Rect(0, 0, 588, 588))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.Uint32())
	}
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 255
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > 1<<20 || buf.Len() < (1<<20)*9/10 {
		t.Fatalf("face image is %d bytes, want just under 1 MiB", buf.Len())
	}
	return buf.Bytes()
}

// TestToxicFaceUpload opens an account with a face image of just under
// 1 MiB through a Toxiproxy proxy that limits the bandwidth to 64 KB/s
// towards the bank: the proxy takes the whole request at once and lets it
// trickle on, and every attempt (2 s each) times out waiting for the
// answer. The account/open documentation says to ask wallet/query then;
// asked while the request is still on its way, it says "not opened". Once
// the network heals (the toxic is removed, which lets the queued bytes
// through), the timed-out request opens the account. The merchant sends
// the opening again under its first msg_id, which the bank answers from
// its idempotency record: the person ends with exactly one account, and a
// later opening under a new msg_id is ACCOUNT_ALREADY_OPENED.
func TestToxicFaceUpload(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := wallettest.NewServer(t, wallettest.WithoutNotifyReceiver())
	p := newToxiproxy(t, "face", strings.TrimPrefix(srv.URL, "http://"))
	cfg := srv.Config()
	cfg.BaseURL = "http://" + p.Listen
	var attempts atomic.Int64
	m := newMeter()
	c, err := wallet.NewClient(cfg, wallet.WithHTTPClient(&http.Client{Transport: countAttempts{next: m, n: &attempts}}),
		wallet.WithTimeout(2*time.Second), wallet.WithRetry(1), wallet.WithBackoff(50*time.Millisecond, 100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	svc := account.New(c)
	person := wallettest.Person()
	face := faceMiB(t)
	v, err := svc.Verify(ctx, account.VerifyRequest{Name: person.Name, IDNumber: person.IDNumber, CardNo: person.CardNo, Mobile: person.Mobile})
	if err != nil {
		t.Fatal(err)
	}
	sms, err := svc.SendSMS(ctx, account.SendSMSRequest{Mobile: person.Mobile, Scene: account.SceneOpen})
	if err != nil {
		t.Fatal(err)
	}
	req := account.OpenRequest{UserID: person.UserID, VerifyToken: v.Token, Name: person.Name, IDNumber: person.IDNumber, CardNo: person.CardNo,
		Mobile: person.Mobile, SMSSerial: sms.Serial, SMSCode: "123456", FaceImage: face, Password: wallettest.PIN(t, c)}

	addToxics(t, p, 1, toxic{Type: "bandwidth", Stream: "upstream", Attributes: map[string]any{"rate": 64}})
	start, before := time.Now(), attempts.Load()
	_, err = svc.OpenAccount(ctx, req)
	took := time.Since(start)
	if !wallet.IsOutcomeUnknown(err) {
		t.Fatalf("OpenAccount at 64 KB/s: want an unknown outcome (a timeout), got %v", err)
	}
	var te *wallet.TransportError
	if !errors.As(err, &te) || !te.Sent {
		t.Fatalf("want a TransportError of a request that may have been sent, got %#v", err)
	}
	openAttempts := attempts.Load() - before

	// What the documentation advises, while the request is on its way.
	query := wallet.QueryRequest{IDNumber: person.IDNumber, Mobile: person.Mobile, UserID: person.UserID}
	q, err := c.Query(ctx, query)
	if err != nil {
		t.Fatal(err)
	}
	queriedEarly := q.Opened

	healed := time.Now()
	clearToxics(p)
	// The queued request reaches the bank.
	openedLate := time.Duration(-1)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if q, err = c.Query(ctx, query); err != nil {
			t.Fatal(err)
		}
		if q.Opened {
			openedLate = time.Since(healed)
			break
		}
	}

	// The careful resend: the same request under the first msg_id.
	var again wallet.Account
	if err := c.Do(ctx, "account/open", req, &again, wallet.WithMsgID(te.MsgID)); err != nil {
		t.Fatalf("sending the opening again under msg_id %s: %v", te.MsgID, err)
	}
	if q, err = c.Query(ctx, query); err != nil {
		t.Fatal(err)
	}
	if !q.Opened || q.Account.AccountNo != again.AccountNo {
		t.Fatalf("the resend answered account %s, wallet/query says %+v", again.AccountNo, q)
	}
	// One account per person: a new opening is refused (before the bank
	// looks at the face, so a small one does).
	req.Password, req.FaceImage = wallettest.PIN(t, c), wallettest.Face()
	if _, err := svc.OpenAccount(ctx, req); !errors.Is(err, wallet.ErrAccountAlreadyOpened) {
		t.Errorf("opening under a new msg_id: %v, want ACCOUNT_ALREADY_OPENED", err)
	}
	if queriedEarly {
		t.Logf("wallet/query said the account was opened before the network healed (the request got through in time)")
	}
	t.Logf("1 MiB face (%d bytes) at 64 KB/s: %d attempts timed out after %v (%v); wallet/query right after: opened=%v; "+
		"the timed-out request opened the account %v after the network healed; resent under its msg_id: account %s, the same; "+
		"a new opening: ACCOUNT_ALREADY_OPENED", len(face), openAttempts, took.Round(time.Millisecond), te.Err, queriedEarly,
		openedLate.Round(time.Millisecond), again.AccountNo)
	if openedLate < 0 {
		t.Logf("the timed-out request did not open the account within 20 s of healing; the resend did")
	}
}

// countAttempts counts the HTTP attempts through it.
type countAttempts struct {
	next http.RoundTripper
	n    *atomic.Int64
}

func (c countAttempts) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}
