package redisstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/wallet/notify"
	"github.com/xinyun-open/ewallet-go/wallet/redisstore"
	"github.com/xinyun-open/ewallet-go/wallet/storetest"
)

var ctx = context.Background()

// connect opens a client of its own, as each instance of a merchant has.
func connect(t *testing.T, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// prefix is the key prefix of a test namespace; the keys under it are
// removed when the test ends.
func prefix(t *testing.T, addr, ns string) string {
	p := "ewallet-test:" + ns + ":"
	t.Cleanup(func() {
		c := redis.NewClient(&redis.Options{Addr: addr})
		defer c.Close()
		iter := c.Scan(context.Background(), 0, p+"*", 1000).Iterator()
		for iter.Next(context.Background()) {
			c.Del(context.Background(), iter.Val())
		}
	})
	return p
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// downClient is a client of a Redis that refuses connections. It gives up
// after one attempt (go-redis's defaults take about 2 s), to keep the test
// short; the answer is the same.
func downClient(t *testing.T) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: closedAddr(t), MaxRetries: -1, DialerRetries: 1})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestMain silences go-redis's logger, which reports every refused dial of
// the tests of a Redis that is down.
func TestMain(m *testing.M) {
	redis.SetLogger(quiet{})
	os.Exit(m.Run())
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

func TestDeduperContract(t *testing.T) {
	t.Parallel()
	addr := storetest.RedisAddr(t)
	storetest.TestDeduper(t, storetest.DeduperStore{
		Open: func(t *testing.T, ns string, retention time.Duration) notify.Deduper {
			var opts []redisstore.DeduperOption
			if retention > 0 {
				opts = append(opts, redisstore.WithRetention(retention))
			}
			d, err := redisstore.NewDeduper(connect(t, addr), prefix(t, addr, ns), opts...)
			if err != nil {
				t.Fatal(err)
			}
			return d
		},
		Down: func(t *testing.T) notify.Deduper {
			d, err := redisstore.NewDeduper(downClient(t), "ewallet-test:down:")
			if err != nil {
				t.Fatal(err)
			}
			return d
		},
		Hung: func(t *testing.T) notify.Deduper {
			d, err := redisstore.NewDeduper(connect(t, storetest.HungServer(t)), "ewallet-test:hung:")
			if err != nil {
				t.Fatal(err)
			}
			return d
		},
	})
}

func TestJournalContract(t *testing.T) {
	t.Parallel()
	addr := storetest.RedisAddr(t)
	storetest.TestJournal(t, storetest.JournalStore{
		Open: func(t *testing.T, ns string) payment.Journal {
			j, err := redisstore.NewJournal(connect(t, addr), prefix(t, addr, ns))
			if err != nil {
				t.Fatal(err)
			}
			return j
		},
		Down: func(t *testing.T) payment.Journal {
			j, err := redisstore.NewJournal(downClient(t), "ewallet-test:down:")
			if err != nil {
				t.Fatal(err)
			}
			return j
		},
		Hung: func(t *testing.T) payment.Journal {
			j, err := redisstore.NewJournal(connect(t, storetest.HungServer(t)), "ewallet-test:hung:")
			if err != nil {
				t.Fatal(err)
			}
			return j
		},
		Outcome: func(t *testing.T, j payment.Journal, _, msgID string) *payment.Outcome {
			_, o, err := j.(*redisstore.Journal).Entry(ctx, msgID)
			if err != nil && !errors.Is(err, redisstore.ErrNotFound) {
				t.Fatal(err)
			}
			return o
		},
	})
}

// A client that was closed (the application shutting down) is a store
// that is down too: errors, never a false "done".
func TestClosedClient(t *testing.T) {
	t.Parallel()
	addr := storetest.RedisAddr(t)
	c := redis.NewClient(&redis.Options{Addr: addr})
	d, err := redisstore.NewDeduper(c, "ewallet-test:closed:")
	if err != nil {
		t.Fatal(err)
	}
	j, err := redisstore.NewJournal(c, "ewallet-test:closed:")
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	storetest.TestClosed(t, d, j)
}

// The keys are the ones the package documentation lists, with the
// documented expiries.
func TestKeys(t *testing.T) {
	t.Parallel()
	addr := storetest.RedisAddr(t)
	c := connect(t, addr)
	p := prefix(t, addr, storetest.Namespace())
	d, err := redisstore.NewDeduper(c, p, redisstore.WithRetention(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Claim(ctx, "N1", "owner-a", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	requireKey(t, c, p+"notify:N1", "owner:owner-a", 29*time.Second, 30*time.Second)
	if err := d.Release(ctx, "N1", "owner-a", true); err != nil {
		t.Fatal(err)
	}
	requireKey(t, c, p+"notify:N1", "done", time.Hour-time.Second, time.Hour)

	j, err := redisstore.NewJournal(c, p, redisstore.WithSettledRetention(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	e := storetest.NewEntry(time.Now())
	if err := j.Begin(ctx, e); err != nil {
		t.Fatal(err)
	}
	key := p + "{journal}:entry:" + e.MsgID
	if ttl := c.PTTL(ctx, key).Val(); ttl != -1 {
		t.Errorf("a pending entry expires in %v, want never", ttl)
	}
	var stored payment.Entry
	if err := json.Unmarshal([]byte(c.HGet(ctx, key, "entry").Val()), &stored); err != nil || stored.MsgID != e.MsgID {
		t.Errorf("field entry of %s = %+v, %v; want the entry as JSON", key, stored, err)
	}
	if s := c.ZScore(ctx, p+"{journal}:pending", e.MsgID).Val(); s != float64(e.Begun.UnixMicro()) {
		t.Errorf("pending score %v, want the begin time in µs %v", s, e.Begun.UnixMicro())
	}
	if err := j.Settle(ctx, e.MsgID, payment.Outcome{Code: "SUCCESS", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if ttl := c.PTTL(ctx, key).Val(); ttl < 47*time.Hour || ttl > 48*time.Hour {
		t.Errorf("a settled entry expires in %v, want the settled retention (48h)", ttl)
	}
	if n := c.ZCard(ctx, p+"{journal}:pending").Val(); n != 0 {
		t.Errorf("%d entries left in the pending set after Settle", n)
	}
	var o payment.Outcome
	if err := json.Unmarshal([]byte(c.HGet(ctx, key, "outcome").Val()), &o); err != nil || o.Code != "SUCCESS" {
		t.Errorf("field outcome = %+v, %v; want the outcome as JSON", o, err)
	}
}

func requireKey(t *testing.T, c *redis.Client, key, value string, minTTL, maxTTL time.Duration) {
	t.Helper()
	if v := c.Get(ctx, key).Val(); v != value {
		t.Errorf("%s = %q, want %q", key, v, value)
	}
	if ttl := c.PTTL(ctx, key).Val(); ttl < minTTL || ttl > maxTTL {
		t.Errorf("%s expires in %v, want between %v and %v", key, ttl, minTTL, maxTTL)
	}
}

func TestNewRefusesBadArguments(t *testing.T) {
	t.Parallel()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	for name, tc := range map[string]struct {
		err   error
		field string
	}{
		"nil client":         {err2(redisstore.NewDeduper(nil, "p:")), "nil redis client"},
		"empty prefix":       {err2(redisstore.NewDeduper(c, "")), "prefix"},
		"short retention":    {err2(redisstore.NewDeduper(c, "p:", redisstore.WithRetention(0))), "WithRetention"},
		"nil option":         {err2(redisstore.NewDeduper(c, "p:", nil)), "nil DeduperOption"},
		"journal nil client": {err2(redisstore.NewJournal(nil, "p:")), "nil redis client"},
		"journal prefix":     {err2(redisstore.NewJournal(c, "")), "prefix"},
		"journal retention":  {err2(redisstore.NewJournal(c, "p:", redisstore.WithSettledRetention(-time.Hour))), "WithSettledRetention"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.field) {
			t.Errorf("%s: error %v, want one naming %q", name, tc.err, tc.field)
		}
	}
	d, _ := redisstore.NewDeduper(c, "p:")
	for name, err := range map[string]error{
		"notify_id": err2(d.Claim(ctx, "", "o", time.Minute)),
		"owner":     err2(d.Claim(ctx, "N", "", time.Minute)),
		"lease":     err2(d.Claim(ctx, "N", "o", time.Microsecond)),
	} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("Claim without a good %s: %v, want an error naming it", name, err)
		}
	}
}

func err2[T any](_ T, err error) error { return err }

// Begin is durable when Redis is configured as the package documentation
// says: an entry begun survives the server's crash (SIGKILL, no shutdown)
// and restart. This starts a redis-server of its own.
func TestJournalSurvivesRedisCrash(t *testing.T) {
	t.Parallel()
	storetest.RedisAddr(t) // the same requirement as the other tests: a Redis to test with
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not on PATH: cannot crash a server of this test's own")
	}
	dir := t.TempDir()
	addr := closedAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", port, "--dir", dir,
			"--appendonly", "yes", "--appendfsync", "always", "--save", "", "--logfile", filepath.Join(dir, "log"))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		c := redis.NewClient(&redis.Options{Addr: addr})
		defer c.Close()
		for i := 0; c.Ping(ctx).Err() != nil; i++ {
			if i > 200 {
				log, _ := os.ReadFile(filepath.Join(dir, "log"))
				t.Fatalf("redis-server did not start: %s", log)
			}
			time.Sleep(25 * time.Millisecond)
		}
		return cmd
	}
	cmd := start()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	j, err := redisstore.NewJournal(c, "crash:")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	base := time.Now()
	for i := range 50 {
		e := storetest.NewEntry(base.Add(time.Duration(i) * time.Millisecond))
		if err := j.Begin(ctx, e); err != nil {
			t.Fatal(err)
		}
		want = append(want, e.MsgID)
		if i%5 == 0 {
			if err := j.Settle(ctx, e.MsgID, payment.Outcome{Code: "SUCCESS"}); err != nil {
				t.Fatal(err)
			}
			want = want[:len(want)-1]
		}
	}
	// Crash right after the last Begin returned.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	c.Close()

	start()
	j2, err := redisstore.NewJournal(connect(t, addr), "crash:")
	if err != nil {
		t.Fatal(err)
	}
	got, err := j2.Pending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("after a crash %d entries are pending, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].MsgID != want[i] {
			t.Fatalf("after a crash pending[%d] = %s, want %s", i, got[i].MsgID, want[i])
		}
	}
}

// Four receivers and two payment services of one merchant share one Redis.
func TestFleet(t *testing.T) {
	t.Parallel()
	addr := storetest.RedisAddr(t)
	p := prefix(t, addr, storetest.Namespace())
	rep := storetest.Fleet{}.Run(t,
		func(t *testing.T) notify.Deduper {
			d, err := redisstore.NewDeduper(connect(t, addr), p)
			if err != nil {
				t.Fatal(err)
			}
			return d
		},
		func(t *testing.T) payment.Journal {
			j, err := redisstore.NewJournal(connect(t, addr), p)
			if err != nil {
				t.Fatal(err)
			}
			return j
		})
	t.Log("fleet over Redis: " + rep.String())
}
