package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/notify"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// Fleet is one merchant running several instances against the sandbox
// bank, all sharing one store: receivers of the notify URL behind a
// round-robin reverse proxy, each with its own wallet.Client and its own
// connection to a shared Deduper, and payment services that journal their
// money calls in a shared Journal. The bank delivers one stream of
// notifications, made by real money calls (recharges, payments and
// refunds over a few accounts), through faults: a merchant function that
// fails the first time for some events, a proxy that drops the answer to
// some deliveries after the receiver answered (so the bank delivers a
// handled event again), a proxy that also sends some deliveries to two
// other receivers at the same moment, and money calls whose answer the
// bank drops after it acted (their journal entries stay pending until
// another instance Recovers them).
//
// Run checks that every event is handled exactly once (counted by
// notify_id in the merchant's function), that the bank ends every
// delivery done and delivered, and that Recover settles every journal
// entry left pending. The zero Fleet is the default one.
type Fleet struct {
	Instances   int // receivers behind the proxy (default 4)
	Accounts    int // accounts the money moves in (default 4)
	Rounds      int // per account: a recharge and a payment each round, a refund of it every other round (default 30)
	FailFirst   int // the function fails the first call for one event in FailFirst (default 6)
	DropEvery   int // the proxy drops the answer to one delivery in DropEvery after the receiver answered (default 8)
	ReplayEvery int // the proxy also sends one delivery in ReplayEvery to two other receivers at once (default 3)
	LostAnswers int // money calls whose answer the bank drops after it acted (default 3; needs a Journal)
}

// FleetReport is what a Fleet run did.
type FleetReport struct {
	Events         int            // notifications the bank sent, one per notify_id
	ByType         map[string]int // events by notify_type
	Attempts       int            // delivery attempts the bank made
	Redeliveries   int            // attempts after the first of an event
	Calls          int            // calls of the merchant's function
	FailedCalls    int            // calls that failed on purpose (the first for some events)
	DroppedAnswers int            // SUCCESS answers the proxy dropped after the receiver answered
	Replays        int            // deliveries the proxy also sent to two other receivers
	ReplayStatus   map[int]int    // the receivers' HTTP status for those extra copies
	PerInstance    []int          // events handled by each receiver
	MoneyCalls     int            // money calls made
	LostAnswers    int            // money calls whose answer was lost (outcome unknown)
	Recovered      int            // journal entries Recover settled
	Duration       time.Duration  // from the first money call to the last delivery done
}

// String summarises the report on one line.
func (r FleetReport) String() string {
	return fmt.Sprintf("%d events %v, %d delivery attempts (%d redeliveries), %d function calls (%d failed on purpose), "+
		"%d answers dropped, %d deliveries replayed to two more receivers (answers %v), handled per receiver %v, "+
		"%d money calls (%d answers lost, %d recovered), %v",
		r.Events, r.ByType, r.Attempts, r.Redeliveries, r.Calls, r.FailedCalls, r.DroppedAnswers, r.Replays, r.ReplayStatus,
		r.PerInstance, r.MoneyCalls, r.LostAnswers, r.Recovered, r.Duration.Round(time.Millisecond))
}

func (f Fleet) withDefaults() Fleet {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&f.Instances, 4)
	def(&f.Accounts, 4)
	def(&f.Rounds, 30)
	def(&f.FailFirst, 6)
	def(&f.DropEvery, 8)
	def(&f.ReplayEvery, 3)
	if f.LostAnswers < 0 {
		f.LostAnswers = 0
	} else if f.LostAnswers == 0 {
		f.LostAnswers = 3
	}
	return f
}

// Run runs the fleet. openDeduper is called once per receiver and must
// return a Deduper over one shared namespace, on a connection of its own;
// openJournal (nil for none) likewise, once per payment service.
func (f Fleet) Run(t *testing.T, openDeduper func(t *testing.T) notify.Deduper, openJournal func(t *testing.T) payment.Journal) FleetReport {
	t.Helper()
	f = f.withDefaults()
	if openJournal == nil {
		f.LostAnswers = 0
	}
	ctx := context.Background()
	srv := wallettest.NewServer(t, wallettest.WithoutNotifyReceiver())

	var (
		mu       sync.Mutex
		handled  = map[string]int{} // notify_id → successful calls of the function
		calls    = map[string]int{} // notify_id → calls
		failed   int
		byType   = map[string]int{}
		perInst  = make([]int, f.Instances)
		receiver = make([]*url.URL, f.Instances)
	)
	for i := range f.Instances {
		fn := func(_ context.Context, e *notify.Event) error {
			// The payload must open as what the type says.
			var err error
			switch {
			case e.Type.IsOrder():
				_, err = e.Order()
			case e.Type == notify.RefundSucceeded:
				_, err = e.Refund()
			default:
				_, err = e.Account()
			}
			mu.Lock()
			defer mu.Unlock()
			calls[e.ID]++
			if err != nil {
				return err
			}
			if calls[e.ID] == 1 && hash(e.ID)%uint32(f.FailFirst) == 0 {
				failed++
				return errors.New("storetest: failing the first call on purpose")
			}
			handled[e.ID]++
			byType[string(e.Type)]++
			perInst[i]++
			return nil
		}
		h, err := notify.NewHandler(srv.Client(), fn, notify.WithDeduper(openDeduper(t)))
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(h)
		t.Cleanup(hs.Close)
		receiver[i], _ = url.Parse(hs.URL)
	}

	// The proxy: round robin, with dropped answers and replays.
	var (
		next, deliveries atomic.Int64
		dropped          atomic.Int64
		replays          sync.WaitGroup
		replayMu         sync.Mutex
		replayStatus     = map[int]int{}
		replayed         int
	)
	errDrop := errors.New("storetest: answer dropped on purpose")
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(receiver[r.In.Context().Value(backendKey{}).(int)])
		},
		ModifyResponse: func(resp *http.Response) error {
			if !resp.Request.Context().Value(dropKey{}).(bool) {
				return nil
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && bytes.Contains(body, []byte(`"SUCCESS"`)) {
				dropped.Add(1)
			}
			return errDrop
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if errors.Is(err, errDrop) {
				// The connection closes without an answer, as when a
				// load balancer or the network fails after the receiver
				// handled the event.
				panic(http.ErrAbortHandler)
			}
			http.Error(w, err.Error(), http.StatusBadGateway)
		},
	}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		n := deliveries.Add(1)
		backend := int(next.Add(1) % int64(f.Instances))
		if n%int64(f.ReplayEvery) == 0 {
			replayMu.Lock()
			replayed++
			replayMu.Unlock()
			contentType := r.Header.Get("Content-Type")
			for k := 1; k <= 2; k++ {
				target := receiver[(backend+k)%f.Instances].String() + r.URL.Path
				replays.Go(func() {
					status := post(target, contentType, body)
					replayMu.Lock()
					replayStatus[status]++
					replayMu.Unlock()
				})
			}
		}
		c := context.WithValue(r.Context(), backendKey{}, backend)
		c = context.WithValue(c, dropKey{}, n%int64(f.DropEvery) == 0)
		out := r.WithContext(c)
		out.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(w, out)
	}))
	t.Cleanup(front.Close)
	srv.SetNotifyURL(front.URL + "/notify")

	// The merchant's money calls, from two payment services sharing the
	// journal; retries off, so that a lost answer leaves the outcome
	// unknown instead of being repaired by a retry under the same msg_id.
	var svcs []*payment.Service
	var clients []*wallet.Client
	for range 2 {
		c := srv.Client(wallet.WithRetry(0))
		var opts []payment.Option
		if openJournal != nil {
			opts = append(opts, payment.WithJournal(openJournal(t)))
		}
		svcs = append(svcs, payment.New(c, opts...))
		clients = append(clients, c)
	}
	accounts := make([]string, f.Accounts)
	for i := range accounts {
		accounts[i] = srv.OpenAccount(wallettest.Person())
	}

	start := time.Now()
	var (
		moneyCalls, lost atomic.Int64
		wg               sync.WaitGroup
		callErrs         = make(chan error, f.Accounts*f.Rounds*3)
	)
	loseAt := map[int]bool{}
	for k := range f.LostAnswers {
		loseAt[(k+1)*f.Rounds/(f.LostAnswers+1)] = true
	}
	for a, acct := range accounts {
		wg.Go(func() {
			call := func(fn func(*payment.Service, *wallet.Client) error) bool {
				k := moneyCalls.Add(1)
				err := fn(svcs[k%2], clients[k%2])
				switch {
				case err == nil:
					return true
				case wallet.IsOutcomeUnknown(err):
					lost.Add(1)
				default:
					callErrs <- err
				}
				return false
			}
			for r := range f.Rounds {
				if a == 0 && loseAt[r] {
					srv.InjectFault(wallettest.Fault{Kind: wallettest.FaultDropAfterCommit, Path: "payment/recharge"})
				}
				call(func(s *payment.Service, _ *wallet.Client) error {
					_, err := s.Recharge(ctx, payment.RechargeRequest{AccountNo: acct, OutTradeNo: payment.NewOutTradeNo(), Amount: 1000})
					return err
				})
				payNo := payment.NewOutTradeNo()
				paid := call(func(s *payment.Service, c *wallet.Client) error {
					pin, err := c.EncryptPIN(wallettest.TestPIN)
					if err != nil {
						return err
					}
					_, err = s.Pay(ctx, payment.PayRequest{AccountNo: acct, OutTradeNo: payNo, Amount: 300, Subject: "storetest", Password: pin})
					return err
				})
				if paid && r%2 == 0 {
					call(func(s *payment.Service, _ *wallet.Client) error {
						_, err := s.Refund(ctx, payment.RefundRequest{OutTradeNo: payNo, OutRefundNo: payment.NewOutRefundNo(), Amount: 100})
						return err
					})
				}
			}
		})
	}
	wg.Wait()
	close(callErrs)
	for err := range callErrs {
		t.Errorf("money call: %v", err)
	}

	rep := FleetReport{MoneyCalls: int(moneyCalls.Load()), LostAnswers: int(lost.Load())}
	if openJournal != nil {
		// Another instance, started later, settles what the lost answers
		// left pending.
		svc := payment.New(srv.Client(), payment.WithJournal(openJournal(t)))
		rec, err := svc.Recover(ctx)
		if err != nil {
			t.Fatalf("Recover: %v", err)
		}
		if rec.Pending != rep.LostAnswers || rec.Settled != rep.LostAnswers || rec.Unknown != 0 || len(rec.Failures) != 0 {
			t.Errorf("Recover = %+v, want %d pending and settled (one per lost answer)", rec, rep.LostAnswers)
		}
		rep.Recovered = rec.Settled
		j := openJournal(t)
		if p, err := j.Pending(ctx); err != nil || len(p) != 0 {
			t.Errorf("journal after Recover: %d pending, %v; want none", len(p), err)
		}
	}
	// The events the calls made: one per account opened, order and refund.
	wantEvents := f.Accounts + rep.MoneyCalls

	// Wait for the bank to be done with every delivery.
	deadline := time.Now().Add(3 * time.Minute)
	var ds []wallettest.Delivery
	for {
		ds = srv.Deliveries()
		if len(ds) >= wantEvents && !slices.ContainsFunc(ds, func(d wallettest.Delivery) bool { return !d.Done }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 3 minutes the bank has %d deliveries (want %d), %d of them not done", len(ds), wantEvents,
				countFunc(ds, func(d wallettest.Delivery) bool { return !d.Done }))
		}
		time.Sleep(20 * time.Millisecond)
	}
	rep.Duration = time.Since(start)
	replays.Wait()

	mu.Lock()
	defer mu.Unlock()
	rep.Events = len(ds)
	if rep.Events != wantEvents {
		t.Errorf("the bank sent %d notifications, want %d (accounts opened + money calls)", rep.Events, wantEvents)
	}
	seen := map[string]bool{}
	for _, d := range ds {
		seen[d.NotifyID] = true
		rep.Attempts += len(d.Attempts)
		if !d.Done || !d.Delivered() {
			t.Errorf("delivery %s (%s): done %v, delivered %v after %d attempts: %s", d.NotifyID, d.NotifyType, d.Done, d.Delivered(), len(d.Attempts), lastError(d))
		}
		if n := handled[d.NotifyID]; n != 1 {
			t.Errorf("event %s (%s) handled %d times, want exactly once", d.NotifyID, d.NotifyType, n)
		}
	}
	for id, n := range handled {
		if !seen[id] {
			t.Errorf("event %s handled %d times but the bank has no delivery of it", id, n)
		}
	}
	rep.Redeliveries = rep.Attempts - rep.Events
	for _, n := range calls {
		rep.Calls += n
	}
	rep.FailedCalls = failed
	rep.ByType = byType
	rep.PerInstance = perInst
	rep.DroppedAnswers = int(dropped.Load())
	replayMu.Lock()
	rep.Replays, rep.ReplayStatus = replayed, replayStatus
	replayMu.Unlock()
	if rep.FailedCalls == 0 || rep.DroppedAnswers == 0 || rep.Replays == 0 || (openJournal != nil && rep.LostAnswers == 0) {
		t.Errorf("a fault never happened, so the run proves less than it should: %v", rep)
	}
	return rep
}

type backendKey struct{}
type dropKey struct{}

// post sends one copy of a delivery and returns the HTTP status (0 when no
// answer came).
func post(target, contentType string, body []byte) int {
	resp, err := http.Post(target, contentType, bytes.NewReader(body))
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// hash picks events by notify_id the same way on every receiver.
func hash(s string) uint32 {
	h := fnv.New32a()
	_, _ = io.WriteString(h, s)
	return h.Sum32()
}

func countFunc[T any](s []T, f func(T) bool) int {
	n := 0
	for _, v := range s {
		if f(v) {
			n++
		}
	}
	return n
}

func lastError(d wallettest.Delivery) string {
	if len(d.Attempts) == 0 {
		return "no attempt"
	}
	return strings.TrimSpace(d.Attempts[len(d.Attempts)-1].Error)
}
