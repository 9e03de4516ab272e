package statement

import (
	"context"
	"fmt"

	"github.com/xinyun-open/ewallet-go/internal/core"
	"github.com/xinyun-open/ewallet-go/internal/endpoint"
	"github.com/xinyun-open/ewallet-go/wallet"
)

// Fetch is the daily job's one call: it asks the bank for the statement of
// req.Date (bill/download, signed and verified like every call, the answer
// checked to be for that day and type), opens the file key with the
// client's key (in memory, or a remote sign.Signer), and downloads the
// file through the client's transport as a stream that Download checks and
// resumes. Range over Trades (or Ledger), or Reconcile, then check
// Complete: records are handed out as their segments open, but the
// statement is complete only once the whole file matched the descriptor.
//
// Errors: a *wallet.FieldError for a bad request; wallet.ErrBillNotReady
// while the day has not ended (ask again later); the errors of Download.
func Fetch(ctx context.Context, c *wallet.Client, req Request, opts ...Option) (*Statement, error) {
	cc, err := core.Bridge.Core(c)
	if err != nil {
		return nil, fmt.Errorf("statement: %w", err)
	}
	d, err := endpoint.Call[Descriptor](ctx, c, API, req)
	if err != nil {
		return nil, err
	}
	key, err := OpenKey(ctx, cc.Key, *d)
	if err != nil {
		return nil, fmt.Errorf("statement: opening the file key: %w", err)
	}
	return Download(ctx, HTTPGet(cc.HTTP, FileURL(cc.BaseURL, d.FileID)), key, *d, opts...)
}
