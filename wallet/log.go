package wallet

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/core"
)

const (
	levelDebug = slog.LevelDebug
	levelInfo  = slog.LevelInfo
	levelWarn  = slog.LevelWarn
)

// logCall writes the one line a call leaves: path, msg_id, code, attempts,
// latency. Never a body, key or personal value.
func (c *Client) logCall(ctx context.Context, cl *call, err error, d time.Duration) {
	level := levelInfo
	code := codeSuccess
	var apiErr *APIError
	var te *TransportError
	switch {
	case errors.As(err, &apiErr):
		code = string(apiErr.Code)
	case errors.As(err, &te):
		level = levelWarn
		code = "OUTCOME_UNKNOWN"
		if !te.Sent {
			code = "NOT_SENT"
		}
	case err != nil:
		level = levelWarn
		code = "ERROR"
	}
	if !c.core.Log.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("path", cl.path),
		slog.String("msg_id", cl.msgID),
		slog.String("code", code),
		slog.Int("attempts", cl.attempts),
		slog.Duration("latency", d),
		slog.Bool("encrypted", cl.encrypt),
	}
	if cl.status != 0 {
		attrs = append(attrs, slog.Int("http_status", cl.status))
	}
	if te != nil {
		attrs = append(attrs, slog.String("error", te.Err.Error()))
	}
	c.core.Log.LogAttrs(ctx, level, "wallet call", attrs...)
}

// logAttempt writes a debug line for an attempt that will be retried.
func (c *Client) logAttempt(cl *call) {
	ctx := context.Background()
	if !c.core.Log.Enabled(ctx, levelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("path", cl.path),
		slog.String("msg_id", cl.msgID),
		slog.Int("attempt", cl.attempts),
		slog.Duration("latency", time.Since(cl.attemptStart)),
	}
	switch {
	case cl.apiErr != nil:
		attrs = append(attrs, slog.String("code", string(cl.apiErr.Code)))
	case cl.err != nil:
		attrs = append(attrs, slog.Int("http_status", cl.status), slog.String("error", cl.err.Error()))
	}
	c.core.Log.LogAttrs(ctx, levelDebug, "wallet attempt failed, retrying", attrs...)
}

func errAttr(err error) slog.Attr { return slog.String("error", err.Error()) }

func attrKeys(keys []core.BankKey) slog.Attr {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	return slog.Any("key_ids", ids)
}
