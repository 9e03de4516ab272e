// Package endpoint is the one shape of the SDK's endpoint methods:
// validate the request locally, make the call, decode the answer.
package endpoint

import (
	"context"

	"github.com/xinyun-open/ewallet-go/wallet"
)

// Request is a request that checks itself before any network call.
type Request interface{ Validate() error }

// Call validates req and calls path through c, decoding the answer into a
// new T. A request that fails validation is never sent.
func Call[T any](ctx context.Context, c *wallet.Client, path string, req Request, opts ...wallet.CallOption) (*T, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	var out T
	if err := c.Do(ctx, path, req, &out, opts...); err != nil {
		return nil, err
	}
	return &out, nil
}
