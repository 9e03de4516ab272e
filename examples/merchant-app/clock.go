package main

import (
	"context"
	"fmt"
	"time"

	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// sandboxClock reads and moves the sandbox bank's business clock
// (docs/protocol.md, section 11.5). Moving it past midnight ends a business
// day, whose statement can then be fetched (section 12.1).
type sandboxClock struct {
	sb *wallettest.Sandbox
}

func newSandboxClock(sb *wallettest.Sandbox) *sandboxClock { return &sandboxClock{sb: sb} }

// businessZone is UTC+8, the zone of the bank's business days.
func businessZone() *time.Location { return time.FixedZone("UTC+8", 8*3600) }

// Now is the bank's business time: the embedded sandbox's own clock, or
// what Connect and the app's moves learnt of a standalone one's.
func (c *sandboxClock) Now(context.Context) (time.Time, error) {
	if c.sb.Server != nil {
		return c.sb.Server.BusinessNow(), nil
	}
	return c.sb.Now(), nil
}

// Advance moves the business clock forward by d (the control API's
// POST /sandbox/clock, embedded or standalone) and returns the new time.
func (c *sandboxClock) Advance(ctx context.Context, d time.Duration) (time.Time, error) {
	if d < 0 {
		return time.Time{}, fmt.Errorf("the business clock never runs backwards (%v)", d)
	}
	return c.sb.AdvanceClock(ctx, d)
}
