package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/xinyun-open/ewallet-go/account"
	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/redisstore"
	"github.com/xinyun-open/ewallet-go/wallet/storetest"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// Kill points of TestCrashRecovery: where the merchant process dies.
const (
	pointBeforeSend  = "before send (after Begin)"
	pointInFlight    = "in flight (the bank holds the request)"
	pointCommitDrop  = "after commit: answer dropped, kill before the retry"
	pointCommitHeld  = "after commit: answer arrived, unread"
	pointAfterAnswer = "after the answer, before Settle"
	pointRandom      = "random moment"
	pointNone        = "" // no kill: the merchant reports the outcome
)

// pointAfterCommit stands for the two ways of killing after the commit in
// the plan, which alternate.
const pointAfterCommit = "after commit"

// killPoints are the points every kind is killed at, in turn.
var killPoints = []string{pointBeforeSend, pointInFlight, pointAfterCommit, pointAfterAnswer}

// inFlightLatency is how long the sandbox holds an in-flight request
// (its latency fault); the merchant is killed inside it.
const inFlightLatency = time.Second

// TestCrashRecovery runs a merchant as a child process against a
// standalone sandbox (another process), kills it with SIGKILL around
// money calls — before the send, in flight, after the bank committed but
// before the answer was read, after the answer but before the journal
// recorded it, and at random moments — and restarts it, which runs
// payment.Service.Recover. Then every order the journal knows must be on
// the bank's books exactly once, the balances must be the sum of the
// settled outcomes, and nothing the merchant reported as failed may have
// been made later. It runs with a FileJournal, and with the Redis journal
// when EWALLET_REDIS_ADDR is set.
//
// EWALLET_CHAOS_KILLS sets the number of kills at the four points with
// the FileJournal (default 50), EWALLET_CHAOS_REDIS_KILLS with the Redis
// journal (default 20); each is rounded up to a multiple of 20 (the four
// points × the five calls), and comes with one random-moment kill for
// every five. The two journals run at the same time, each against a
// sandbox process of its own (a fault the test injects is the sandbox's,
// for whichever call comes next).
func TestCrashRecovery(t *testing.T) {
	t.Parallel()
	fileKills := envInt(t, "EWALLET_CHAOS_KILLS", 50)
	redisKills := envInt(t, "EWALLET_CHAOS_REDIS_KILLS", 20)
	// The two run at once, without taking a second slot of go test's
	// -parallel (which is GOMAXPROCS, 2 here): they mostly wait.
	var wg sync.WaitGroup
	wg.Go(func() {
		t.Run("FileJournal", func(t *testing.T) {
			url, _ := startSandbox(t)
			runCrash(t, url, fileKills, func(cfg *merchantConfig, dir string) journalView {
				cfg.JournalFile = filepath.Join(dir, "journal.jsonl")
				return &fileView{path: cfg.JournalFile, outcomes: map[string]payment.Outcome{}}
			})
		})
	})
	wg.Go(func() {
		t.Run("RedisJournal", func(t *testing.T) {
			addr := storetest.RedisAddr(t)
			url, _ := startSandbox(t)
			runCrash(t, url, redisKills, func(cfg *merchantConfig, _ string) journalView {
				cfg.RedisAddr = addr
				cfg.RedisPrefix = fmt.Sprintf("chaos-%d:", time.Now().UnixNano())
				rdb := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
				t.Cleanup(func() { rdb.Close() })
				j, err := redisstore.NewJournal(rdb, cfg.RedisPrefix)
				if err != nil {
					t.Fatal(err)
				}
				return redisView{j}
			})
		})
	})
	wg.Wait()
}

// journalView is the test's look into the merchant's journal.
type journalView interface {
	// snapshot is called whenever no merchant process runs, before each
	// start and at the end.
	snapshot() error
	// outcome is the outcome the journal recorded for msgID (nil while
	// pending or unknown to it).
	outcome(ctx context.Context, msgID string) (*payment.Outcome, error)
	pending(ctx context.Context) ([]payment.Entry, error)
}

// fileView reads a FileJournal's file. Its settled lines go away when a
// merchant opens a mostly settled file (it compacts it), so the view reads
// the file before every start, and keeps every outcome it saw.
type fileView struct {
	path     string
	outcomes map[string]payment.Outcome
	torn     int // torn last lines seen
}

func (v *fileView) snapshot() error {
	b, err := os.ReadFile(v.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	lines := bytes.Split(b, []byte("\n"))
	if last := lines[len(lines)-1]; len(last) > 0 {
		// A torn last line: the merchant was killed in the middle of a
		// write (SIGKILL can cut a write(2) at a page boundary). The next
		// OpenFileJournal drops it; its call was never sent.
		v.torn++
	}
	for _, l := range lines[:len(lines)-1] {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		// The file's lines: {"op":"begin","entry":{...}} and
		// {"op":"settle","msg_id":...,"outcome":{...}} (payment/filejournal.go).
		var line struct {
			Op      string           `json:"op"`
			MsgID   string           `json:"msg_id"`
			Outcome *payment.Outcome `json:"outcome"`
		}
		if err := json.Unmarshal(l, &line); err != nil {
			return fmt.Errorf("%s: line %q is not a journal record: %w", v.path, l, err)
		}
		if line.Op != "settle" || line.Outcome == nil {
			continue
		}
		if prev, ok := v.outcomes[line.MsgID]; ok && prev.Code != line.Outcome.Code {
			return fmt.Errorf("%s: msg_id %s settled as %s and as %s", v.path, line.MsgID, prev.Code, line.Outcome.Code)
		}
		v.outcomes[line.MsgID] = *line.Outcome
	}
	return nil
}

func (v *fileView) outcome(_ context.Context, msgID string) (*payment.Outcome, error) {
	if o, ok := v.outcomes[msgID]; ok {
		return &o, nil
	}
	return nil, nil
}

func (v *fileView) pending(ctx context.Context) ([]payment.Entry, error) {
	j, err := payment.OpenFileJournal(v.path)
	if err != nil {
		return nil, err
	}
	defer j.Close()
	return j.Pending(ctx)
}

// redisView reads the Redis journal, which keeps settled entries.
type redisView struct{ j *redisstore.Journal }

func (redisView) snapshot() error { return nil }

func (v redisView) outcome(ctx context.Context, msgID string) (*payment.Outcome, error) {
	_, o, err := v.j.Entry(ctx, msgID)
	if errors.Is(err, redisstore.ErrNotFound) {
		return nil, nil
	}
	return o, err
}

func (v redisView) pending(ctx context.Context) ([]payment.Entry, error) { return v.j.Pending(ctx) }

// crashRun is one TestCrashRecovery run: one merchant, one journal.
type crashRun struct {
	t       *testing.T
	ctx     context.Context
	rng     *rand.Rand
	sb      *wallettest.Sandbox
	client  *wallet.Client   // the test's own
	pay     *payment.Service // the test's own, without a journal: setup and checks
	accts   *account.Service
	cfgPath string
	cfg     merchantConfig
	view    journalView

	accounts []string
	people   map[string]wallettest.TestPerson

	setup []order // made by the test itself
	all   []*trialRun
	child *child

	restarts      int
	killNextStart bool             // kill the next merchant start before it is done
	startKills    []string         // kills during a start: its last event then
	openTime      time.Duration    // from starting a merchant process to its journal open, summed
	recoverTime   time.Duration    // from the journal open to the end of Recover, summed
	recovered     payment.Recovery // summed over the restarts
	callTime      time.Duration    // how long a call takes, from the trial's line to Settle (a moving average)
	outcomes      map[string]int   // trials by the outcome the journal settled
	kills         int              // trials killed so far
	tornSide      int              // side log records a kill cut in the middle
}

// trialRun is a planned trial and what became of it.
type trialRun struct {
	trial
	point   string
	refused bool   // the amount is one the bank refuses
	result  *event // the merchant's report, when it made one
	killed  bool
	reached string // random moment: the merchant's last event before the kill
}

func runCrash(t *testing.T, url string, kills int, journal func(cfg *merchantConfig, dir string) journalView) {
	ctx := context.Background()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := &crashRun{t: t, ctx: ctx, rng: rand.New(rand.NewPCG(seed, seed^0x5eed)), people: map[string]wallettest.TestPerson{},
		callTime: 20 * time.Millisecond, outcomes: map[string]int{}}

	key, err := sign.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	r.sb, err = wallettest.Connect(ctx, url, wallettest.WithAppName("chaos-crash"), wallettest.WithMerchantKey(key))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.sb.Close() })
	c, err := wallet.NewClient(r.sb.Config, wallet.WithBackoff(20*time.Millisecond, 200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	r.client, r.pay, r.accts = c, payment.New(c), account.New(c)

	keyPEM, err := key.MarshalPEM()
	if err != nil {
		t.Fatal(err)
	}
	r.cfg = merchantConfig{BaseURL: url, AppID: r.sb.Config.AppID, MerchantID: r.sb.Config.MerchantID, KeyPEM: string(keyPEM), BankKeys: map[string]string{}}
	for id, k := range r.sb.Config.BankKeys {
		p, err := k.MarshalPEM()
		if err != nil {
			t.Fatal(err)
		}
		r.cfg.BankKeys[id] = string(p)
	}
	dir := t.TempDir()
	r.cfg.SideLog = filepath.Join(dir, "side.jsonl")
	r.view = journal(&r.cfg, dir)
	r.cfgPath = filepath.Join(dir, "merchant.json")
	b, _ := json.Marshal(r.cfg)
	if err := os.WriteFile(r.cfgPath, b, 0o600); err != nil {
		t.Fatal(err)
	}

	for range 4 {
		p := wallettest.Person()
		a, err := wallettest.Open(ctx, c, p)
		if err != nil {
			t.Fatal(err)
		}
		r.accounts = append(r.accounts, a.AccountNo)
		r.people[a.AccountNo] = p
		r.setupRecharge(a.AccountNo, 200_000)
	}

	start := time.Now()
	r.all = r.plan(kills)
	for _, tr := range r.all {
		r.run(tr)
		if t.Failed() {
			break
		}
	}
	// The last restart: Recover settles what the last kill left.
	r.startChild()
	if err := r.child.stop(30 * time.Second); err != nil {
		t.Errorf("the last merchant process: %v", err)
	}
	r.child = nil
	elapsed := time.Since(start)

	if err := r.view.snapshot(); err != nil {
		t.Fatal(err)
	}
	r.verify()
	r.report(elapsed)
}

// plan lists the trials: every kind killed at every point in turn (the
// two "after commit" ways alternating) until kills, one random-moment kill per
// five, one trial of each kind that is not killed, and six that fail
// (refused by the bank, or never sent) which the merchant reports, early
// on, followed by a top-up of every account that would let them through
// if they were ever sent again.
func (r *crashRun) plan(kills int) []*trialRun {
	var killed []*trialRun
	for rep := 0; len(killed) < kills; rep++ {
		for _, p := range killPoints {
			for ki, k := range moneyKinds {
				pt := p
				if p == pointAfterCommit {
					pt = pointCommitDrop
					if (rep+ki)%2 == 1 {
						pt = pointCommitHeld
					}
				}
				killed = append(killed, &trialRun{trial: trial{Order: order{Kind: k}}, point: pt})
			}
		}
	}
	for i := range len(killed) / 5 {
		killed = append(killed, &trialRun{trial: trial{Order: order{Kind: moneyKinds[i%len(moneyKinds)]}}, point: pointRandom})
	}
	// One in four killed calls that can be refused is: the outcome the
	// journal settles is then the bank's refusal.
	for i, tr := range killed {
		if tr.Order.Kind != kindRecharge && i%4 == 1 {
			tr.refused = true
		}
	}
	r.rng.Shuffle(len(killed), func(i, j int) { killed[i], killed[j] = killed[j], killed[i] })

	var plain, failing []*trialRun
	for _, k := range moneyKinds {
		plain = append(plain, &trialRun{trial: trial{Order: order{Kind: k}}, point: pointNone})
	}
	for _, k := range []string{kindWithdraw, kindPay, kindTransfer, kindRefund} {
		failing = append(failing, &trialRun{trial: trial{Order: order{Kind: k}}, point: pointNone, refused: true})
	}
	for _, k := range []string{kindRecharge, kindPay} {
		failing = append(failing, &trialRun{trial: trial{Order: order{Kind: k}, DialFail: true}, point: pointNone})
	}
	third := len(killed) / 3
	out := append([]*trialRun{}, killed[:third]...)
	out = append(out, plain...)
	out = append(out, failing...)
	out = append(out, &trialRun{point: "top-up"})
	out = append(out, killed[third:]...)
	for i, tr := range out {
		tr.ID = i + 1
	}
	return out
}

// setupRecharge is a recharge the test makes itself.
func (r *crashRun) setupRecharge(acct string, amount int64) {
	r.t.Helper()
	o, err := r.pay.Recharge(r.ctx, payment.RechargeRequest{AccountNo: acct, OutTradeNo: payment.NewOutTradeNo(), Amount: amount})
	if err != nil {
		r.t.Fatal(err)
	}
	r.setup = append(r.setup, order{Kind: kindRecharge, No: o.OutTradeNo, Account: acct, Amount: amount})
}

// balance is an account's balance as the bank says.
func (r *crashRun) balance(acct string) int64 {
	r.t.Helper()
	a, err := r.accts.Query(r.ctx, acct)
	if err != nil {
		r.t.Fatal(err)
	}
	return a.Balance
}

// fill makes the trial's order: accounts, amount, and for a refund the PAY
// order the test makes first.
func (r *crashRun) fill(tr *trialRun) {
	o := &tr.Order
	o.Account = r.accounts[r.rng.IntN(len(r.accounts))]
	o.Amount = 100 + r.rng.Int64N(4900)
	o.No = payment.NewOutTradeNo()
	switch o.Kind {
	case kindTransfer:
		for o.Payee = o.Account; o.Payee == o.Account; {
			o.Payee = r.accounts[r.rng.IntN(len(r.accounts))]
		}
		tr.PayeeName = string(r.people[o.Payee].Name)
	case kindRefund:
		paid := 1000 + r.rng.Int64N(9000)
		p, err := r.pay.Pay(r.ctx, payment.PayRequest{AccountNo: o.Account, OutTradeNo: payment.NewOutTradeNo(), Amount: paid,
			Subject: "chaos setup", Password: wallettest.PIN(r.t, r.client)})
		if err != nil {
			r.t.Fatal(err)
		}
		r.setup = append(r.setup, order{Kind: kindPay, No: p.OutTradeNo, Account: o.Account, Amount: paid})
		o.PaidNo, o.No = p.OutTradeNo, payment.NewOutRefundNo()
		o.Amount = 100 + r.rng.Int64N(paid-100)
		if tr.refused {
			o.Amount = paid + 1 // REFUND_AMOUNT_EXCEEDED
		}
		return
	}
	if tr.refused {
		// INSUFFICIENT_BALANCE now; enough after the top-up.
		o.Amount = r.balance(o.Account) + 1000
	}
}

// startChild starts a merchant process, which runs Recover first.
func (r *crashRun) startChild() {
	r.t.Helper()
	if err := r.view.snapshot(); err != nil {
		r.t.Fatal(err)
	}
	if r.killNextStart {
		// Kill this start, every other time while it opens the journal
		// (a FileJournal may be compacting it), else in Recover; then
		// start again.
		r.killNextStart = false
		r.child = startChild(r.t, "merchant", merchantEnv+"="+r.cfgPath)
		last := "nothing yet"
		if len(r.startKills)%2 == 0 {
			time.Sleep(time.Duration(r.rng.Int64N(int64(r.avg(r.openTime)))))
		} else if _, err := r.await("opened", 60*time.Second); err == nil {
			last = "opened"
			time.Sleep(time.Duration(r.rng.Int64N(int64(r.avg(r.recoverTime)))))
		}
		if l := r.drain(); l != "" {
			last = l
		}
		r.startKills = append(r.startKills, last)
		r.child.kill()
		if err := r.view.snapshot(); err != nil {
			r.t.Fatal(err)
		}
	}
	began := time.Now()
	r.child = startChild(r.t, "merchant", merchantEnv+"="+r.cfgPath)
	r.restarts++
	if _, err := r.await("opened", 120*time.Second); err != nil {
		r.t.Fatalf("merchant start: %v", err)
	}
	opened := time.Now()
	e, err := r.await("recovered", 120*time.Second)
	if err != nil {
		r.t.Fatalf("merchant start: %v", err)
	}
	r.openTime += opened.Sub(began)
	r.recoverTime += time.Since(opened)
	rec := e.Recovery
	r.recovered.Pending += rec.Pending
	r.recovered.Settled += rec.Settled
	r.recovered.Unknown += rec.Unknown
	r.recovered.Failures = append(r.recovered.Failures, rec.Failures...)
	if rec.Unknown > 0 || len(rec.Failures) > 0 || rec.Settled != rec.Pending {
		r.t.Errorf("Recover at restart %d: %d pending, %d settled, %d unknown, failures %v", r.restarts, rec.Pending, rec.Settled, rec.Unknown, rec.Failures)
	}
}

// avg is a sum over the completed starts divided by their number (1 ms
// before any).
func (r *crashRun) avg(sum time.Duration) time.Duration {
	if r.restarts == 0 {
		return time.Millisecond
	}
	return max(sum/time.Duration(r.restarts), time.Millisecond)
}

// await reads the merchant's events until one of kind ev, and returns it.
// A result that comes first is returned too.
func (r *crashRun) await(ev string, d time.Duration) (event, error) {
	deadline := time.Now().Add(d)
	for {
		l, err := r.child.next(time.Until(deadline))
		if err != nil {
			return event{}, fmt.Errorf("waiting for %s: %w", ev, err)
		}
		var e event
		if !decodeLine(l, "EV", &e) {
			return event{}, fmt.Errorf("the merchant printed %q", l)
		}
		if e.Ev == ev || e.Ev == "result" {
			return e, nil
		}
	}
}

// run makes one trial through the merchant process, and kills it where the
// trial says.
func (r *crashRun) run(tr *trialRun) {
	t := r.t
	if tr.point == "top-up" {
		for _, a := range r.accounts {
			r.setupRecharge(a, 1_000_000)
		}
		return
	}
	if r.child == nil {
		r.startChild()
	}
	r.fill(tr)
	path := "payment/" + tr.Order.Kind
	switch tr.point {
	case pointBeforeSend:
		tr.Pause = pauseBegin
	case pointInFlight:
		r.inject(wallettest.Fault{Kind: wallettest.FaultLatency, Path: path, Latency: inFlightLatency})
	case pointCommitDrop:
		r.inject(wallettest.Fault{Kind: wallettest.FaultDropAfterCommit, Path: path})
		tr.Pause = pauseAttemptError
	case pointCommitHeld:
		tr.Pause = pauseAnswer
	case pointAfterAnswer:
		tr.Pause = pauseSettle
	}
	line, err := json.Marshal(tr.trial)
	if err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	if _, err := r.child.stdin.Write(append(line, '\n')); err != nil {
		t.Fatalf("trial %d: writing to the merchant: %v", tr.ID, err)
	}

	switch tr.point {
	case pointNone:
		e, err := r.await("result", 120*time.Second)
		if err != nil {
			t.Fatalf("trial %d (%s): %v", tr.ID, tr.Order.Kind, err)
		}
		tr.result = &e
		if e.Outcome == "success" {
			r.callTime = (r.callTime*3 + time.Since(sent)) / 4
		}
		return
	case pointInFlight:
		e, err := r.await("sending", 60*time.Second)
		if err != nil || e.Ev != "sending" {
			t.Fatalf("trial %d (%s, %s): want the call sent, got %+v, %v", tr.ID, tr.Order.Kind, tr.point, e, err)
		}
		time.Sleep(100*time.Millisecond + time.Duration(r.rng.Int64N(int64(inFlightLatency*8/10))))
		if last := r.drain(); last == "result" {
			t.Errorf("trial %d (%s, in flight): the merchant reported the outcome before the kill", tr.ID, tr.Order.Kind)
		}
	case pointRandom:
		// Anywhere from reading the line to reporting (and a little after).
		time.Sleep(time.Duration(r.rng.Int64N(int64(r.callTime))))
		tr.reached = r.drain()
	default:
		e, err := r.await("paused", 60*time.Second)
		if err != nil || e.Ev != "paused" {
			t.Fatalf("trial %d (%s, %s): want the merchant paused, got %+v, %v", tr.ID, tr.Order.Kind, tr.point, e, err)
		}
		if tr.point == pointAfterAnswer {
			r.callTime = (r.callTime*3 + time.Since(sent)) / 4
		}
	}
	r.child.kill()
	r.child = nil
	tr.killed = true
	r.kills++
	r.killNextStart = r.kills%4 == 0
}

// drain reads what the merchant printed so far, and returns the last
// event ("" for none).
func (r *crashRun) drain() string {
	last := ""
	for {
		select {
		case l, ok := <-r.child.lines:
			if !ok {
				return last
			}
			var e event
			if decodeLine(l, "EV", &e) {
				last = e.Ev
			}
		default:
			return last
		}
	}
}

func (r *crashRun) inject(f wallettest.Fault) {
	r.t.Helper()
	if err := r.sb.InjectFault(r.ctx, f); err != nil {
		r.t.Fatal(err)
	}
}

// readSideLog reads the merchant's side log: the Begin of each msg_id and
// every outcome handed to Settle. A merchant starts its part of the log on
// a line of its own after a "start" record, so that a record a kill cut in
// the middle of its write stands alone, just before a "start": such torn
// records are counted, and anything else that does not parse is an error.
func readSideLog(path string) (begins map[string]sideRecord, settles map[string][]sideRecord, torn int, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, 0, err
	}
	begins, settles = map[string]sideRecord{}, map[string][]sideRecord{}
	var lines [][]byte
	for _, l := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(l)) > 0 {
			lines = append(lines, l)
		}
	}
	for i, l := range lines {
		var rec sideRecord
		if err := json.Unmarshal(l, &rec); err != nil {
			if i+1 == len(lines) || !bytes.Equal(lines[i+1], []byte(sideStart)) {
				return nil, nil, 0, fmt.Errorf("side log: line %q: %w", l, err)
			}
			torn++
			continue
		}
		switch rec.Op {
		case "begin":
			if _, dup := begins[rec.MsgID]; dup {
				return nil, nil, 0, fmt.Errorf("side log: msg_id %s begun twice", rec.MsgID)
			}
			begins[rec.MsgID] = rec
		case "settle":
			settles[rec.MsgID] = append(settles[rec.MsgID], rec)
		}
	}
	return begins, settles, torn, nil
}

// verify checks the books against the journal and the merchant's reports.
func (r *crashRun) verify() {
	t := r.t
	pending, err := r.view.pending(r.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range pending {
		t.Errorf("journal: %s %s still pending after the last Recover", e.Path, e.OrderNo)
	}
	begins, settles, torn, err := readSideLog(r.cfg.SideLog)
	if err != nil {
		t.Fatal(err)
	}
	r.tornSide = torn
	byOrder := map[string]string{} // order no → msg_id
	for id, b := range begins {
		if prev, dup := byOrder[b.OrderNo]; dup {
			t.Errorf("order %s was begun under two msg_ids, %s and %s", b.OrderNo, prev, id)
		}
		byOrder[b.OrderNo] = id
	}

	made := append([]order{}, r.setup...)
	var notMade []string
	for _, tr := range r.trials() {
		o := tr.Order
		id, begun := byOrder[o.No]
		outcome := "never begun"
		var result json.RawMessage
		if begun {
			// What the journal recorded; every outcome the merchant handed
			// it (the side log) must say the same.
			rec, err := r.view.outcome(r.ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if rec != nil {
				outcome, result = rec.Code, rec.Result
			}
			for _, s := range settles[id] {
				if rec == nil {
					t.Errorf("trial %d (%s %s): the merchant settled %s as %s, and the journal holds no outcome", tr.ID, o.Kind, o.No, id, s.Code)
				} else if s.Code != rec.Code {
					t.Errorf("trial %d (%s %s): the merchant settled %s as %s, the journal recorded %s", tr.ID, o.Kind, o.No, id, s.Code, rec.Code)
				}
			}
			// A Begin the kill cut short leaves no entry (Pending is
			// empty) and sent nothing: it has no outcome.
		}
		r.outcomes[outcome]++
		if outcome == "SUCCESS" {
			made = append(made, o)
			r.checkResult(tr, result)
		} else {
			notMade = append(notMade, o.No)
		}
		if res := tr.result; res != nil {
			switch res.Outcome {
			case "success":
				if outcome != "SUCCESS" {
					t.Errorf("trial %d (%s %s): the merchant reported success, the journal %q", tr.ID, o.Kind, o.No, outcome)
				}
			case "failed":
				if outcome != res.Code && !(res.Code == payment.CodeNotSent && !begun) {
					t.Errorf("trial %d (%s %s): the merchant reported %s, the journal %q", tr.ID, o.Kind, o.No, res.Code, outcome)
				}
			}
		}
	}
	bk, err := readBooks(r.ctx, r.cfg.BaseURL, r.accounts)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range bk.check(made, notMade) {
		t.Error(p)
	}
	for _, a := range r.accounts {
		if got, want := r.balance(a), bk.balance(a); got != want {
			t.Errorf("account %s: account/query says %d fen, the ledger %d", a, got, want)
		}
	}
	// Nothing the merchant reported as failed was made later.
	for _, tr := range r.trials() {
		if tr.result != nil && tr.result.Outcome == "failed" {
			if n := bk.entriesOf(tr.Order.No); n > 0 {
				t.Errorf("trial %d (%s %s): reported failed (%s), and made later (%d ledger entries)", tr.ID, tr.Order.Kind, tr.Order.No, tr.result.Code, n)
			}
		}
	}
}

// checkResult compares the outcome the journal recorded with the bank's
// order (or refund), queried now.
func (r *crashRun) checkResult(tr *trialRun, result json.RawMessage) {
	t, o := r.t, tr.Order
	if o.Kind == kindRefund {
		var got payment.Refund
		if err := json.Unmarshal(result, &got); err != nil {
			t.Errorf("trial %d: the journal's refund: %v", tr.ID, err)
			return
		}
		bank, err := r.pay.QueryRefund(r.ctx, o.No)
		if err != nil {
			t.Errorf("trial %d: the bank's refund %s: %v", tr.ID, o.No, err)
			return
		}
		if got.RefundNo != bank.RefundNo || got.Amount != o.Amount || bank.Amount != o.Amount || got.OutTradeNo != o.PaidNo {
			t.Errorf("trial %d: the journal says refund %+v, the bank %+v", tr.ID, got, bank)
		}
		if tr.result != nil && tr.result.Outcome == "success" && tr.result.TradeNo != bank.RefundNo {
			t.Errorf("trial %d: the merchant was told refund %s, the bank has %s", tr.ID, tr.result.TradeNo, bank.RefundNo)
		}
		return
	}
	var got payment.Order
	if err := json.Unmarshal(result, &got); err != nil {
		t.Errorf("trial %d: the journal's order: %v", tr.ID, err)
		return
	}
	bank, err := r.pay.Query(r.ctx, o.No)
	if err != nil {
		t.Errorf("trial %d: the bank's order %s: %v", tr.ID, o.No, err)
		return
	}
	if got.TradeNo != bank.TradeNo || got.Amount != o.Amount || bank.Amount != o.Amount || got.AccountNo != o.Account ||
		string(got.Type) != strings.ToUpper(o.Kind) || got.PayeeAccountNo != o.Payee {
		t.Errorf("trial %d: the journal says order %+v, the bank %+v", tr.ID, got, bank)
	}
	if tr.result != nil && tr.result.Outcome == "success" && tr.result.TradeNo != bank.TradeNo {
		t.Errorf("trial %d: the merchant was told order %s, the bank has %s", tr.ID, tr.result.TradeNo, bank.TradeNo)
	}
}

// trials are the money-call trials (not the top-up).
func (r *crashRun) trials() []*trialRun {
	var out []*trialRun
	for _, tr := range r.all {
		if tr.Order.Kind != "" && tr.Order.No != "" {
			out = append(out, tr)
		}
	}
	return out
}

// report logs what the run did: kills per point and kind, the merchant's
// reports, the recoveries.
func (r *crashRun) report(elapsed time.Duration) {
	perPoint := map[string]map[string]int{}
	total := 0
	var reported = map[string]int{}
	reached := map[string]int{}
	for _, tr := range r.trials() {
		if tr.killed {
			if perPoint[tr.point] == nil {
				perPoint[tr.point] = map[string]int{}
			}
			perPoint[tr.point][tr.Order.Kind]++
			total++
			if tr.point == pointRandom {
				if tr.reached == "" {
					tr.reached = "nothing yet"
				}
				reached[tr.reached]++
			}
		}
		if tr.result != nil {
			k := tr.result.Outcome
			if tr.result.Code != "" {
				k += " " + tr.result.Code
			}
			reported[k]++
		}
	}
	points := make([]string, 0, len(perPoint))
	for p := range perPoint {
		points = append(points, p)
	}
	sort.Strings(points)
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s: %d kills around calls (and %d during restarts) in %v, %d merchant starts (%v to open the journal, %v to Recover, on average); "+
		"Recover settled %d of %d pending entries (%d unknown)\n",
		r.t.Name(), total, len(r.startKills), elapsed.Round(time.Millisecond), r.restarts, r.avg(r.openTime).Round(time.Millisecond), r.avg(r.recoverTime).Round(time.Millisecond),
		r.recovered.Settled, r.recovered.Pending, r.recovered.Unknown)
	for _, p := range points {
		n := 0
		for _, c := range perPoint[p] {
			n += c
		}
		fmt.Fprintf(&sb, "  %-55s %3d  (%s)\n", p, n, kindCounts(perPoint[p]))
	}
	fmt.Fprintf(&sb, "  random-moment kills, by the merchant's last event before the kill: %s\n", kindCounts(reached))
	startKills := map[string]int{}
	for _, e := range r.startKills {
		startKills[e]++
	}
	fmt.Fprintf(&sb, "  %-55s %3d  (by the last event before the kill: %s)\n", "during a restart (opening the journal, Recover)", len(r.startKills), kindCounts(startKills))
	fmt.Fprintf(&sb, "  calls the merchant reported (not killed): %s\n", kindCounts(reported))
	tornJournal := 0
	if fv, ok := r.view.(*fileView); ok {
		tornJournal = fv.torn
	}
	fmt.Fprintf(&sb, "  writes a kill cut in the middle: %d journal lines (dropped by the next OpenFileJournal), %d side log records\n", tornJournal, r.tornSide)
	fmt.Fprintf(&sb, "  outcomes the journal settled, all trials: %s (a call's typical time: %v)", kindCounts(r.outcomes), r.callTime.Round(time.Millisecond))
	r.t.Log(sb.String())
}
