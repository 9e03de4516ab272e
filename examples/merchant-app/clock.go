package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// sandboxClock reads and moves the sandbox bank's business clock
// (docs/protocol.md, section 11.5): the embedded sandbox's through
// wallettest.Server, a standalone one's through its control API
// (POST /sandbox/clock, section 11.3). Moving it past midnight ends a
// business day, whose statement can then be fetched (section 12.1).
type sandboxClock struct {
	server *wallettest.Server // the embedded sandbox; nil for a standalone one
	url    string             // the sandbox's base URL
	hc     *http.Client
}

func newSandboxClock(sb *wallettest.Sandbox) *sandboxClock {
	return &sandboxClock{server: sb.Server, url: sb.URL, hc: &http.Client{Timeout: 10 * time.Second}}
}

// businessZone is UTC+8, the zone of the bank's business days.
func businessZone() *time.Location { return time.FixedZone("UTC+8", 8*3600) }

// Now is the bank's business time.
func (c *sandboxClock) Now(ctx context.Context) (time.Time, error) {
	if c.server != nil {
		return c.server.BusinessNow(), nil
	}
	return c.advance(ctx, 0) // advancing by nothing answers the time
}

// Advance moves the business clock forward by d and returns the new time.
func (c *sandboxClock) Advance(ctx context.Context, d time.Duration) (time.Time, error) {
	if d < 0 {
		return time.Time{}, fmt.Errorf("the business clock never runs backwards (%v)", d)
	}
	if c.server != nil {
		return c.server.AdvanceClock(d), nil
	}
	return c.advance(ctx, d)
}

func (c *sandboxClock) advance(ctx context.Context, d time.Duration) (time.Time, error) {
	body, err := json.Marshal(map[string]string{"advance": d.String()})
	if err != nil {
		return time.Time{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+"/sandbox/clock", bytes.NewReader(body))
	if err != nil {
		return time.Time{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return time.Time{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return time.Time{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return time.Time{}, fmt.Errorf("POST /sandbox/clock: HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(b))
	}
	var out struct {
		Now string `json:"now"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return time.Time{}, fmt.Errorf("POST /sandbox/clock: %w", err)
	}
	t, err := time.ParseInLocation(time.DateTime, out.Now, businessZone())
	if err != nil {
		return time.Time{}, fmt.Errorf("POST /sandbox/clock: the time %q: %w", out.Now, err)
	}
	return t, nil
}
