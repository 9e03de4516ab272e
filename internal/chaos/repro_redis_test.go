package chaos

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/redisstore"
	"github.com/xinyun-open/ewallet-go/wallet/storetest"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// TestJournalBeginReplyLost reproduces an SDK bug: a journal's Begin that
// is recorded but whose reply is lost. With Toxiproxy between the payment
// service and Redis, holding Redis's replies longer than the call's
// deadline, Begin's script runs in Redis and Begin returns the deadline
// error. journaled (payment/journal.go:84-87) takes any Begin error for
// "nothing was sent, the outcome is known" and returns an error that is
// not an unknown outcome: the merchant is told the recharge failed. But
// the entry is pending in Redis, so the next Recover sends the recharge,
// and the money moves. (sqlstore's INSERT whose commit reply is lost is the
// same case.)
//
// Fixed: a Begin that fails is now an unknown outcome. It needs a Redis
// (EWALLET_REDIS_ADDR).
func TestJournalBeginReplyLost(t *testing.T) {
	addr := storetest.RedisAddr(t)
	ctx := context.Background()
	srv := wallettest.NewServer(t, wallettest.WithoutNotifyReceiver())
	acct := srv.OpenAccount(wallettest.Person())
	p := newToxiproxy(t, "redis", addr)
	rdb := redis.NewClient(&redis.Options{Addr: p.Listen, ContextTimeoutEnabled: true, MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	j, err := redisstore.NewJournal(rdb, fmt.Sprintf("chaos-repro-%d:", time.Now().UnixNano()))
	if err != nil {
		t.Fatal(err)
	}
	svc := payment.New(srv.Client(), payment.WithJournal(j))
	// A service at work: one recharge through the journal, which also
	// loads its scripts into Redis (a later Begin is one EVALSHA).
	if _, err := svc.Recharge(ctx, payment.RechargeRequest{AccountNo: acct, OutTradeNo: payment.NewOutTradeNo(), Amount: 1000}); err != nil {
		t.Fatal(err)
	}

	addToxics(t, p, 1, toxic{Type: "latency", Stream: "downstream", Attributes: map[string]any{"latency": 1000}})
	no := payment.NewOutTradeNo()
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err = svc.Recharge(cctx, payment.RechargeRequest{AccountNo: acct, OutTradeNo: no, Amount: 1000})
	cancel()
	if err == nil {
		t.Fatal("the recharge succeeded with Redis's replies held 1 s past a 300 ms deadline")
	}
	unknown := wallet.IsOutcomeUnknown(err)
	t.Logf("the merchant was told: %v (outcome unknown: %v)", err, unknown)
	if !unknown {
		t.Errorf("a Begin whose reply was lost was reported as a failure, not an unknown outcome: %v", err)
	}
	time.Sleep(1200 * time.Millisecond) // the held reply drains
	clearToxics(p)

	rec, err := svc.Recover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	o, qerr := svc.Query(ctx, no)
	made := qerr == nil
	t.Logf("Recover: %d pending, %d settled; the bank holds the order: %v", rec.Pending, rec.Settled, made)
	if made && !unknown {
		t.Errorf("the recharge %s was reported failed (not an unknown outcome), and Recover made it later (trade_no %s)", no, o.TradeNo)
	}
	if qerr != nil && !errors.Is(qerr, wallet.ErrOrderNotFound) {
		t.Fatal(qerr)
	}
}
