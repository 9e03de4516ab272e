package storetest

import (
	"os"
	"testing"
	"time"

	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/wallet/notify"
)

// RedisAddr is the address of the test Redis: EWALLET_REDIS_ADDR, which
// `.ci/services start` exports. Without it the test skips, unless
// EWALLET_REQUIRE_SERVERS=1 (as in CI), where that is a failure.
func RedisAddr(t *testing.T) string { return fromEnv(t, "Redis", "EWALLET_REDIS_ADDR") }

// PostgresDSN is the test PostgreSQL's DSN: EWALLET_POSTGRES_DSN, as
// RedisAddr.
func PostgresDSN(t *testing.T) string { return fromEnv(t, "PostgreSQL", "EWALLET_POSTGRES_DSN") }

func fromEnv(t *testing.T, server, env string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		if os.Getenv("EWALLET_REQUIRE_SERVERS") == "1" {
			t.Fatalf("no %s server: %s is not set, and EWALLET_REQUIRE_SERVERS=1 (start one with: eval \"$(.ci/services start)\")", server, env)
		}
		t.Skipf("no %s server: set %s to run this test (eval \"$(.ci/services start)\" starts one), or EWALLET_REQUIRE_SERVERS=1 to make this a failure", server, env)
	}
	return v
}

// TestClosed checks a Deduper and a Journal whose connection the
// application closed (shutting down): a store that is down, so every
// method errors, and Claim never reports a false "done".
func TestClosed(t *testing.T, d notify.Deduper, j payment.Journal) {
	t.Helper()
	ctx := t.Context()
	if done, err := d.Claim(ctx, "N1", "o1", time.Minute); done || err == nil {
		t.Errorf("Claim on a closed store = (%v, %v), want (false, an error)", done, err)
	}
	if err := d.Release(ctx, "N1", "o1", true); err == nil {
		t.Error("Release on a closed store = nil, want an error")
	}
	if err := j.Begin(ctx, NewEntry(time.Now())); err == nil {
		t.Error("Begin on a closed store = nil, want an error")
	}
	if err := j.Settle(ctx, "M1", payment.Outcome{Code: "SUCCESS"}); err == nil {
		t.Error("Settle on a closed store = nil, want an error")
	}
	if _, err := j.Pending(ctx); err == nil {
		t.Error("Pending on a closed store = nil, want an error")
	}
}
