package wallet

import (
	"context"
	"log/slog"

	"github.com/xinyun-open/ewallet-go/internal/mask"
	"github.com/xinyun-open/ewallet-go/internal/rules"
)

const pathQuery = "wallet/query"

// QueryRequest asks whether a person has an e-account in this merchant's
// channel (我的钱包). All fields are required.
type QueryRequest struct {
	IDNumber IDNumber `json:"id_number"`
	Mobile   Mobile   `json:"mobile"`
	UserID   string   `json:"user_id"` // the merchant's own user id
}

// Validate checks the request as the bank would, without the network.
func (r QueryRequest) Validate() error {
	if err := fieldCheck("id_number", rules.IDNumber(string(r.IDNumber))); err != nil {
		return err
	}
	if err := fieldCheck("mobile", rules.Mobile(string(r.Mobile))); err != nil {
		return err
	}
	return fieldCheck("user_id", rules.UserID(r.UserID))
}

// LogValue makes slog print the masked form, whatever the handler.
func (r QueryRequest) LogValue() slog.Value { return mask.Value(r) }

// Query looks up a person's wallet: whether an account is open in this
// channel and, if so, its number, status, balance and bound card.
//
// API: POST /api/v1/wallet/query (encrypted). Read-only, so an error for
// which IsOutcomeUnknown(err) is true can simply be retried.
// Errors: a *FieldError for bad input; ErrParamInvalid and the gateway codes.
func (c *Client) Query(ctx context.Context, req QueryRequest) (*QueryResponse, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	var r QueryResponse
	if err := c.Do(ctx, pathQuery, req, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
