package account

import (
	"context"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/endpoint"
	"github.com/xinyun-open/ewallet-go/wallet"
)

const (
	pathSMS        = "account/sms/send"
	pathVerify     = "account/verify"
	pathOpen       = "account/open"
	pathQuery      = "account/query"
	pathChangeCard = "account/card/change"
	pathReset      = "account/password/reset"
	pathClose      = "account/close"
)

// Service opens and manages users' Class II e-accounts.
type Service struct {
	c *wallet.Client
}

// New returns the account service of a client. A nil client gives a
// Service whose calls fail with an error saying so.
func New(c *wallet.Client) *Service { return &Service{c: c} }

// SendSMS texts a verification code for scene to mobile.
//
// API: POST /api/v1/account/sms/send (encrypted). Each call sends a new
// code; the bank allows one a minute and ten a day per mobile and scene.
// Errors: ErrSMSTooFrequent.
func (s *Service) SendSMS(ctx context.Context, req SendSMSRequest) (*SMS, error) {
	return endpoint.Call[SMS](ctx, s.c, pathSMS, req)
}

// Verify checks the four factors with the card's issuer and returns a token
// for OpenAccount.
//
// API: POST /api/v1/account/verify (encrypted). Errors:
// ErrFourFactorMismatch, ErrCardNotSupported (a credit card),
// ErrAgeRestricted (under 16), ErrVerifyLimitExceeded (five failures today
// for this identity number).
func (s *Service) Verify(ctx context.Context, req VerifyRequest) (*Verification, error) {
	return endpoint.Call[Verification](ctx, s.c, pathVerify, req)
}

// OpenAccount opens the user's Class II e-account and binds the verified
// debit card.
//
// API: POST /api/v1/account/open (encrypted, to the bank key of the PIN).
// Errors: ErrAccountAlreadyOpened (one account per person per merchant),
// ErrVerifyTokenInvalid, ErrSMSCodeInvalid, ErrSMSCodeExpired,
// ErrFaceMismatch, ErrPasswordWeak, ErrAgeRestricted, ErrCardNotSupported.
// The verify token and SMS code are used up only when it succeeds.
//
// When wallet.IsOutcomeUnknown(err), send the same request again under the
// same msg_id: make one with wallet.NewMsgID, keep it with the request,
// and pass wallet.WithMsgID(id) to every try. The bank acts on a msg_id at
// most once and answers a repeat from its memory of it (24 hours), so the
// repeat returns the account whether the first try opened it or not. Do
// not decide from wallet.Client.Query alone: it can say "not opened" while
// the first try is still on its way to the bank.
func (s *Service) OpenAccount(ctx context.Context, req OpenRequest, opts ...wallet.CallOption) (*wallet.Account, error) {
	return endpoint.Call[wallet.Account](ctx, s.c, pathOpen, req, opts...)
}

// Query returns an account with its balance, bound card and limit usage.
//
// API: POST /api/v1/account/query. Errors: ErrAccountNotFound (also for an
// account of another merchant's channel).
func (s *Service) Query(ctx context.Context, accountNo string) (*wallet.Account, error) {
	return endpoint.Call[wallet.Account](ctx, s.c, pathQuery, queryRequest{AccountNo: accountNo})
}

// ChangeCard binds a new debit card in place of the current one.
//
// API: POST /api/v1/account/card/change (encrypted, to the bank key of the
// PIN). Needs an SMS of SceneChangeCard sent to the new card's mobile.
// Errors: ErrCardNotSupported, ErrSMSCodeInvalid, ErrSMSCodeExpired,
// ErrPasswordIncorrect, ErrPasswordLocked, ErrAccountFrozen,
// ErrAccountClosed, ErrAccountNotFound.
//
// Like every call that changes something, it takes wallet.WithMsgID, to
// repeat a try whose outcome is unknown (see OpenAccount).
func (s *Service) ChangeCard(ctx context.Context, req ChangeCardRequest, opts ...wallet.CallOption) (*wallet.BoundCard, error) {
	out, err := endpoint.Call[cardChanged](ctx, s.c, pathChangeCard, req, opts...)
	if err != nil {
		return nil, err
	}
	return &out.BoundCard, nil
}

// ResetPassword sets a new trading PIN and lifts a PIN lock. It returns when
// the bank reset it.
//
// API: POST /api/v1/account/password/reset (encrypted, to the bank key of
// the new PIN). Needs an SMS of SceneResetPassword to the account's mobile.
// Errors: ErrParamInvalid (an identity number that is not the holder's),
// ErrFaceMismatch, ErrPasswordWeak, ErrSMSCodeInvalid, ErrSMSCodeExpired.
func (s *Service) ResetPassword(ctx context.Context, req ResetPasswordRequest, opts ...wallet.CallOption) (time.Time, error) {
	out, err := endpoint.Call[resetDone](ctx, s.c, pathReset, req, opts...)
	if err != nil {
		return time.Time{}, err
	}
	return out.ResetAt.Time, nil
}

// CloseAccount closes an account and returns when the bank closed it. The
// person may open a new account later.
//
// API: POST /api/v1/account/close (encrypted, to the bank key of the PIN).
// Needs an SMS of SceneClose to the account's mobile. Errors:
// ErrBalanceNotZero (withdraw first), ErrPasswordIncorrect,
// ErrPasswordLocked, ErrAccountFrozen.
func (s *Service) CloseAccount(ctx context.Context, req CloseRequest, opts ...wallet.CallOption) (time.Time, error) {
	out, err := endpoint.Call[closeDone](ctx, s.c, pathClose, req, opts...)
	if err != nil {
		return time.Time{}, err
	}
	return out.ClosedAt.Time, nil
}
